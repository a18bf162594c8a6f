// The journal and item formats byte by byte, and journals crafted so their CRCs pass while their body is wrong: a CRC
// only proves the bytes are the ones written, so the decoder's own checks must refuse what no encoder writes.
// Also the order of backend calls a commit makes (the journal's commit point) and what recovery does with them.
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/errors";
import { writeU32 } from "../../src/store/bytes";
import { crc32 } from "../../src/store/crc32";
import {
  JOURNAL_NAME,
  JournaledStore,
  decodeItem,
  decodeJournal,
  encodeItem,
  encodeJournal,
  eraseStore,
  openVerifiedOrReset,
  type StoreBackend,
} from "../../src/store/journaled-store";
import { MemoryBackend } from "./fakes";
import { thrown } from "../support/thrown";

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];

/** A journal from a hand-written body: header with the right magic, size and both CRCs. */
function sealed(body: number[], size = 16 + body.length): Uint8Array {
  const bytes = new Uint8Array(16 + body.length);
  bytes.set(body, 16);
  writeU32(bytes, 0, 0x314e524a);
  writeU32(bytes, 4, size);
  writeU32(bytes, 8, crc32(bytes, 0, 8));
  writeU32(bytes, 12, crc32(bytes, 16, Math.min(size, bytes.length)));
  return bytes;
}

const storageError = (run: () => unknown): StorageError => thrown(StorageError, run);

const UNDECODABLE = "commit journal passes its CRC but does not decode; erase the store";

describe("item format", () => {
  it("is version 1, CRC-32 of key then value (little-endian), then the value", () => {
    const item = encodeItem("k", Uint8Array.of(1, 2));
    expect(Array.from(item)).toEqual([1, ...le32(crc32(ascii("k\x01\x02"))), 1, 2]);
    expect(Array.from(decodeItem("k", item))).toEqual([1, 2]);
    expect(Array.from(encodeItem("key", new Uint8Array(0)))).toEqual([1, ...le32(crc32(ascii("key")))]);
    expect(decodeItem("key", encodeItem("key", new Uint8Array(0)))).toHaveLength(0);
  });

  it("refuses a short item, another version (CRC right), and a CRC that does not match, naming the key", () => {
    const short = storageError(() => decodeItem("k", Uint8Array.of(1, 0, 0, 0)));
    expect(short.message).toContain("stored value has a bad header; delete the key or erase the store");
    expect(short.key).toBe("k");
    const version2 = encodeItem("k", Uint8Array.of(7));
    version2[0] = 2;
    expect(storageError(() => decodeItem("k", version2)).message).toContain("stored value has a bad header");
    const other = storageError(() => decodeItem("j", encodeItem("k", Uint8Array.of(7))));
    expect(other.message).toContain("stored value fails its CRC-32; delete the key or erase the store");
    expect(other.key).toBe("j");
  });
});

