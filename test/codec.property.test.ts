// Property tests for the codec: round trips, chunking independence, garbage and mutations, the packet size limit.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../src/errors";
import { PacketDecoder, decodeAll, encode, encodeInto, encodedLength } from "../src/mqtt/codec";
import { PacketType } from "../src/mqtt/constants";
import type { Packet } from "../src/mqtt/packets";
import { anyPacket } from "./support/codec-arbitraries";
import { plainPacket } from "./vectors/hex";
import { concat } from "./support/bytes";

/** Splits `bytes` at the given cut points (any order, duplicates allowed, so empty chunks occur too). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [0, ...cuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b), bytes.length];
  const chunks: Uint8Array[] = [];
  for (let i = 1; i < points.length; i++) chunks.push(bytes.subarray(points[i - 1], points[i]));
  return chunks;
}

/** Pushes every chunk; returns the packets and the error, which must be a ProtocolError if there is one. */
function feed(decoder: PacketDecoder, chunks: Uint8Array[]): { packets: Packet[]; error: unknown } {
  const packets: Packet[] = [];
  try {
    for (const chunk of chunks) decoder.push(chunk, (packet) => packets.push(packet));
    decoder.end();
    return { packets, error: undefined };
  } catch (error) {
    return { packets, error };
  }
}

