// Base64 (RFC 4648, standard alphabet) decoding for HTTP Basic credentials: XS has no atob, and the core may not use Buffer.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** The bytes of `text`, or undefined when it is not padded base64 (whitespace, other characters, bad length). */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  let padding = 0;
  if (text.endsWith("==")) padding = 2;
  else if (text.endsWith("=")) padding = 1;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let group = 0;
    for (let j = 0; j < 4; j++) {
      const c = text.charAt(i + j);
      const last = i + 4 === text.length;
      let sextet: number;
      if (c === "=" && last && j >= 4 - padding) sextet = 0;
      else {
        sextet = ALPHABET.indexOf(c);
        if (sextet === -1 || c === "") return undefined;
      }
      group = (group << 6) | sextet;
    }
    if (o < out.length) out[o++] = (group >> 16) & 0xff;
    if (o < out.length) out[o++] = (group >> 8) & 0xff;
    if (o < out.length) out[o++] = group & 0xff;
  }
  return out;
}
