// A flipped byte in a stored value or in the commit journal is reported with a StorageError naming the key, never used.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { StorageError } from "../../src/errors";
import { eraseFileStore, fileNameForKey, openFileStore } from "../../src/platform/node/file-store";
import { crc32 } from "../../src/store/crc32";
import { JOURNAL_NAME, JournaledStore, openVerifiedOrReset } from "../../src/store/journaled-store";
import { PreferenceBackend } from "../../src/store/preference-backend";
import { FakePreference, MemoryBackend, PowerCut, PowerCutBackend } from "./fakes";
import { bytes, contents, text } from "./store-suite";

const root = mkdtempSync(join(tmpdir(), "store-corrupt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function flipped(data: Uint8Array, at: number): Uint8Array {
  const copy = data.slice();
  copy[at] ^= 0x01;
  return copy;
}

/** A disk holding a complete journal for a commit of `a`, `b` and a delete of `old` (the cut came at the sync after it). */
function diskWithJournal(): MemoryBackend {
  const disk = new MemoryBackend();
  const store = JournaledStore.open(disk);
  store.put("old", bytes(1));
  store.commit();
  const cutting = JournaledStore.open(new PowerCutBackend(disk, "before", 3)); // removeJournal, sync at open; then writeJournal
  cutting.put("a", text("alpha"));
  cutting.put("b", text("beta"));
  cutting.delete("old");
  expect(() => cutting.commit()).toThrow(PowerCut);
  expect(disk.journal).toBeDefined();
  return disk;
}

describe("crc32", () => {
  it("matches the standard check value and continues across pieces", () => {
    const data = text("123456789");
    expect(crc32(data)).toBe(0xcbf43926);
    expect(crc32(data, 4, 9, crc32(data, 0, 4))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe("corrupt values", () => {
  it("raises a StorageError naming the key for a flip at every byte of the item, and leaves other keys usable", () => {
    const disk = new MemoryBackend();
    const store = JournaledStore.open(disk);
    store.put("good", bytes(1, 2));
    store.put("bad", text("payload"));
    store.commit();
    const item = disk.items.get("bad")!;
    for (let at = 0; at < item.length; at++) {
      disk.items.set("bad", flipped(item, at));
      const reopened = JournaledStore.open(disk);
      expect(() => reopened.get("bad"), `flip at ${at}`).toThrow(StorageError);
      try {
        reopened.get("bad");
      } catch (error) {
        expect((error as StorageError).key).toBe("bad");
        expect((error as StorageError).message).toMatch(/"bad"/);
      }
      expect(() => reopened.verify()).toThrow(/"bad"/);
      expect(reopened.get("good")).toEqual(bytes(1, 2));
    }
    const reopened = JournaledStore.open(disk);
    reopened.delete("bad");
    reopened.commit();
    expect(contents(JournaledStore.open(disk))).toEqual({ good: [1, 2] });
  });

  it("refuses a value stored under another key's name (the CRC covers the key)", () => {
    const disk = new MemoryBackend();
    const store = JournaledStore.open(disk);
    store.put("k1", bytes(1));
    store.put("k2", bytes(2));
    store.commit();
    disk.items.set("k1", disk.items.get("k2")!);
    expect(() => JournaledStore.open(disk).get("k1")).toThrow(StorageError);
  });

  it("raises a StorageError for a truncated item", () => {
    const disk = new MemoryBackend();
    const store = JournaledStore.open(disk);
    store.put("k", text("abcdef"));
    store.commit();
    disk.items.set("k", disk.items.get("k")!.subarray(0, 7));
    expect(() => JournaledStore.open(disk).get("k")).toThrow(/key "k"/);
  });

  it("file store: a flipped byte in a value file is a StorageError naming the key", () => {
    const dir = join(root, "value");
    const store = openFileStore(dir, { fsync: false });
    store.put("Q/1", text("queued"));
    store.commit();
    const file = join(dir, fileNameForKey("Q/1"));
    writeFileSync(file, flipped(readFileSync(file), 8));
    expect(() => openFileStore(dir, { fsync: false }).get("Q/1")).toThrow(/key "Q\/1"/);
  });

  it("preferences: a value of the wrong type is a StorageError naming the key", () => {
    const prefs = new FakePreference();
    const store = JournaledStore.open(new PreferenceBackend(prefs, "mqtt"));
    store.put("k", bytes(1));
    store.commit();
    prefs.set("mqtt", "k", "text");
    expect(() => JournaledStore.open(new PreferenceBackend(prefs, "mqtt")).get("k")).toThrow(/key "k"/);
  });
});

describe("corrupt journal", () => {
  it("redoes an intact journal", () => {
    const disk = diskWithJournal();
    expect(contents(JournaledStore.open(disk))).toEqual({ a: Array.from(text("alpha")), b: Array.from(text("beta")) });
  });

  it("refuses to open for a flip at every byte of a complete journal, naming the journal", () => {
    const journal = diskWithJournal().journal!;
    for (let at = 0; at < journal.length; at++) {
      const disk = diskWithJournal();
      disk.journal = flipped(journal, at);
      let caught: unknown;
      try {
        JournaledStore.open(disk);
      } catch (error) {
        caught = error;
      }
      expect(caught, `flip at ${at}`).toBeInstanceOf(StorageError);
      expect((caught as StorageError).key).toBe(JOURNAL_NAME);
      expect(disk.items.has("a"), "nothing of a corrupt journal is applied").toBe(false);
    }
  });

  it("drops a torn journal (any prefix) and keeps the state before the commit", () => {
    const journal = diskWithJournal().journal!;
    for (let length = 0; length < journal.length; length++) {
      const disk = diskWithJournal();
      disk.journal = journal.subarray(0, length);
      expect(contents(JournaledStore.open(disk)), `prefix of ${length}`).toEqual({ old: [1] });
      expect(disk.journal).toBeUndefined();
    }
  });

  it("file store: a flipped byte in the journal file stops open with a StorageError", () => {
    const dir = join(root, "journal");
    const journal = diskWithJournal().journal!;
    const store = openFileStore(dir, { fsync: false });
    store.put("old", bytes(1));
    store.commit();
    writeFileSync(join(dir, "journal"), flipped(journal, journal.length - 1));
    expect(() => openFileStore(dir, { fsync: false })).toThrow(StorageError);
    eraseFileStore(dir);
    expect(openFileStore(dir, { fsync: false }).list("")).toEqual([]);
    writeFileSync(join(dir, "journal"), journal);
    expect(openFileStore(dir, { fsync: false }).list("")).toEqual(["a", "b"]);
    expect(readdirSync(dir).filter((name) => name !== "lock").sort()).toEqual([fileNameForKey("a"), fileNameForKey("b")]);
  });
});

describe("openVerifiedOrReset (the device's boot policy)", () => {
  it("a store whose value fails its checksum is reported, erased and opened empty; a sound one is kept", () => {
    const backend = new MemoryBackend();
    const first = openVerifiedOrReset(backend, () => {
      throw new Error("a sound store must not be reset");
    });
    first.put("o/1", new Uint8Array([1, 2, 3]));
    first.put("s/meta", new Uint8Array([4]));
    first.commit();
    expect(openVerifiedOrReset(backend, () => {
      throw new Error("a sound store must not be reset");
    }).get("o/1")).toEqual(new Uint8Array([1, 2, 3]));

    const item = backend.read("o/1") as Uint8Array;
    item[item.length - 1] ^= 0xff; // flash corruption in one value
    backend.write("o/1", item);
    const reports: StorageError[] = [];
    const reopened = openVerifiedOrReset(backend, (error) => reports.push(error));
    expect(reports).toHaveLength(1);
    expect(reports[0].message).toMatch(/o\/1/);
    expect(reopened.list("")).toEqual([]);
    reopened.put("o/2", new Uint8Array([9]));
    reopened.commit();
    expect(openVerifiedOrReset(backend, () => {}).get("o/2")).toEqual(new Uint8Array([9]));
  });
});
