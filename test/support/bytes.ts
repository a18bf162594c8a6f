// Byte helpers for tests and benchmarks: joining arrays and writing an MQTT remaining length by hand.

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The variable-length Remaining Length encoding (2.2.3), written independently of the codec so tests can forge headers. */
export function remainingLengthBytes(value: number): Uint8Array {
  const out: number[] = [];
  do {
    let digit = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) digit |= 0x80;
    out.push(digit);
  } while (value > 0);
  return Uint8Array.from(out);
}
