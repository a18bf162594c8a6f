// PreferenceBackend at its limits, call by call: argument checks with their messages, chunk boundaries, the chunk
// count's two bytes, the 15-character name limit, and exactly which NVS keys a write, a remove and the journal touch
// (a delete too many is invisible to reads but is an NVS write on the device).
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/errors";
import { JournaledStore } from "../../src/store/journaled-store";
import {
  DEFAULT_NVS_PARTITION_BYTES,
  NVS_ENTRIES_PER_PAGE,
  NVS_ENTRY_BYTES,
  NVS_PAGE_BYTES,
  NVS_RESERVED_PAGES,
  PREFERENCE_NAME_LIMIT,
  PREFERENCE_VALUE_LIMIT,
  PreferenceBackend,
  nvsCapacityBytes,
  type PreferenceApi,
} from "../../src/store/preference-backend";
import { FakePreference } from "./fakes";
import { thrown } from "../support/thrown";

const sized = (length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff);
const bytesAt = (prefs: FakePreference, domain: string, key: string): number[] => Array.from(new Uint8Array(prefs.get(domain, key) as ArrayBuffer));

/** A FakePreference that records every set and delete as "domain/key". */
function recorded(): { prefs: FakePreference; sets: string[]; deletes: string[] } {
  const prefs = new FakePreference();
  const sets: string[] = [];
  const deletes: string[] = [];
  const set = prefs.set.bind(prefs);
  const del = prefs.delete.bind(prefs);
  prefs.set = (domain, key, value) => {
    sets.push(`${domain}/${key}`);
    set(domain, key, value);
  };
  prefs.delete = (domain, key) => {
    deletes.push(`${domain}/${key}`);
    del(domain, key);
  };
  return { prefs, sets, deletes };
}

function rangeError(run: () => unknown): string {
  return thrown(RangeError, run).message;
}

describe("PreferenceBackend arguments", () => {
  it("domain: 1 to 12 characters", () => {
    expect([PREFERENCE_NAME_LIMIT, PREFERENCE_VALUE_LIMIT]).toEqual([15, 4000]);
    expect(rangeError(() => new PreferenceBackend(new FakePreference(), ""))).toBe('preference domain "" must be 1 to 12 characters (3 are kept for chunk suffixes)');
    expect(rangeError(() => new PreferenceBackend(new FakePreference(), "abcdefghijklm"))).toBe(
      'preference domain "abcdefghijklm" must be 1 to 12 characters (3 are kept for chunk suffixes)',
    );
    expect(new PreferenceBackend(new FakePreference(), "a").atomicWrites).toBe(false);
  });

  it("chunk size: 3 to 4000 bytes", () => {
    for (const bad of [2, 4001, 0]) {
      expect(rangeError(() => new PreferenceBackend(new FakePreference(), "d", bad))).toBe(`preference chunk size ${bad} must be 3..4000 bytes`);
    }
    for (const good of [3, 4000]) {
      const backend = new PreferenceBackend(new FakePreference(), "d", good);
      backend.write("k", sized(10_000));
      expect(Array.from(backend.read("k") as Uint8Array)).toEqual(Array.from(sized(10_000)));
    }
  });

  it("partition: a whole number of bytes, at least one page", () => {
    for (const bad of [4095, 4096.5, 0]) {
      expect(rangeError(() => new PreferenceBackend(new FakePreference(), "d", 4000, bad))).toBe(
        `NVS partition size ${bad} must be a whole number of bytes of at least one 4096-byte page`,
      );
    }
    expect(new PreferenceBackend(new FakePreference(), "d", 4000, 4096).capacityBytes()).toBe(0);
    expect(new PreferenceBackend(new FakePreference(), "d").capacityBytes()).toBe(nvsCapacityBytes(DEFAULT_NVS_PARTITION_BYTES));
  });
});

describe("nvsCapacityBytes", () => {
  it("counts whole pages less the two reserved ones, 126 entries of 32 bytes each", () => {
    expect([NVS_PAGE_BYTES, NVS_ENTRIES_PER_PAGE, NVS_ENTRY_BYTES, NVS_RESERVED_PAGES]).toEqual([4096, 126, 32, 2]);
    expect(nvsCapacityBytes(0)).toBe(0);
    expect(nvsCapacityBytes(4096)).toBe(0);
    expect(nvsCapacityBytes(8192)).toBe(0);
    expect(nvsCapacityBytes(12_287)).toBe(0);
    expect(nvsCapacityBytes(12_288)).toBe(4032);
    expect(nvsCapacityBytes(16_383)).toBe(4032);
    expect(nvsCapacityBytes(16_384)).toBe(8064);
  });
});

