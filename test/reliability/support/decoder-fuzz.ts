// The decoder fuzz property, shared by test/reliability/fuzz-decoder.test.ts (bounded, fixed seed) and
// scripts/fuzz-long.ts (random seeds, for minutes): damaged streams in any chunking give packets or a ProtocolError.
import fc from "fast-check";
import { ProtocolError } from "../../../src/errors";
import { DEFAULT_MAX_PACKET_SIZE, PacketDecoder, decodeAll, encode } from "../../../src/mqtt/codec";
import { PacketType } from "../../../src/mqtt/constants";
import type { Packet } from "../../../src/mqtt/packets";
import { plainPacket, type Plain } from "../../vectors/hex";
import { buildStream, mutatedStream, split, type MutatedStream } from "./mutate";

/** Wall time one case may take before it counts as a hang (generous: CI machines are loaded). */
export const CASE_TIME_LIMIT_MS = 500;

export interface DecoderCase extends MutatedStream {
  maxPacketSize: number;
  /** Random bytes appended: garbage after whatever the mutations left. */
  garbage: Uint8Array;
}

export const decoderCase: fc.Arbitrary<DecoderCase> = fc
  .tuple(mutatedStream, fc.constantFrom(2, 16, 64, 300, 4096, DEFAULT_MAX_PACKET_SIZE), fc.uint8Array({ maxLength: 12 }))
  .map(([stream, maxPacketSize, garbage]) => ({ ...stream, maxPacketSize, garbage }));

interface Outcome {
  packets: Plain[];
  error: string | undefined;
}

class Violation extends Error {}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Violation(message);
}

/** Feeds `chunks` then end(); every exception must be a ProtocolError, and buffered bytes never exceed the limit. */
function run(chunks: Uint8Array[], maxPacketSize: number): Outcome & { failure: ProtocolError | undefined; decoder: PacketDecoder } {
  const decoder = new PacketDecoder({ maxPacketSize });
  const packets: Plain[] = [];
  let failure: ProtocolError | undefined;
  try {
    for (const chunk of chunks) {
      decoder.push(chunk, (packet) => packets.push(checkPacket(packet)));
      check(decoder.buffered <= maxPacketSize, `decoder holds ${decoder.buffered} bytes, more than maxPacketSize ${maxPacketSize}`);
    }
    decoder.end();
  } catch (error) {
    if (error instanceof Violation) throw error;
    check(error instanceof ProtocolError, `decoder threw ${(error as Error)?.name}: ${(error as Error)?.message}, not a ProtocolError`);
    failure = error as ProtocolError;
  }
  return { packets, error: failure?.message, failure, decoder };
}

/** Whatever the decoder yields must be a packet the encoder accepts and that decodes back to itself. */
function checkPacket(packet: Packet): Plain {
  let bytes: Uint8Array;
  try {
    bytes = encode(packet);
  } catch (error) {
    throw new Violation(`decoder yielded ${JSON.stringify(plainPacket(packet))}, which encode() refuses: ${(error as Error).message}`);
  }
  const again = decodeAll(bytes).map(plainPacket);
  check(JSON.stringify(again) === JSON.stringify([plainPacket(packet)]), `decoded packet does not survive encode/decode: ${JSON.stringify(plainPacket(packet))}`);
  return plainPacket(packet);
}

/**
 * The property: the stream in one piece and in the case's chunks yields the same packets and the same error (if any),
 * which is a ProtocolError; the decoder never holds more than maxPacketSize bytes; after the error it stays failed
 * (rethrows the same error) until reset(), and then decodes a fresh stream; and the case finishes in bounded time.
 */
export function checkDecoderCase(c: DecoderCase): void {
  const started = performance.now();
  const stream = buildStream(c);
  const bytes = new Uint8Array(stream.length + c.garbage.length);
  bytes.set(stream);
  bytes.set(c.garbage, stream.length);
  const whole = run([bytes], c.maxPacketSize);
  const chunked = run(split(bytes, c.cuts), c.maxPacketSize);
  check(JSON.stringify(chunked.packets) === JSON.stringify(whole.packets), "chunking changed the packets decoded");
  check(chunked.error === whole.error, `chunking changed the error: "${chunked.error}" vs "${whole.error}"`);
  if (chunked.failure) {
    let again: unknown;
    try {
      chunked.decoder.push(Uint8Array.of(0xd0, 0x00), () => {
        throw new Violation("a failed decoder yielded a packet");
      });
    } catch (error) {
      again = error;
    }
    if (again instanceof Violation) throw again;
    check(again === chunked.failure, "a failed decoder must rethrow its error until reset()");
    chunked.decoder.reset();
    const after: Packet[] = [];
    chunked.decoder.push(Uint8Array.of(0xd0, 0x00), (packet) => after.push(packet));
    check(after.length === 1 && after[0].type === PacketType.PINGRESP, "reset() did not make the decoder usable again");
  }
  const elapsed = performance.now() - started;
  check(elapsed < CASE_TIME_LIMIT_MS, `case took ${elapsed.toFixed(0)} ms for ${bytes.length} bytes`);
}

export const decoderProperty = (): fc.IPropertyWithHooks<[DecoderCase]> => fc.property(decoderCase, checkDecoderCase);
