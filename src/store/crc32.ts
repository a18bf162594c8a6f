// CRC-32 (IEEE 802.3, reflected 0xEDB88320), table-driven and portable: guards every stored value and commit journal.

const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/**
 * CRC-32 of `bytes[start..end)`, continuing from `previous` (the result of an earlier call) so a
 * record can be checksummed in pieces. crc32(ASCII "123456789") is 0xCBF43926.
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, previous = 0): number {
  let c = ~previous;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 of the ASCII string `text` (a store key), continuing from `previous`. */
export function crc32Ascii(text: string, previous = 0): number {
  let c = ~previous;
  for (let i = 0; i < text.length; i++) c = TABLE[(c ^ text.charCodeAt(i)) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