describe("PreferenceBackend chunks", () => {
  it("chunk 0 holds the count and chunkBytes - 2 bytes; later chunks chunkBytes each", () => {
    const { prefs } = recorded();
    const backend = new PreferenceBackend(prefs, "d", 10);
    backend.write("a", sized(8));
    expect(bytesAt(prefs, "d", "a")).toEqual([1, 0, ...sized(8)]);
    expect(prefs.get("d.1", "a")).toBeUndefined();
    backend.write("b", sized(9));
    expect(bytesAt(prefs, "d", "b")).toEqual([2, 0, ...sized(8)]);
    expect(bytesAt(prefs, "d.1", "b")).toEqual([sized(9)[8]]);
    backend.write("c", sized(18));
    expect(bytesAt(prefs, "d.1", "c")).toEqual(Array.from(sized(18).subarray(8)));
    expect(prefs.get("d.2", "c")).toBeUndefined();
    backend.write("e", sized(19));
    expect(bytesAt(prefs, "d", "e").slice(0, 2)).toEqual([3, 0]);
    expect(bytesAt(prefs, "d.2", "e")).toEqual([sized(19)[18]]);
    for (const [key, length] of [["a", 8], ["b", 9], ["c", 18], ["e", 19]] as const) {
      expect(Array.from(backend.read(key) as Uint8Array)).toEqual(Array.from(sized(length)));
    }
    backend.write("z", new Uint8Array(0));
    expect(bytesAt(prefs, "d", "z")).toEqual([1, 0]);
    expect(backend.read("z")).toEqual(new Uint8Array(0));
    expect(backend.names().sort()).toEqual(["a", "b", "c", "e", "z"]);
  });

  it("writes later chunks first and chunk 0 last, and deletes exactly the chunks a shorter value no longer uses", () => {
    const { prefs, sets, deletes } = recorded();
    const backend = new PreferenceBackend(prefs, "d", 10);
    backend.write("k", sized(30)); // 8 + 10 + 10 + 2: four chunks
    expect(sets).toEqual(["d.3/k", "d.2/k", "d.1/k", "d/k"]);
    backend.write("k", sized(12)); // two chunks
    expect(deletes).toEqual(["d.2/k", "d.3/k"]);
    expect(Array.from(backend.read("k") as Uint8Array)).toEqual(Array.from(sized(12)));
    deletes.length = 0;
    backend.write("k", sized(12));
    expect(deletes).toEqual([]);
    backend.remove("k");
    expect(deletes).toEqual(["d/k", "d.1/k"]);
    expect(backend.read("k")).toBeUndefined();
    deletes.length = 0;
    backend.remove("never");
    expect(deletes).toEqual([]);
  });

  it("keeps a chunk count above 255 in two bytes", () => {
    const { prefs } = recorded();
    const backend = new PreferenceBackend(prefs, "d", 3);
    const value = sized(1 + 255 * 3); // 256 chunks
    backend.write("k", value);
    expect(bytesAt(prefs, "d", "k")).toEqual([0, 1, value[0]]);
    expect(Array.from(backend.read("k") as Uint8Array)).toEqual(Array.from(value));
  });

  it("refuses a value that needs a chunk name past 15 characters, before writing anything", () => {
    const { prefs, sets } = recorded();
    const backend = new PreferenceBackend(prefs, "twelve-chars", 3);
    backend.write("ok", sized(1 + 99 * 3)); // chunks 0..99: "twelve-chars.99" is 15 characters
    expect(Array.from(backend.read("ok") as Uint8Array)).toEqual(Array.from(sized(298)));
    sets.length = 0;
    expect(thrown(StorageError, () => backend.write("big", sized(1 + 100 * 3))).message).toContain("value needs more than 100 chunks of 3 bytes; keep values smaller");
    expect(sets).toEqual([]);
    // Shrinking and removing the 100-chunk value touches only the chunks it has.
    backend.write("ok", sized(1));
    backend.remove("ok");
    expect(prefs.keys("twelve-chars")).toEqual([]);
  });

  it("refuses more than 65,535 chunks, naming the key", () => {
    // A bare map, not FakePreference: 65,535 chunks must stay quick.
    const entries = new Map<string, ArrayBuffer>();
    const bare: PreferenceApi = {
      set: (domain, key, value) => void entries.set(`${domain}/${key}`, value as ArrayBuffer),
      get: (domain, key) => entries.get(`${domain}/${key}`),
      delete: (domain, key) => void entries.delete(`${domain}/${key}`),
      keys: () => [],
    };
    const backend = new PreferenceBackend(bare, "d", 3);
    const most = 1 + 65_534 * 3; // 65,535 chunks
    const value = sized(most);
    backend.write("k", value);
    expect(entries.size).toBe(65_535);
    const back = backend.read("k") as Uint8Array;
    expect(back.length).toBe(most);
    expect(back.every((b, i) => b === value[i])).toBe(true);
    const tooLarge = thrown(StorageError, () => backend.write("k", sized(most + 1)));
    expect(tooLarge.message).toContain(`value of ${most + 1} bytes is too large for preferences`);
    expect(tooLarge.key).toBe("k");
  });

  it("reads a value missing a later chunk as short (the item CRC catches it), and a head under two bytes as empty", () => {
    const { prefs } = recorded();
    const backend = new PreferenceBackend(prefs, "d", 10);
    backend.write("k", sized(30));
    prefs.delete("d.1", "k");
    expect(Array.from(backend.read("k") as Uint8Array)).toEqual(Array.from(sized(8)));
    prefs.set("d", "h", new ArrayBuffer(1));
    prefs.set("d.1", "h", new ArrayBuffer(4));
    expect(backend.read("h")).toEqual(new Uint8Array(0));
    backend.remove("h"); // counts as one chunk: the rest is an orphan, never read
    expect(prefs.get("d", "h")).toBeUndefined();
    expect(prefs.get("d.1", "h")).toBeInstanceOf(ArrayBuffer);
    prefs.set("d", "zero", Uint8Array.of(0, 0, 5).buffer);
    expect(Array.from(backend.read("zero") as Uint8Array)).toEqual([5]);
    backend.remove("zero"); // a count of 0 still has its chunk 0
    expect(prefs.get("d", "zero")).toBeUndefined();
    // A head of exactly the two count bytes: its count says how many chunks to remove.
    prefs.set("d", "two", Uint8Array.of(3, 0).buffer);
    prefs.set("d.1", "two", Uint8Array.of(1).buffer);
    prefs.set("d.2", "two", Uint8Array.of(2).buffer);
    expect(Array.from(backend.read("two") as Uint8Array)).toEqual([1, 2]);
    backend.remove("two");
    expect([prefs.get("d", "two"), prefs.get("d.1", "two"), prefs.get("d.2", "two")]).toEqual([undefined, undefined, undefined]);
  });

  it("refuses a stored value that is not bytes, naming domain and key", () => {
    const prefs = new FakePreference();
    const backend = new PreferenceBackend(prefs, "d");
    prefs.set("d", "k", 42);
    const notBytes = thrown(StorageError, () => backend.read("k"));
    expect(notBytes.message).toContain("preference d/k is a number, not bytes; erase the store");
    expect(notBytes.key).toBe("k");
  });
});

