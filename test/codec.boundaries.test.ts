// Golden vectors at every remaining-length boundary (0, 127, 128, 16,383, 16,384, 2,097,151, 2,097,152, 268,435,455),
// both directions, each checked against mqtt-packet; XS runs the same vectors in test/xs/codec.xs.test.ts.
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../src/errors";
import { PacketDecoder, encode } from "../src/mqtt/codec";
import { PacketType } from "../src/mqtt/constants";
import { expectBoundaryVector } from "./support/boundary-check";
import { BOUNDARY_VECTORS, LARGEST_PACKET, boundaryBytes } from "./vectors/boundary-vectors";

/** The 256 MiB vector has its own file (test/codec.largest-packet.test.ts), which the mutation run leaves out. */
const LARGEST_REMAINING = 268_435_455;

describe("remaining-length boundaries", () => {
  it("covers the last length of every width and the first of the next, up to the largest", () => {
    expect(BOUNDARY_VECTORS.map((v) => v.remainingLength)).toEqual([0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455]);
    expect(BOUNDARY_VECTORS.map((v) => v.header.length / 2 - 1)).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
  });

  it.each(BOUNDARY_VECTORS.filter((v) => v.remainingLength < LARGEST_REMAINING).map((v) => [v.remainingLength, v] as const))(
    "remaining length %i: encode writes the golden bytes, decode reads them back whole and in pieces, mqtt-packet agrees",
    (_length, vector) => expectBoundaryVector(vector),
  );

  it("one past the largest remaining length is refused both ways with [MQTT-2.2.3]", () => {
    const tooBig = { type: PacketType.PUBLISH, topic: "t", payload: new Uint8Array(268_435_455 - 3 + 1), qos: 0, retain: false, dup: false } as const;
    expect(() => encode(tooBig)).toThrow(ProtocolError);
    expect(() => encode(tooBig)).toThrow(/268435455/);
    // A length that would need a fifth byte: 0x80 0x80 0x80 0x80 0x01 = 268,435,456.
    const decoder = new PacketDecoder({ maxPacketSize: LARGEST_PACKET + 16 });
    expect(() => decoder.push(new Uint8Array([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]), () => {})).toThrow(/more than 4 bytes/);
  });

  it("at exactly maxPacketSize a packet is accepted; one byte more is refused", () => {
    for (const vector of BOUNDARY_VECTORS.filter((v) => v.remainingLength > 0 && v.remainingLength <= 2_097_152)) {
      const bytes = boundaryBytes(vector);
      const packets: unknown[] = [];
      new PacketDecoder({ maxPacketSize: bytes.length }).push(bytes, (p) => packets.push(p));
      expect(packets, `remaining length ${vector.remainingLength}`).toHaveLength(1);
      expect(() => new PacketDecoder({ maxPacketSize: bytes.length - 1 }).push(bytes, () => {})).toThrow(ProtocolError);
    }
  });
});
