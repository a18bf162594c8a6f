// The checks every remaining-length boundary vector must pass on Node, shared by test/codec.boundaries.test.ts and
// test/codec.largest-packet.test.ts: golden bytes both ways, whole and in pieces, and mqtt-packet agreeing both ways.
import * as mqtt from "mqtt-packet";
import { expect } from "vitest";
import { encodedLength } from "../../src/mqtt/codec";
import { PacketType } from "../../src/mqtt/constants";
import { boundaryBytes, boundaryPacket, runBoundaryVector, type BoundaryVector } from "../vectors/boundary-vectors";

const OPTS = { protocolVersion: 4 };

/** mqtt-packet's parse of `bytes`: the packets it emits, or its error. */
export function mqttPacketParse(bytes: Uint8Array): mqtt.Packet[] {
  const parser = mqtt.parser(OPTS);
  const out: mqtt.Packet[] = [];
  let failure: Error | undefined;
  parser.on("packet", (p) => out.push(p));
  parser.on("error", (e) => (failure = e));
  parser.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (failure) throw failure;
  return out;
}

export function expectBoundaryVector(vector: BoundaryVector): void {
  const expected = boundaryBytes(vector);
  const packet = boundaryPacket(vector.remainingLength);
  const total = vector.header.length / 2 + vector.remainingLength;

  // mqtt-packet writes the same bytes for the same packet, and reads our bytes to the same packet.
  const theirs = mqtt.generate(
    packet.type === PacketType.PUBLISH
      ? { cmd: "publish", topic: packet.topic, payload: Buffer.from(packet.payload.buffer, packet.payload.byteOffset, packet.payload.byteLength), qos: 0, retain: false, dup: false }
      : { cmd: "pingreq" },
    OPTS,
  );
  expect(theirs.length).toBe(total);
  expect(theirs.subarray(0, vector.header.length / 2).toString("hex")).toBe(vector.header);
  expect(Buffer.compare(theirs, Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength))).toBe(0);
  const parsed = mqttPacketParse(expected);
  expect(parsed).toHaveLength(1);
  expect(parsed[0].cmd).toBe(packet.type === PacketType.PUBLISH ? "publish" : "pingreq");
  if (packet.type === PacketType.PUBLISH) expect((parsed[0] as mqtt.IPublishPacket).payload.length).toBe(packet.payload.length);

  expect(encodedLength(packet)).toBe(total);
  expect(runBoundaryVector(vector)).toEqual({
    remainingLength: vector.remainingLength,
    encodedHeader: vector.header,
    encodedLength: total,
    encodedExact: true,
    decoded: {
      type: packet.type,
      topic: packet.type === PacketType.PUBLISH ? "t" : null,
      payloadLength: packet.type === PacketType.PUBLISH ? vector.remainingLength - 3 : null,
      payloadExact: true,
      packets: 1,
    },
    decodedInPieces: true,
    oneShortYieldsNothing: true,
    // A 2-byte packet cannot be one over a maxPacketSize (the smallest allowed is 2).
    oneOverMaxRefused: total > 2 ? "ProtocolError" : null,
  });
}
