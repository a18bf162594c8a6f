// The sampler's records in the store, read back at each edge of their format (the mutation run of persist.ts,
// 58.5%, found the readers' limits and messages untested): counters, settings, record keys, pending readings and
// wall-clock offsets. The module is imported afresh in each test: its limits are module-level constants, which a
// mutation test only sees change in a module loaded after it switched the mutant on.
import { describe, expect, it, vi } from "vitest";
import { MemoryStore } from "../../src/store/memory-store";
import { thrown } from "../support/thrown";

async function persist() {
  vi.resetModules();
  return import("../../src/sampler/persist");
}

const storeWith = (entries: Array<[string, Uint8Array | string]>) =>
  new MemoryStore(new Map(entries.map(([k, v]) => [k, typeof v === "string" ? new TextEncoder().encode(v) : v])));

/** The thrown error as "Name: message": a fresh import's error classes are not the ones this file could import. */
function thrownMessage(run: () => unknown): string {
  const error = thrown(Error, run);
  return `${error.name}: ${error.message}`;
}

describe("counters", () => {
  it("are 1 to 16 decimal digits", async () => {
    const { readCounter } = await persist();
    expect(readCounter(storeWith([["smp.seq", "0"]]), "smp.seq")).toBe(0);
    expect(readCounter(storeWith([["smp.seq", "9"]]), "smp.seq")).toBe(9);
    expect(readCounter(storeWith([["smp.seq", "1234567890123456"]]), "smp.seq")).toBe(1234567890123456);
    expect(readCounter(storeWith([]), "smp.seq")).toBe(0);
    for (const bad of ["", "12345678901234567", "1a", "/", ":", "-1"]) {
      expect(thrownMessage(() => readCounter(storeWith([["smp.seq", bad]]), "smp.seq"))).toBe(
        `StorageError: holds ${bad.length} byte(s) that are not a counter; delete the key to restart numbering (seq will then repeat) (key "smp.seq")`,
      );
    }
  });
});

describe("settings", () => {
  async function read(value: unknown) {
    const { readSettings } = await persist();
    const warnings: string[] = [];
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return { settings: readSettings(storeWith([["smp.set", text]]), (m) => warnings.push(m)), warnings };
  }

  it("keeps intervals of 100 ms to a day, deadbands of up to 24 characters, heartbeats of 0 s to a week", async () => {
    const ok = { interval: { a: 100, b: 86_400_000 }, deadband: { "a.t": "x".repeat(24) }, heartbeatS: 604_800 };
    expect(await read(ok)).toEqual({ settings: ok, warnings: [] });
    expect(await read({ heartbeatS: 0 })).toEqual({ settings: { heartbeatS: 0 }, warnings: [] });
    expect(await read({ interval: { ["s".repeat(32)]: 1000 } })).toMatchObject({ warnings: [] });
  });

  it("drops each value past its limit with a warning naming it, keeping the others", async () => {
    const intervals = "stored intervals (smp.set) are not whole ms from 100 to 86400000; using config defaults";
    for (const interval of [{ a: 99 }, { a: 86_400_001 }, { a: 1000.5 }, { a: "1000" }, [1000], 5, { ["s".repeat(33)]: 1000 }, { a: 1000, b: 99 }]) {
      expect(await read({ interval, heartbeatS: 60 }), JSON.stringify(interval)).toEqual({ settings: { heartbeatS: 60 }, warnings: [intervals] });
    }
    const deadbands = "stored deadbands (smp.set) are not short texts; using config defaults";
    for (const deadband of [{ a: "x".repeat(25) }, { a: 1 }, null]) {
      expect(await read({ deadband }), JSON.stringify(deadband)).toEqual({ settings: {}, warnings: [deadbands] });
    }
    const heartbeat = "stored heartbeat (smp.set) is not 0 to 604800 s; using the config's";
    for (const heartbeatS of [-1, 604_801, 1.5, "60"]) {
      expect(await read({ heartbeatS }), String(heartbeatS)).toEqual({ settings: {}, warnings: [heartbeat] });
    }
  });

  it("ignores what is not an object, refuses what is not JSON or too large to be settings", async () => {
    expect(await read("[1]")).toEqual({ settings: {}, warnings: [] });
    expect(await read("null")).toEqual({ settings: {}, warnings: [] });
    expect(await read("7")).toEqual({ settings: {}, warnings: [] });
    const notJson = await read("{");
    expect(notJson.settings).toEqual({});
    expect(notJson.warnings).toHaveLength(1);
    expect(notJson.warnings[0]).toMatch(/^stored settings \(smp\.set\) are not JSON, using config defaults: ./);
    const padded = JSON.stringify({ heartbeatS: 60 }).padEnd(4096, " ");
    expect(await read(padded)).toEqual({ settings: { heartbeatS: 60 }, warnings: [] });
    expect(await read(padded + " ")).toEqual({ settings: {}, warnings: ["stored settings (smp.set) are 4097 bytes, more than settings ever take; using config defaults"] });
  });
});

