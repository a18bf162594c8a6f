// CRC-32 (IEEE 802.3, reflected, init and final xor 0xffffffff) against its published check value and a second
// known answer, so a CRC that only agrees with itself cannot pass (mutation testing found the inversions unchecked).
import { describe, expect, it } from "vitest";
import { crc32, crc32Ascii } from "../../src/store/crc32";

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

describe("crc32", () => {
  it("matches the standard check value and known answers", () => {
    expect(crc32(ascii("123456789"))).toBe(0xcbf43926);
    expect(crc32(ascii("The quick brown fox jumps over the lazy dog"))).toBe(0x414fa339);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32Ascii("123456789")).toBe(0xcbf43926);
    expect(crc32Ascii("The quick brown fox jumps over the lazy dog")).toBe(0x414fa339);
    // Chained: the CRC of a text in two parts equals the CRC of the whole.
    expect(crc32Ascii("56789", crc32Ascii("1234"))).toBe(0xcbf43926);
    expect(crc32(ascii("56789"), 0, 5, crc32(ascii("1234")))).toBe(0xcbf43926);
  });
});
