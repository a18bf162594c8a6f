// Golden vectors at every remaining-length boundary of MQTT 3.1.1 (2.2.3): the last length of each encoded width and
// the first of the next, up to the largest, 268,435,455. Plain data plus an engine-neutral runner, shared by the Node
// tests (test/codec.boundaries.test.ts, which also checks each vector against mqtt-packet) and the XS entry.
//
// The packets are too big for hex (up to 256 MiB), so a vector is its fixed header in hex and a recipe for the body:
// a QoS 0 PUBLISH on topic "t" whose payload is zero bytes with distinct markers in its first and last two bytes,
// so a body shifted, cut or padded by one byte shows at the markers whatever the size. Zeros because a fresh buffer
// already holds them: the 256 MiB payload then costs four touched bytes, not a pass over a quarter of a gigabyte.
import { PacketDecoder, encode } from "../../src/mqtt/codec";
import { PacketType } from "../../src/mqtt/constants";
import type { Packet } from "../../src/mqtt/packets";
import { fromHex, toHex } from "./hex";

export interface BoundaryVector {
  remainingLength: number;
  /** Fixed header: type and flags byte, then the remaining length in its 1-4 byte form (2.2.3). */
  header: string;
}

export const BOUNDARY_VECTORS: BoundaryVector[] = [
  { remainingLength: 0, header: "c000" }, // PINGREQ: the only lengths of 0 are the bodiless packets
  { remainingLength: 127, header: "307f" },
  { remainingLength: 128, header: "308001" },
  { remainingLength: 16_383, header: "30ff7f" },
  { remainingLength: 16_384, header: "30808001" },
  { remainingLength: 2_097_151, header: "30ffff7f" },
  { remainingLength: 2_097_152, header: "3080808001" },
  { remainingLength: 268_435_455, header: "30ffffff7f" },
];

/** Largest packet of all: type byte, four length bytes, the largest remaining length. */
export const LARGEST_PACKET = 1 + 4 + 268_435_455;
const TOPIC_FIELD = [0x00, 0x01, 0x74]; // "t" with its 2-byte length
const MARKERS = [0x01, 0x02, 0xfe, 0xff]; // first two and last two payload bytes

/** The packet a vector encodes: PINGREQ for 0, else a QoS 0 PUBLISH whose body is exactly `remainingLength` bytes. */
export function boundaryPacket(remainingLength: number): Packet {
  if (remainingLength === 0) return { type: PacketType.PINGREQ };
  const payload = new Uint8Array(remainingLength - TOPIC_FIELD.length);
  if (payload.length >= 4) {
    payload[0] = MARKERS[0];
    payload[1] = MARKERS[1];
    payload[payload.length - 2] = MARKERS[2];
    payload[payload.length - 1] = MARKERS[3];
  }
  return { type: PacketType.PUBLISH, topic: "t", payload, qos: 0, retain: false, dup: false };
}

/** The expected bytes of a vector, built from its header and recipe without our encoder. */
export function boundaryBytes(vector: BoundaryVector): Uint8Array {
  const header = fromHex(vector.header);
  const bytes = new Uint8Array(header.length + vector.remainingLength);
  bytes.set(header, 0);
  if (vector.remainingLength === 0) return bytes;
  bytes.set(TOPIC_FIELD, header.length);
  const payloadAt = header.length + TOPIC_FIELD.length;
  const payloadLength = vector.remainingLength - TOPIC_FIELD.length;
  if (payloadLength >= 4) {
    bytes[payloadAt] = MARKERS[0];
    bytes[payloadAt + 1] = MARKERS[1];
    bytes[payloadAt + payloadLength - 2] = MARKERS[2];
    bytes[payloadAt + payloadLength - 1] = MARKERS[3];
  }
  return bytes;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What a run observed for one vector (plain data, so Node and XS results compare as JSON). */
export interface BoundaryResult {
  remainingLength: number;
  /** Header our encoder wrote (as many bytes as the vector's header). */
  encodedHeader: string;
  encodedLength: number;
  /** encode() produced exactly boundaryBytes(vector). */
  encodedExact: boolean;
  /** Decoding the expected bytes in one chunk: packet type, topic and payload length; payload identical. */
  decoded: { type: number; topic: string | null; payloadLength: number | null; payloadExact: boolean; packets: number };
  /** Decoding with the header fed one byte at a time and the body in two pieces gives the same. */
  decodedInPieces: boolean;
  /** All but the last byte: the decoder waits (no packet, no error). */
  oneShortYieldsNothing: boolean;
  /** maxPacketSize one less than the packet: refused from the header, as a ProtocolError. */
  oneOverMaxRefused: string | null;
}

function decodeWith(bytes: Uint8Array, maxPacketSize: number, cuts: number[]): Packet[] {
  const decoder = new PacketDecoder({ maxPacketSize });
  const packets: Packet[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    decoder.push(bytes.subarray(from, cut), (packet) => packets.push(packet));
    from = cut;
  }
  return packets;
}

export function runBoundaryVector(vector: BoundaryVector): BoundaryResult {
  const expected = boundaryBytes(vector);
  const packet = boundaryPacket(vector.remainingLength);
  const encoded = encode(packet);
  const headerLength = vector.header.length / 2;
  const total = expected.length;

  const whole = decodeWith(expected, LARGEST_PACKET, []);
  const first = whole[0] as Packet | undefined;
  const payload = first && first.type === PacketType.PUBLISH ? first.payload : null;
  const wanted = packet.type === PacketType.PUBLISH ? packet.payload : null;

  const headerCuts = Array.from({ length: headerLength }, (_, i) => i + 1);
  const pieces = decodeWith(expected, LARGEST_PACKET, [...headerCuts, headerLength + Math.floor(vector.remainingLength / 2)]);
  const piecesPayload = pieces[0] && pieces[0].type === PacketType.PUBLISH ? pieces[0].payload : null;

  const short = new PacketDecoder({ maxPacketSize: LARGEST_PACKET });
  let shortPackets = 0;
  short.push(expected.subarray(0, total - 1), () => shortPackets++);

  let refused: string | null = null;
  if (total - 1 >= 2) {
    try {
      new PacketDecoder({ maxPacketSize: total - 1 }).push(expected.subarray(0, headerLength), () => {});
    } catch (error) {
      refused = (error as Error).name;
    }
  }

  return {
    remainingLength: vector.remainingLength,
    encodedHeader: toHex(encoded.subarray(0, headerLength)),
    encodedLength: encoded.length,
    encodedExact: sameBytes(encoded, expected),
    decoded: {
      type: first ? first.type : -1,
      topic: first && first.type === PacketType.PUBLISH ? first.topic : null,
      payloadLength: payload ? payload.length : null,
      payloadExact: wanted === null ? payload === null : payload !== null && sameBytes(payload, wanted),
      packets: whole.length,
    },
    decodedInPieces:
      pieces.length === 1 && pieces[0].type === packet.type && (wanted === null ? piecesPayload === null : piecesPayload !== null && sameBytes(piecesPayload, wanted)),
    oneShortYieldsNothing: shortPackets === 0,
    oneOverMaxRefused: refused,
  };
}

/** Every vector up to `maxRemainingLength` (XS may stop below the largest for memory), in order. */
export function runBoundaryVectors(maxRemainingLength = 268_435_455): BoundaryResult[] {
  return BOUNDARY_VECTORS.filter((v) => v.remainingLength <= maxRemainingLength).map(runBoundaryVector);
}
