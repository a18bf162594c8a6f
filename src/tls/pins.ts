// Parses mqtt_pin_sha256, the SHA-256 digests of the broker public keys the device accepts; no platform imports.

/**
 * Parses mqtt_pin_sha256: SHA-256 digests of the broker's SubjectPublicKeyInfo, comma separated (two during a key
 * rollover), each as 64 hex digits (":" allowed between bytes) or 44 base64 characters (curl's "sha256//" form
 * accepted). Returns a reason string when the text is not that.
 */
export function parsePins(text: string): Uint8Array[] | string {
  const out: Uint8Array[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim().replace(/^sha256\/\//, "");
    if (item === "") continue;
    const hex = item.replace(/:/g, "");
    if (/^[0-9A-Fa-f]{64}$/.test(hex)) {
      const pin = new Uint8Array(32);
      for (let i = 0; i < 32; i++) pin[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
      out.push(pin);
    } else if (/^[A-Za-z0-9+/]{43}=$/.test(item)) {
      out.push(decodeBase64(item));
    } else {
      return `expected SHA-256 digests of the broker's public key (64 hex digits or 44 base64 characters, comma separated), got "${item.slice(0, 80)}"`;
    }
  }
  return out;
}

function decodeBase64(text: string): Uint8Array {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text.replace(/=+$/, "")) {
    value = (value << 6) | alphabet.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}