describe("journal format", () => {
  it("is magic JRN1, size, header CRC, body CRC, op count, then each op", () => {
    const bytes = encodeJournal([
      ["ab", Uint8Array.of(9, 8, 7)],
      ["z", null],
    ]);
    const body = [...le32(2), 1, 2, 0x61, 0x62, ...le32(3), 9, 8, 7, 0, 1, 0x7a];
    expect(Array.from(bytes)).toEqual(Array.from(sealed(body)));
    expect(Array.from(bytes.subarray(0, 4))).toEqual(Array.from(ascii("JRN1")));
    expect(decodeJournal(bytes)).toEqual([
      ["ab", Uint8Array.of(9, 8, 7)],
      ["z", null],
    ]);
    expect(decodeJournal(encodeJournal([]))).toEqual([]);
    expect(encodeJournal([])).toHaveLength(20);
  });

  it("reads anything shorter than its size, header included, as torn", () => {
    const bytes = encodeJournal([["k", Uint8Array.of(1)]]);
    for (let length = 0; length < bytes.length; length++) {
      expect(decodeJournal(bytes.subarray(0, length)), `prefix of ${length}`).toBeUndefined();
    }
  });

  it("refuses a bad magic or header CRC even when the rest is whole", () => {
    const magic = sealed([...le32(0)]);
    magic[3] = 0x32; // "JRN2", header CRC recomputed
    writeU32(magic, 8, crc32(magic, 0, 8));
    const error = storageError(() => decodeJournal(magic));
    expect(error.message).toContain("commit journal header fails its CRC-32; erase the store");
    expect(error.key).toBe(JOURNAL_NAME);
    expect(JOURNAL_NAME).toBe("(journal)");
    const crc = sealed([...le32(0)]);
    crc[8] ^= 1;
    expect(storageError(() => decodeJournal(crc)).message).toContain("header fails its CRC-32");
  });

  it("refuses trailing bytes and a wrong body CRC", () => {
    const whole = encodeJournal([["k", Uint8Array.of(1)]]);
    const longer = new Uint8Array(whole.length + 1);
    longer.set(whole);
    const error = storageError(() => decodeJournal(longer));
    expect(error.message).toContain("commit journal fails its CRC-32; erase the store");
    expect(error.key).toBe(JOURNAL_NAME);
    const flipped = whole.slice();
    flipped[12] ^= 0x80;
    expect(storageError(() => decodeJournal(flipped)).message).toContain("commit journal fails its CRC-32");
  });

  it("refuses a body whose CRC passes but that no encoder writes", () => {
    const refuse = (body: number[], why: string) => {
      const error = storageError(() => decodeJournal(sealed(body)));
      expect(error.message, why).toContain(UNDECODABLE);
      expect(error.key).toBe(JOURNAL_NAME);
    };
    refuse([...le32(1)], "a count of 1 with no op");
    refuse([...le32(2), 0, 1, 0x61], "a count of 2 with one op");
    refuse([...le32(0), 0, 1, 0x61], "an op after the counted ones");
    refuse([...le32(1), 0, 1, 0x61, 0], "a byte after the last op");
    refuse([...le32(1), 2, 1, 0x61], "an op kind that is neither delete nor put");
    refuse([...le32(1), 0, 0], "an empty key");
    refuse([...le32(1), 0, 16, ...ascii("abcdefghijklmnop")], "a key of 16 characters");
    refuse([...le32(1), 0, 1, 0x1f], "a key that is not printable");
    refuse([...le32(1), 0, 2, 0x61], "a key longer than the body");
    refuse([...le32(1), 1, 1, 0x61, 5, 0], "a put whose length is cut");
    refuse([...le32(1), 1, 1, 0x61, ...le32(2), 7], "a put whose value is cut");
    refuse([...le32(1), 1, 1, 0x61, ...le32(0xffffffff), 7], "a put longer than anything");
    // The smallest header: a size of 16 has no room for the count.
    const empty = storageError(() => decodeJournal(sealed([])));
    expect(empty.message).toContain(UNDECODABLE);
  });

  it("reads the ops at the very end of the body: a delete, and a put of nothing", () => {
    expect(decodeJournal(sealed([...le32(2), 1, 1, 0x61, ...le32(0), 0, 15, ...ascii("abcdefghijklmno")]))).toEqual([
      ["a", new Uint8Array(0)],
      ["abcdefghijklmno", null],
    ]);
    expect(decodeJournal(sealed([...le32(1), 1, 1, 0x7e, ...le32(1), 0xff]))).toEqual([["~", Uint8Array.of(0xff)]]);
  });
});

/** A backend in RAM that records every call a store makes on it. */
class RecordingBackend extends MemoryBackend {
  readonly calls: string[] = [];
  /** Item writes refused (as a full NVS partition does) while a journal is on the backend. */
  fullWhileJournal = false;

  override write(name: string, bytes: Uint8Array): void {
    this.calls.push(`write ${name}`);
    if (this.fullWhileJournal && this.journal !== undefined) throw new Error("no room");
    super.write(name, bytes);
  }
  override remove(name: string): void {
    this.calls.push(`remove ${name}`);
    super.remove(name);
  }
  override writeJournal(bytes: Uint8Array): void {
    this.calls.push("writeJournal");
    super.writeJournal(bytes);
  }
  override removeJournal(): void {
    this.calls.push("removeJournal");
    super.removeJournal();
  }
  override sync(): void {
    this.calls.push("sync");
  }
}

