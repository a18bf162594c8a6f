// The little-endian and varint helpers every stored format shares, at their byte boundaries.
import { describe, expect, it } from "vitest";
import { pushVarint, readU32, writeU32 } from "../../src/store/bytes";

describe("store bytes", () => {
  it("writes and reads u32 little-endian, the top bit included", () => {
    const bytes = new Uint8Array(6);
    writeU32(bytes, 1, 0x89abcdef);
    expect(Array.from(bytes)).toEqual([0, 0xef, 0xcd, 0xab, 0x89, 0]);
    expect(readU32(bytes, 1)).toBe(0x89abcdef);
    writeU32(bytes, 2, 0xffffffff);
    expect(readU32(bytes, 2)).toBe(0xffffffff);
    expect(readU32(Uint8Array.of(1, 2, 3, 4), 0)).toBe(0x04030201);
  });

  it("writes varints 7 bits a byte, low first, the high bit on all but the last", () => {
    const varint = (value: number) => {
      const out: number[] = [];
      pushVarint(out, value);
      return out;
    };
    expect(varint(0)).toEqual([0]);
    expect(varint(127)).toEqual([0x7f]);
    expect(varint(128)).toEqual([0x80, 0x01]);
    expect(varint(129)).toEqual([0x81, 0x01]);
    expect(varint(16_383)).toEqual([0xff, 0x7f]);
    expect(varint(16_384)).toEqual([0x80, 0x80, 0x01]);
    expect(varint(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(varint(2 ** 40 + 5)).toEqual([0x85, 0x80, 0x80, 0x80, 0x80, 0x20]); // past 32 bits: no bitwise shortcut
  });
});
