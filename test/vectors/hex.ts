// Engine-neutral helpers for byte vectors: hex <-> Uint8Array and a JSON-safe view of a packet (bytes as hex).
// Used by the Node tests and bundled into the XS entries, so: no Buffer, no Node APIs.
import type { Packet } from "../../src/mqtt/packets";

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new RangeError(`odd hex length ${hex.length}`);
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    const byte = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    if (Number.isNaN(byte)) throw new RangeError(`bad hex at ${2 * i}`);
    bytes[i] = byte;
  }
  return bytes;
}

const DIGITS = "0123456789abcdef";

export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (let i = 0; i < bytes.length; i++) hex += DIGITS[bytes[i] >> 4] + DIGITS[bytes[i] & 15];
  return hex;
}

/** ASCII/BMP text to bytes for vector payloads (the codec's own UTF-8 is what is under test, so not used here). */
export function ascii(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/** `count` bytes counting up from 0 (mod 256): a recognisable payload of any size. */
export function ramp(count: number): Uint8Array {
  const bytes = new Uint8Array(count);
  for (let i = 0; i < count; i++) bytes[i] = i & 0xff;
  return bytes;
}

export type Plain = null | boolean | number | string | Plain[] | { [key: string]: Plain };

/** A JSON-safe copy of a packet with every Uint8Array replaced by { hex }, keys sorted, undefined dropped. */
export function plainPacket(packet: Packet): Plain {
  return plain(packet);
}

function plain(value: unknown): Plain {
  if (value instanceof Uint8Array) return { hex: toHex(value) };
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const out: { [key: string]: Plain } = {};
    for (const key of Object.keys(value).sort()) {
      const field = (value as Record<string, unknown>)[key];
      if (field !== undefined) out[key] = plain(field);
    }
    return out;
  }
  if (value === undefined) return null;
  return value as Plain;
}
