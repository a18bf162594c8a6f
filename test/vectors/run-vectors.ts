// Runs the codec vectors on whichever engine imports it and returns plain results, so Node and XS runs compare as data.
import { ProtocolError } from "../../src/errors";
import { PacketDecoder, decodeAll, encode } from "../../src/mqtt/codec";
import { PacketType } from "../../src/mqtt/constants";
import type { Packet } from "../../src/mqtt/packets";
import { GOLDEN_VECTORS, MALFORMED_VECTORS } from "./codec-vectors";
import { fromHex, plainPacket, toHex, type Plain } from "./hex";

export interface ErrorReport {
  protocolError: boolean;
  name: string;
  packetType: string | null;
  rule: string | null;
  message: string;
}

export interface GoldenResult {
  name: string;
  encoded: string | ErrorReport;
  decoded: Plain | ErrorReport;
  decodedByteByByte: Plain | ErrorReport;
}

export interface MalformedResult {
  name: string;
  whole: ErrorReport | Plain;
  byteByByte: ErrorReport | Plain;
}

export function reportError(error: unknown): ErrorReport {
  if (error instanceof ProtocolError) {
    return { protocolError: true, name: error.name, packetType: error.packetType, rule: error.rule ?? null, message: error.message };
  }
  const e = error as { name?: unknown; message?: unknown };
  return { protocolError: false, name: String(e?.name), packetType: null, rule: null, message: String(e?.message ?? error) };
}

function attempt<T>(run: () => T): T | ErrorReport {
  try {
    return run();
  } catch (error) {
    return reportError(error);
  }
}

function decodeByteByByte(bytes: Uint8Array, maxPacketSize?: number): Plain {
  const decoder = new PacketDecoder(maxPacketSize === undefined ? {} : { maxPacketSize });
  const packets: Packet[] = [];
  for (let i = 0; i < bytes.length; i++) decoder.push(bytes.subarray(i, i + 1), (packet) => packets.push(packet));
  decoder.end();
  return packets.map(plainPacket);
}

export function runGoldenVectors(): GoldenResult[] {
  return GOLDEN_VECTORS.map((vector) => ({
    name: vector.name,
    encoded: attempt(() => toHex(encode(vector.packet))),
    decoded: attempt(() => decodeAll(fromHex(vector.hex)).map(plainPacket)),
    decodedByteByByte: attempt(() => decodeByteByByte(fromHex(vector.hex))),
  }));
}

export function runMalformedVectors(): MalformedResult[] {
  return MALFORMED_VECTORS.map((vector) => {
    const options = vector.maxPacketSize === undefined ? {} : { maxPacketSize: vector.maxPacketSize };
    return {
      name: vector.name,
      whole: attempt(() => decodeAll(fromHex(vector.hex), options).map(plainPacket)),
      byteByByte: attempt(() => decodeByteByByte(fromHex(vector.hex), vector.maxPacketSize)),
    };
  });
}

/** Decodes each stream and re-encodes what came out: the per-engine view of arbitrary (e.g. generated) bytes. */
export function decodeStreams(hexes: string[]): Array<{ packets: Plain; reencoded: string } | ErrorReport> {
  return hexes.map((hex) =>
    attempt(() => {
      const packets = decodeAll(fromHex(hex));
      return { packets: packets.map(plainPacket), reencoded: packets.map((p) => toHex(encode(p))).join("") };
    }),
  );
}

/** The benchmark packet: a 64-byte-payload QoS 1 PUBLISH. */
export function benchPublish(): Packet {
  const payload = new Uint8Array(64);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
  return { type: PacketType.PUBLISH, topic: "sensors/device-01/temperature", payload, qos: 1, retain: false, dup: false, packetId: 4242 };
}

export type LoopPart = "encode" | "decode" | "both";

/**
 * Encodes and/or decodes the benchmark packet `iterations` times; returns a checksum so the work cannot be skipped.
 * "decode" decodes bytes encoded once before the loop.
 */
export function encodeDecodeLoop(iterations: number, part: LoopPart = "both"): number {
  const packet = benchPublish();
  const decoder = new PacketDecoder();
  const encoded = encode(packet);
  let checksum = 0;
  const onPacket = (decoded: Packet) => {
    checksum += decoded.type === PacketType.PUBLISH ? decoded.payload.length : 0;
  };
  for (let i = 0; i < iterations; i++) {
    const bytes = part === "decode" ? encoded : encode(packet);
    if (part === "encode") checksum += bytes.length;
    else decoder.push(bytes, onPacket);
  }
  return checksum;
}