describe("PreferenceBackend journal", () => {
  it("lives in domain.j under keys 0, 1, ...: chunk 0 removed first, then every other", () => {
    const { prefs, sets, deletes } = recorded();
    const backend = new PreferenceBackend(prefs, "d", 10);
    expect(backend.readJournal()).toBeUndefined();
    backend.writeJournal(sized(25));
    expect(sets).toEqual(["d.j/2", "d.j/1", "d.j/0"]);
    expect(bytesAt(prefs, "d.j", "0")).toEqual([3, 0, ...sized(8)]);
    expect(Array.from(backend.readJournal() as Uint8Array)).toEqual(Array.from(sized(25)));
    backend.removeJournal();
    expect(deletes).toEqual(["d.j/0", "d.j/2", "d.j/1"]);
    expect(backend.readJournal()).toBeUndefined();
    expect(prefs.keys("d.j")).toEqual([]);
    expect(backend.names()).toEqual([]);
  });

  it("serves a JournaledStore whose values span chunks across a reboot", () => {
    const prefs = new FakePreference();
    const store = JournaledStore.open(new PreferenceBackend(prefs, "d", 16));
    store.put("a", sized(100));
    store.put("b", sized(3));
    store.commit();
    const again = JournaledStore.open(new PreferenceBackend(prefs.reboot(), "d", 16));
    expect(Array.from(again.get("a") as Uint8Array)).toEqual(Array.from(sized(100)));
    expect(again.list("")).toEqual(["a", "b"]);
  });
});