describe("codec properties", () => {
  it("every generated packet round-trips through encode and decode", () => {
    fc.assert(
      fc.property(anyPacket, (packet) => {
        expect(decodeAll(encode(packet)).map(plainPacket)).toEqual([plainPacket(packet)]);
      }),
      { numRuns: 1000 },
    );
  });

  it("any chunking of a stream of many packets yields the same packets in order", () => {
    fc.assert(
      fc.property(fc.array(anyPacket, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 60 }), (packets, cuts) => {
        const stream = concat(packets.map(encode));
        const { packets: decoded, error } = feed(new PacketDecoder(), split(stream, cuts));
        expect(error).toBeUndefined();
        expect(decoded.map(plainPacket)).toEqual(packets.map(plainPacket));
      }),
      { numRuns: 300 },
    );
  });

  it("1-byte chunks yield the same packets, and decoded payloads do not alias the input", () => {
    fc.assert(
      fc.property(fc.array(anyPacket, { minLength: 1, maxLength: 10 }), (packets) => {
        const stream = concat(packets.map(encode));
        const oneByOne: Uint8Array[] = [];
        for (let i = 0; i < stream.length; i++) oneByOne.push(stream.subarray(i, i + 1));
        const fromBytes = feed(new PacketDecoder(), oneByOne);
        const fromWhole = feed(new PacketDecoder(), [stream]);
        stream.fill(0xee); // the caller may reuse its receive buffer at once
        expect(fromBytes.error).toBeUndefined();
        expect(fromWhole.error).toBeUndefined();
        expect(fromBytes.packets.map(plainPacket)).toEqual(packets.map(plainPacket));
        expect(fromWhole.packets.map(plainPacket)).toEqual(packets.map(plainPacket));
      }),
      { numRuns: 200 },
    );
  });

  it("random garbage yields packets or a ProtocolError, never another exception, in bounded time", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 600 }), fc.array(fc.nat(), { maxLength: 20 }), (garbage, cuts) => {
        const decoder = new PacketDecoder({ maxPacketSize: 4096 });
        const started = performance.now();
        const { error } = feed(decoder, split(garbage, cuts));
        expect(performance.now() - started).toBeLessThan(250);
        if (error !== undefined) {
          expect(error).toBeInstanceOf(ProtocolError);
          // A failed stream stays failed: MQTT has no resynchronisation.
          expect(() => decoder.push(new Uint8Array([0xc0, 0]), () => {})).toThrow(error as Error);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("mutated valid streams (flipped, replaced, dropped or inserted bytes) yield packets or a ProtocolError", () => {
    const mutation = fc.record({ at: fc.nat(), kind: fc.constantFrom("flip", "set", "drop", "insert"), value: fc.integer({ min: 0, max: 255 }) });
    fc.assert(
      fc.property(fc.array(anyPacket, { minLength: 1, maxLength: 5 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 10 }), (packets, mutations, cuts) => {
        const bytes = Array.from(concat(packets.map(encode)));
        for (const m of mutations) {
          const at = m.at % (bytes.length + 1);
          if (m.kind === "flip" && at < bytes.length) bytes[at] ^= 1 << (m.value & 7);
          else if (m.kind === "set" && at < bytes.length) bytes[at] = m.value;
          else if (m.kind === "drop") bytes.splice(at, 1);
          else bytes.splice(at, 0, m.value);
        }
        const { packets: decoded, error } = feed(new PacketDecoder(), split(Uint8Array.from(bytes), cuts));
        if (error !== undefined) expect(error).toBeInstanceOf(ProtocolError);
        // Whatever was decoded re-encodes to valid bytes: the decoder never yields a packet the encoder would refuse.
        for (const packet of decoded) expect(decodeAll(encode(packet)).map(plainPacket)).toEqual([plainPacket(packet)]);
      }),
      { numRuns: 1500 },
    );
  });

  it("maxPacketSize: a packet is accepted exactly when its whole size fits", () => {
    fc.assert(
      fc.property(anyPacket, fc.integer({ min: 2, max: 400 }), (packet, max) => {
        const bytes = encode(packet);
        const { packets, error } = feed(new PacketDecoder({ maxPacketSize: max }), [bytes]);
        if (bytes.length <= max) expect(packets.length).toBe(1);
        else expect(error).toBeInstanceOf(ProtocolError);
      }),
      { numRuns: 500 },
    );
  });

  it("maxPacketSize: the header of a 200 MB PUBLISH is refused before any body byte, holding a few bytes", () => {
    const size = 200 * 1024 * 1024;
    const header = [0x32];
    for (let value = size; ; ) {
      const digit = value % 128;
      value = Math.floor(value / 128);
      header.push(value > 0 ? digit | 0x80 : digit);
      if (value === 0) break;
    }
    const before = process.memoryUsage().arrayBuffers;
    const decoder = new PacketDecoder(); // default limit, 64 KiB
    let error: unknown;
    let fedBytes = 0;
    try {
      for (const byte of header) {
        decoder.push(new Uint8Array([byte]), () => {});
        fedBytes++;
        expect(decoder.buffered).toBeLessThanOrEqual(5);
      }
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).packetType).toBe("PUBLISH");
    expect((error as ProtocolError).message).toContain("maximum packet size");
    // Refused as soon as the partial length passes the limit: after the third length byte here, not the fourth.
    expect(fedBytes).toBeLessThan(header.length);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });
});

describe("encodeInto and encodedLength", () => {
  it("write the same bytes as encode() at any offset, and report the end", () => {
    fc.assert(
      fc.property(anyPacket, fc.integer({ min: 0, max: 16 }), (packet, offset) => {
        const expected = encode(packet);
        expect(encodedLength(packet)).toBe(expected.length);
        const target = new Uint8Array(offset + expected.length + 3).fill(0xaa);
        expect(encodeInto(packet, target, offset)).toBe(offset + expected.length);
        expect(target.subarray(offset, offset + expected.length)).toEqual(expected);
        expect([...target.subarray(0, offset), ...target.subarray(offset + expected.length)].every((b) => b === 0xaa)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("refuse a target that is too small with a RangeError, writing nothing", () => {
    const packet = { type: PacketType.PUBACK, packetId: 1 } as const;
    const target = new Uint8Array(5);
    expect(() => encodeInto(packet, target, 2)).toThrow(RangeError);
    expect([...target]).toEqual([0, 0, 0, 0, 0]);
  });
});
