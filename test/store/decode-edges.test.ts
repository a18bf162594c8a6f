// Three decoder edges the mutation run of src/store found untested: a journal op kind of 2 laid out like a put, a put
// of nothing as the journal's last op, and a preference head of one byte that is not 0.
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/errors";
import { writeU32 } from "../../src/store/bytes";
import { crc32 } from "../../src/store/crc32";
import { decodeJournal } from "../../src/store/journaled-store";
import { PreferenceBackend } from "../../src/store/preference-backend";
import { FakePreference } from "./fakes";

const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];

/** A journal around a hand-written body, both CRCs right. */
function sealed(body: number[]): Uint8Array {
  const bytes = new Uint8Array(16 + body.length);
  bytes.set(body, 16);
  writeU32(bytes, 0, 0x314e524a);
  writeU32(bytes, 4, bytes.length);
  writeU32(bytes, 8, crc32(bytes, 0, 8));
  writeU32(bytes, 12, crc32(bytes, 16, bytes.length));
  return bytes;
}

describe("decoder edges", () => {
  it("a journal op of kind 2 is refused even when a put's layout follows it", () => {
    expect(decodeJournal(sealed([...le32(1), 1, 1, 0x61, ...le32(1), 7]))).toEqual([["a", Uint8Array.of(7)]]);
    expect(() => decodeJournal(sealed([...le32(1), 2, 1, 0x61, ...le32(1), 7]))).toThrow(StorageError);
    expect(() => decodeJournal(sealed([...le32(1), 0xff, 1, 0x61]))).toThrow(/passes its CRC but does not decode/);
  });

  it("a put of nothing may be the journal's last op", () => {
    expect(decodeJournal(sealed([...le32(1), 1, 1, 0x61, ...le32(0)]))).toEqual([["a", new Uint8Array(0)]]);
    expect(decodeJournal(sealed([...le32(2), 0, 1, 0x62, 1, 1, 0x61, ...le32(0)]))).toEqual([
      ["b", null],
      ["a", new Uint8Array(0)],
    ]);
  });

  it("a preference head shorter than the count reads as empty and removes as one chunk, whatever its byte", () => {
    const prefs = new FakePreference();
    const backend = new PreferenceBackend(prefs, "d", 10);
    prefs.set("d", "h", Uint8Array.of(2).buffer);
    prefs.set("d.1", "h", Uint8Array.of(9, 9, 9, 9).buffer);
    expect(backend.read("h")).toEqual(new Uint8Array(0));
    backend.remove("h");
    expect(prefs.get("d", "h")).toBeUndefined();
    expect(prefs.get("d.1", "h")).toBeInstanceOf(ArrayBuffer); // an orphan, never read
  });
});
