// UTF-8 without TextEncoder/Buffer (not every XS build has them), with the checks MQTT puts on strings (1.5.3).
import { ProtocolError } from "../errors";

/** Number of bytes `text` takes as UTF-8. Lone surrogates count as U+FFFD would (3 bytes) but are refused by writeUtf8. */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 4;
        i++;
      } else length += 3;
    } else length += 3;
  }
  return length;
}

/**
 * utf8Length for a string about to be sent: a lone surrogate (not encodable as UTF-8) is a ProtocolError
 * naming `packetType` and the field, found here before any byte is written.
 */
export function checkedUtf8Length(text: string, packetType: string, what: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) return nonAsciiLength(text, i, packetType, what);
  }
  return text.length;
}

function nonAsciiLength(text: string, from: number, packetType: string, what: string): number {
  let length = from;
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (code < 0xd800 || code > 0xdfff) length += 3;
    else {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (code > 0xdbff || next < 0xdc00 || next > 0xdfff) {
        throw new ProtocolError(packetType, `${what} contains a lone surrogate at index ${i}`, "[MQTT-1.5.3-1]");
      }
      length += 4;
      i++;
    }
  }
  return length;
}

/** Writes `text` as UTF-8 at `offset`; returns the offset after it. `what` names the field for errors. */
export function writeUtf8(target: Uint8Array, offset: number, text: string, what = "string"): number {
  // Topics are nearly always ASCII: copy that prefix in a loop with nothing else in it.
  const length = text.length;
  let i = 0;
  for (; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) break;
    target[offset++] = code;
  }
  for (; i < length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      target[offset++] = code;
    } else if (code < 0x800) {
      target[offset++] = 0xc0 | (code >> 6);
      target[offset++] = 0x80 | (code & 0x3f);
    } else if (code >= 0xd800 && code <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (code > 0xdbff || next < 0xdc00 || next > 0xdfff) {
        throw new ProtocolError("UTF-8", `${what} contains a lone surrogate at index ${i}`, "[MQTT-1.5.3-1]");
      }
      code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
      i++;
      target[offset++] = 0xf0 | (code >> 18);
      target[offset++] = 0x80 | ((code >> 12) & 0x3f);
      target[offset++] = 0x80 | ((code >> 6) & 0x3f);
      target[offset++] = 0x80 | (code & 0x3f);
    } else {
      target[offset++] = 0xe0 | (code >> 12);
      target[offset++] = 0x80 | ((code >> 6) & 0x3f);
      target[offset++] = 0x80 | (code & 0x3f);
    }
  }
  return offset;
}

/** Encodes a whole string to a new array (for payloads built from text). */
export function encodeUtf8(text: string): Uint8Array {
  const bytes = new Uint8Array(utf8Length(text));
  writeUtf8(bytes, 0, text);
  return bytes;
}

/**
 * Decodes bytes [start, end) as strict UTF-8: overlong forms, surrogates and code points above
 * U+10FFFF are refused, and so is U+0000, which MQTT forbids in strings [MQTT-1.5.3-2].
 */
export function decodeUtf8(source: Uint8Array, start = 0, end = source.length, packetType = "UTF-8", what = "string"): string {
  let text = "";
  let i = start;
  while (i < end) {
    const b0 = source[i];
    if (b0 < 0x80) {
      // ASCII fast path: take the whole run at once.
      let j = i;
      while (j < end && source[j] < 0x80 && source[j] !== 0) j++;
      // The run stops at a NUL (which may be its first byte) or at a byte of 0x80 and above.
      if (j < end && source[j] === 0) {
        throw new ProtocolError(packetType, `${what} contains U+0000`, "[MQTT-1.5.3-2]");
      }
      // Short slices: on ESP32 every apply() argument takes a stack slot, and nodemcu has about 512.
      while (i < j) {
        const stop = Math.min(j, i + 64);
        text += String.fromCharCode.apply(null, source.subarray(i, stop) as unknown as number[]);
        i = stop;
      }
      continue;
    }
    let code: number;
    let need: number;
    let min: number;
    if (b0 >= 0xc2 && b0 <= 0xdf) { code = b0 & 0x1f; need = 1; min = 0x80; }
    else if (b0 >= 0xe0 && b0 <= 0xef) { code = b0 & 0x0f; need = 2; min = 0x800; }
    else if (b0 >= 0xf0 && b0 <= 0xf4) { code = b0 & 0x07; need = 3; min = 0x10000; }
    else throw new ProtocolError(packetType, `${what} is not valid UTF-8 (byte 0x${b0.toString(16)} at ${i - start})`, "[MQTT-1.5.3-1]");
    if (i + need >= end) {
      throw new ProtocolError(packetType, `${what} ends inside a UTF-8 sequence`, "[MQTT-1.5.3-1]");
    }
    for (let k = 1; k <= need; k++) {
      const b = source[i + k];
      if ((b & 0xc0) !== 0x80) {
        throw new ProtocolError(packetType, `${what} is not valid UTF-8 (bad continuation at ${i + k - start})`, "[MQTT-1.5.3-1]");
      }
      code = (code << 6) | (b & 0x3f);
    }
    if (code < min || code > 0x10ffff) {
      throw new ProtocolError(packetType, `${what} is not valid UTF-8 (overlong or out of range)`, "[MQTT-1.5.3-1]");
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      throw new ProtocolError(packetType, `${what} encodes a surrogate code point`, "[MQTT-1.5.3-1]");
    }
    if (code >= 0x10000) {
      code -= 0x10000;
      text += String.fromCharCode(0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff));
    } else {
      text += String.fromCharCode(code);
    }
    i += need + 1;
  }
  return text;
}