describe("JournaledStore's calls on its backend", () => {
  it("one change on a backend with atomic writes goes straight to its item", () => {
    const backend = new RecordingBackend(true);
    const store = JournaledStore.open(backend);
    backend.calls.length = 0;
    store.put("a", Uint8Array.of(1));
    store.commit();
    expect(backend.calls).toEqual(["write a", "sync"]);
    store.delete("a");
    store.commit();
    expect(backend.calls).toEqual(["write a", "sync", "remove a", "sync"]);
  });

  it("several changes, or any change without atomic writes, go through the journal: commit point, apply, remove", () => {
    const atomic = new RecordingBackend(true);
    const store = JournaledStore.open(atomic);
    atomic.calls.length = 0;
    store.put("a", Uint8Array.of(1));
    store.put("b", Uint8Array.of(2));
    store.commit();
    expect(atomic.calls).toEqual(["writeJournal", "sync", "write a", "write b", "sync", "removeJournal"]);
    const plain = new RecordingBackend(false);
    const one = JournaledStore.open(plain);
    plain.calls.length = 0;
    one.put("a", Uint8Array.of(1));
    one.commit();
    expect(plain.calls).toEqual(["writeJournal", "sync", "write a", "sync", "removeJournal"]);
  });

  it("open redoes a journal (deletes first), then removes it; without one it only clears the slot", () => {
    const backend = new RecordingBackend(false);
    backend.items.set("gone", encodeItem("gone", Uint8Array.of(0)));
    backend.journal = encodeJournal([
      ["new", Uint8Array.of(5)],
      ["gone", null],
    ]);
    const store = JournaledStore.open(backend);
    expect(backend.calls).toEqual(["remove gone", "write new", "sync", "removeJournal", "sync"]);
    expect(store.list("")).toEqual(["new"]);
    expect(Array.from(store.get("new") as Uint8Array)).toEqual([5]);
    backend.calls.length = 0;
    JournaledStore.open(backend);
    expect(backend.calls).toEqual(["removeJournal", "sync"]);
  });

  it("a put refused during the redo is tried again once the journal's room is free", () => {
    const backend = new RecordingBackend(false);
    backend.fullWhileJournal = true;
    backend.journal = encodeJournal([
      ["a", Uint8Array.of(1)],
      ["b", Uint8Array.of(2)],
    ]);
    const store = JournaledStore.open(backend);
    expect(backend.calls).toEqual(["write a", "write b", "sync", "removeJournal", "sync", "write a", "write b", "sync"]);
    expect(store.list("")).toEqual(["a", "b"]);
  });

  it("refuses a backend item whose name is no store key, naming it", () => {
    for (const name of ["", "sixteen-chars-xx", "tab\there"]) {
      const backend = new MemoryBackend();
      backend.items.set(name, encodeItem("x", Uint8Array.of(1)));
      const error = storageError(() => JournaledStore.open(backend));
      expect(error.message).toContain("backend holds an item that is not a store key; erase the store");
      expect(error.key).toBe(name);
    }
  });

  it("a value gone from the backend behind the store's back is a StorageError naming it; verify() finds it", () => {
    const backend = new MemoryBackend();
    const store = JournaledStore.open(backend);
    store.put("a", Uint8Array.of(1));
    store.put("b", Uint8Array.of(2));
    store.commit();
    backend.items.delete("b");
    const error = storageError(() => store.get("b"));
    expect(error.message).toContain("committed value is missing from the backend");
    expect(error.key).toBe("b");
    expect(storageError(() => store.verify()).key).toBe("b");
  });

  it("reports the backend's capacity, or none", () => {
    const backend = new MemoryBackend();
    expect(JournaledStore.open(backend).capacityBytes()).toBeUndefined();
    const sized = Object.assign(new MemoryBackend(), { capacityBytes: () => 12_345 });
    expect(JournaledStore.open(sized).capacityBytes()).toBe(12_345);
  });

  it("eraseStore clears the journal first, then every item, with a barrier after each", () => {
    const backend = new RecordingBackend(false);
    backend.items.set("a", encodeItem("a", Uint8Array.of(1)));
    backend.items.set("b", encodeItem("b", Uint8Array.of(2)));
    backend.journal = encodeJournal([]);
    eraseStore(backend);
    expect(backend.calls).toEqual(["removeJournal", "sync", "remove a", "remove b", "sync"]);
    expect(backend.items.size).toBe(0);
    expect(backend.journal).toBeUndefined();
  });

  it("openVerifiedOrReset resets a corrupt journal but passes on errors that are not about stored data", () => {
    const backend = new MemoryBackend();
    backend.items.set("a", encodeItem("a", Uint8Array.of(1)));
    backend.journal = sealed([...le32(1)]);
    const reports: StorageError[] = [];
    expect(openVerifiedOrReset(backend, (error) => reports.push(error)).list("")).toEqual([]);
    expect(reports.map((e) => e.key)).toEqual([JOURNAL_NAME]);
    const broken: StoreBackend = Object.assign(new MemoryBackend(), {
      names(): string[] {
        throw new TypeError("driver bug");
      },
    });
    expect(() => openVerifiedOrReset(broken, () => {})).toThrow(TypeError);
  });
});
