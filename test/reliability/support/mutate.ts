// Mutation fuzzing of MQTT byte streams: a seed corpus of golden vectors and operators that damage it as a broken
// or hostile peer would (bit flips, inserted and deleted bytes, tweaked remaining lengths, splices of two packets).
import fc from "fast-check";
import { encode } from "../../../src/mqtt/codec";
import type { Packet } from "../../../src/mqtt/packets";
import { GOLDEN_VECTORS } from "../../vectors/codec-vectors";
import { fromHex } from "../../vectors/hex";
import { concat, remainingLengthBytes } from "../../support/bytes";

/** The golden vectors' bytes; the 20000-byte PUBLISH is kept, as the one packet with a 3-byte remaining length. */
export const SEED_CORPUS: readonly Uint8Array[] = GOLDEN_VECTORS.map((v) => fromHex(v.hex));

/** A stream of whole packets, with the offset where each starts (mutations aim at headers through these). */
export interface Stream {
  bytes: Uint8Array;
  starts: number[];
}

export function streamOf(parts: readonly Uint8Array[]): Stream {
  const starts: number[] = [];
  let at = 0;
  for (const part of parts) {
    starts.push(at);
    at += part.length;
  }
  return { bytes: concat(parts), starts };
}

export function streamOfPackets(packets: readonly Packet[]): Stream {
  return streamOf(packets.map(encode));
}

/** One damage to a stream; positions are taken modulo the stream length so every value applies (and shrinks). */
export type Mutation =
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; value: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; count: number }
  | { op: "length"; packet: number; delta: number }
  | { op: "length-bytes"; packet: number; bytes: Uint8Array }
  | { op: "splice"; at: number; other: number; from: number }
  | { op: "duplicate"; at: number; count: number }
  | { op: "truncate"; keep: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), value: fc.constantFrom(0, 0x7f, 0x80, 0xff, 0x30, 0x62, 0x20) }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant("length" as const), packet: fc.nat(), delta: fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0) }),
  // A remaining length replaced by other bytes: over-long forms, 0x80 runs, the largest values.
  fc.record({
    op: fc.constant("length-bytes" as const),
    packet: fc.nat(),
    bytes: fc.oneof(
      fc.constantFrom(Uint8Array.of(0xff, 0xff, 0xff, 0x7f), Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x01), Uint8Array.of(0x80, 0x00), Uint8Array.of(0xff, 0x7f)),
      fc.uint8Array({ minLength: 1, maxLength: 5 }),
    ),
  }),
  fc.record({ op: fc.constant("splice" as const), at: fc.nat(), other: fc.nat(), from: fc.nat() }),
  fc.record({ op: fc.constant("duplicate" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant("truncate" as const), keep: fc.nat() }),
);

/** Offset and size of the remaining-length field of the packet starting at `start` (as far as the bytes go). */
function lengthField(bytes: Uint8Array, start: number): { at: number; size: number; value: number } {
  let size = 0;
  let value = 0;
  let multiplier = 1;
  while (start + 1 + size < bytes.length && size < 4) {
    const digit = bytes[start + 1 + size];
    value += (digit & 0x7f) * multiplier;
    multiplier *= 128;
    size++;
    if ((digit & 0x80) === 0) break;
  }
  return { at: start + 1, size, value };
}

function replace(bytes: Uint8Array, at: number, count: number, insert: Uint8Array): Uint8Array {
  return concat([bytes.subarray(0, at), insert, bytes.subarray(at + count)]);
}

export function applyMutation(stream: Stream, m: Mutation): Stream {
  const { bytes, starts } = stream;
  const n = bytes.length;
  if (n === 0) return m.op === "insert" ? { bytes: m.bytes.slice(), starts } : stream;
  const pos = (value: number) => value % n;
  switch (m.op) {
    case "flip": {
      const out = bytes.slice();
      out[pos(m.at)] ^= 1 << m.bit;
      return { bytes: out, starts };
    }
    case "set": {
      const out = bytes.slice();
      out[pos(m.at)] = m.value;
      return { bytes: out, starts };
    }
    case "insert":
      return { bytes: replace(bytes, m.at % (n + 1), 0, m.bytes), starts };
    case "delete":
      return { bytes: replace(bytes, pos(m.at), Math.min(m.count, n - pos(m.at)), new Uint8Array(0)), starts };
    case "length": {
      const start = starts[m.packet % starts.length];
      if (start >= n - 1) return stream;
      const field = lengthField(bytes, start);
      return { bytes: replace(bytes, field.at, field.size, remainingLengthBytes(Math.max(0, field.value + m.delta))), starts };
    }
    case "length-bytes": {
      const start = starts[m.packet % starts.length];
      if (start >= n - 1) return stream;
      const field = lengthField(bytes, start);
      return { bytes: replace(bytes, field.at, field.size, m.bytes), starts };
    }
    case "splice": {
      // The head of the stream up to `at`, then the tail of another seed from `from`: a packet cut and glued to another.
      const other = SEED_CORPUS[m.other % SEED_CORPUS.length];
      return { bytes: concat([bytes.subarray(0, pos(m.at)), other.subarray(m.from % other.length)]), starts };
    }
    case "duplicate": {
      const at = pos(m.at);
      return { bytes: replace(bytes, at, 0, bytes.slice(at, at + m.count)), starts };
    }
    case "truncate":
      return { bytes: bytes.subarray(0, m.keep % (n + 1)), starts };
  }
}

export function mutate(stream: Stream, mutations: readonly Mutation[]): Uint8Array {
  let current = stream;
  for (const m of mutations) current = applyMutation(current, m);
  return current.bytes;
}

/** Splits `bytes` at the given cut points (any order, duplicates allowed, so empty chunks occur too). */
export function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [0, ...cuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b), bytes.length];
  const chunks: Uint8Array[] = [];
  for (let i = 1; i < points.length; i++) chunks.push(bytes.subarray(points[i - 1], points[i]));
  return chunks;
}

/** A damaged stream from 1-4 seed packets: which seeds, which mutations, how it is chunked. */
export interface MutatedStream {
  seeds: number[];
  mutations: Mutation[];
  cuts: number[];
}

export const mutatedStream: fc.Arbitrary<MutatedStream> = fc.record({
  seeds: fc.array(fc.nat(SEED_CORPUS.length - 1), { minLength: 1, maxLength: 4 }),
  mutations: fc.array(mutation, { minLength: 0, maxLength: 5 }),
  cuts: fc.array(fc.nat(), { maxLength: 24 }),
});

export function buildStream(input: MutatedStream): Uint8Array {
  return mutate(streamOf(input.seeds.map((i) => SEED_CORPUS[i])), input.mutations);
}
