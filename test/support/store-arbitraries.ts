// fast-check arbitraries for a session store's contents: the keys the firmware reads, holding valid records, mutated
// ones, hostile text (long digit runs, deep JSON, huge numbers) and random bytes, beside keys of no meaning.
import fc from "fast-check";
import type { StoredEntry } from "../xs/flows/any-store-flow";

const text = (s: string): number[] => Array.from(new TextEncoder().encode(s));

const KNOWN_KEYS = [
  "s/meta", "s/in2", "s/subs", "smp.boot", "smp.seq", "smp.set", "smp.wo",
  "o/00000001", "o/00000002", "o/0000000a", "o/1x", "o/zzzzzzzz", "f/00000001", "f/00000002", "f/0000000a",
  "smp.r0000000000", "smp.r0000000001", "smp.r000000000z", "smp.rzzzzzzzzzz", "smp.r-1",
];

/** Values written as the firmware would, so that mutations of them reach past the first checks. */
const VALID: Record<string, number[][]> = {
  "s/meta": [[1, 0, 0, 0, 0, 0, 5, 0, 9]],
  "s/in2": [[0, 7, 1, 0]],
  "s/subs": [text('[["xsms/d1/cmd/#",1]]')],
  "smp.boot": [text("3")],
  "smp.seq": [text("12")],
  "smp.set": [text('{"interval":{"env":2000},"deadband":{"t":"0.5"},"heartbeatS":60}')],
  "smp.wo": [[3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
  "o/00000001": [[1, 1, 0, 16, ...text("xsms/d1/telemetry"), ...text('{"x":1}')]],
  // Written already in flight (QoS 1, awaiting PUBACK, packet id 3): the record a message sent at once leaves.
  "o/00000002": [[2, 1, 0, 16, 1, 0, 3, ...text("xsms/d1/telemetry"), ...text('{"x":2}')]],
  "f/00000001": [[1, 1, 0, 3]],
  "smp.r0000000001": [[1, 3, ...text("env"), 1, 100, 3, 10, 20, 30]],
};

const HOSTILE: number[][] = [
  text("1".repeat(20_000)),
  text("9".repeat(400) + "%"),
  text(`{"deadband":{"t":"${"1".repeat(30_000)}"}}`),
  text(`{"interval":{"env":1e308},"heartbeatS":-1}`),
  text("[".repeat(5000) + "]".repeat(5000)),
  text(`{"deadband":{"${"k".repeat(5000)}":"1"}}`),
  text(`[["${"#/".repeat(3000)}",1]]`),
  text('[["a",7],[1,1]]'),
  [0xff, 0xfe, 0x00, 0xc0, 0x80],
  [],
];

const value = (key: string): fc.Arbitrary<number[]> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...(VALID[key] ?? [[1]])) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom(...(VALID[key] ?? [[1, 2, 3]])), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: -3, max: 3 }))
        .map(([base, at, byte, grow]) => {
          const out = base.slice();
          if (out.length > 0) out[at % out.length] = byte;
          if (grow > 0) for (let i = 0; i < grow; i++) out.push(byte);
          else out.length = Math.max(0, out.length + grow);
          return out;
        }),
    },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) },
    { weight: 2, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 48 }) },
  );

const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KNOWN_KEYS) },
  { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 15 }) },
);

/** A whole store: up to 12 entries with distinct keys. */
export const storeContents: fc.Arbitrary<StoredEntry[]> = fc
  .uniqueArray(key, { maxLength: 12 })
  .chain((keys) => fc.tuple(...keys.map((k) => value(k).map((v): StoredEntry => [k, v]))))
  .map((entries) => entries as StoredEntry[]);