describe("record keys", () => {
  it("hold seqs 0 to 36^10 - 1 as ten base-36 digits", async () => {
    const { recordKey, seqOfKey, MAX_SEQ } = await persist();
    expect(MAX_SEQ).toBe(36 ** 10 - 1);
    expect(recordKey(0)).toBe("smp.r0000000000");
    expect(recordKey(MAX_SEQ)).toBe("smp.rzzzzzzzzzz");
    expect(seqOfKey("smp.rzzzzzzzzzz")).toBe(MAX_SEQ);
    expect(seqOfKey("smp.r000000009a")).toBe(9 * 36 + 10);
    for (const bad of [-1, MAX_SEQ + 1, 1.5, Number.NaN]) {
      expect(thrownMessage(() => recordKey(bad))).toBe(`RangeError: seq ${bad} does not fit a record key (0..${MAX_SEQ})`);
    }
  });

  it("anything else is not a record key", async () => {
    const { seqOfKey } = await persist();
    for (const key of ["smp.r000000000", "smp.r00000000000", "smp.x0000000000", "smp.r000000000A", "smp.r000000000/", "smp.r000000000:", "smp.r000000000`", "smp.r000000000{"]) {
      expect(seqOfKey(key), key).toBeUndefined();
    }
  });
});

describe("pending readings", () => {
  const record = { seq: 5, sensor: "env", boot: 300, uptimeMs: 70_000, scaled: [0, -1, 1, 2 ** 40, -(2 ** 40)] };

  it("round-trip, with signed values zigzagged", async () => {
    const { decodeRecord, encodeRecord, recordKey } = await persist();
    const bytes = encodeRecord(record);
    expect(Array.from(bytes.subarray(0, 5))).toEqual([1, 3, 0x65, 0x6e, 0x76]);
    expect(decodeRecord(recordKey(5), bytes)).toEqual(record);
    expect(Array.from(encodeRecord({ ...record, scaled: [0, -1, 1] }).slice(-4))).toEqual([3, 0, 1, 2]);
  });

  it("refuse each way a record can be cut or padded, naming the key and the part", async () => {
    const { decodeRecord, encodeRecord, recordKey } = await persist();
    const key = recordKey(5);
    const bytes = Array.from(encodeRecord({ ...record, scaled: [7] }));
    const refusal = (what: string, k = key) => `StorageError: is not a pending-reading record (${what}); deleting it loses that reading (key "${k}")`;
    const decode = (b: number[], k = key) => thrownMessage(() => decodeRecord(k, Uint8Array.from(b)));
    expect(decode(bytes, "smp.rXX")).toBe(refusal("key", "smp.rXX"));
    expect(decode([1])).toBe(refusal("version 1"));
    expect(decode([2, ...bytes.slice(1)])).toBe(refusal("version 2"));
    expect(decode([1, 9, 0x65])).toBe(refusal("sensor id"));
    expect(decode([1, 1, 0x65])).toBe(refusal("truncated")); // the id ends the record: the id is whole, the rest missing
    expect(decode([1, 0])).toBe(refusal("truncated"));
    expect(decodeRecord(key, Uint8Array.from([1, 0, 0, 0, 0]))).toEqual({ seq: 5, sensor: "", boot: 0, uptimeMs: 0, scaled: [] });
    expect(decode([1, 0, 0, 0])).toBe(refusal("truncated"));
    expect(decode([1, 0, 0])).toBe(refusal("truncated"));
    expect(decode([1, 0, 0, 0, 1])).toBe(refusal("truncated value"));
    expect(decode([1, 0, 0, 0, 1, 0x80])).toBe(refusal("truncated value"));
    expect(decode([...bytes, 0])).toBe(refusal("trailing bytes"));
    // Varints are at most 8 bytes (2^56): a ninth is not one the encoder writes.
    const seven = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80];
    expect(decodeRecord(key, Uint8Array.from([1, 0, ...seven, 0x01, 0, 0]))).toMatchObject({ boot: 2 ** 49, uptimeMs: 0, scaled: [] });
    expect(decode([1, 0, ...seven, 0x80, 0x01, 0, 0])).toBe(refusal("truncated"));
  });
});

describe("wall-clock offsets", () => {
  it("round-trip; a truncated record is dropped whole with a warning", async () => {
    const { encodeOffsets, readOffsets } = await persist();
    const offsets = new Map([[1, 1_700_000_000_000], [2, 5]]);
    const bytes = encodeOffsets(offsets);
    const warnings: string[] = [];
    expect(readOffsets(storeWith([["smp.wo", bytes]]), (m) => warnings.push(m))).toEqual(offsets);
    expect(readOffsets(storeWith([["smp.wo", bytes.subarray(0, bytes.length - 1)]]), (m) => warnings.push(m))).toEqual(new Map());
    expect(readOffsets(storeWith([]), (m) => warnings.push(m))).toEqual(new Map());
    expect(warnings).toEqual(["stored wall-clock offsets (smp.wo) are truncated; readings of earlier boots go out without wall time"]);
  });
});
