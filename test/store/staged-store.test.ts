// What every store inherits from StagedStore, at its edges: the key rule's messages, prefix listing around the sorted
// index's boundaries, which changes reach persist(), and the failed-commit rule (refused until recover(), except when
// the store was only full).
import { describe, expect, it } from "vitest";
import { StorageError, StoreFullError } from "../../src/errors";
import { MemoryStore } from "../../src/store/memory-store";
import { checkKey, StagedStore, type StagedOp } from "../../src/store/staged-store";
import { MAX_KEY_LENGTH } from "../../src/store/session-store";
import { thrown } from "../support/thrown";

function rangeMessage(key: unknown): string {
  return thrown(RangeError, () => checkKey(key as string)).message;
}

/** A store whose persist() records the ops it is given and fails when told to. */
class ScriptedStore extends StagedStore {
  readonly persisted: StagedOp[][] = [];
  readonly values = new Map<string, Uint8Array>();
  fail: unknown = undefined;
  restored = 0;

  constructor(keys: string[] = []) {
    super(keys);
    for (const key of keys) this.values.set(key, Uint8Array.of(key.length));
  }
  protected override readCommitted(key: string): Uint8Array {
    return (this.values.get(key) as Uint8Array).slice();
  }
  protected override persist(ops: readonly StagedOp[]): void {
    if (this.fail !== undefined) throw this.fail;
    this.persisted.push(ops.map(([k, v]) => [k, v === null ? null : v.slice()] as const));
    for (const [key, value] of ops) {
      if (value === null) this.values.delete(key);
      else this.values.set(key, value);
    }
  }
  protected override restore(): Iterable<string> {
    this.restored++;
    return this.values.keys();
  }
}

describe("checkKey", () => {
  it("takes 1 to 15 characters from space to tilde", () => {
    expect(MAX_KEY_LENGTH).toBe(15);
    for (const key of [" ", "~", "a".repeat(15), "o/00000001", "!\"#$%&'()*+,-./"]) expect(() => checkKey(key)).not.toThrow();
  });

  it("names the length rule, or the first character outside printable ASCII and its code", () => {
    expect(rangeMessage("")).toBe('store key "" must be 1 to 15 characters (ESP32 NVS key limit)');
    expect(rangeMessage("a".repeat(16))).toBe(`store key "${"a".repeat(16)}" must be 1 to 15 characters (ESP32 NVS key limit)`);
    expect(rangeMessage(42)).toBe('store key "42" must be 1 to 15 characters (ESP32 NVS key limit)');
    expect(rangeMessage("ab\x1fc\x7f")).toBe('store key "ab\x1fc\x7f" must be printable ASCII; character 2 is 0x1f');
    expect(rangeMessage("abc\x7f")).toBe('store key "abc\x7f" must be printable ASCII; character 3 is 0x7f');
    expect(rangeMessage("\u00e9")).toBe('store key "\u00e9" must be printable ASCII; character 0 is 0xe9');
    expect(rangeMessage("a\u20ac")).toBe('store key "a\u20ac" must be printable ASCII; character 1 is 0x20ac');
    // The first bad character is named, not a space or tilde before it, and a 15-character key is not "too long".
    expect(rangeMessage(" \x01")).toBe('store key " \x01" must be printable ASCII; character 1 is 0x1');
    expect(rangeMessage("~\x01")).toBe('store key "~\x01" must be printable ASCII; character 1 is 0x1');
    expect(rangeMessage(`${"a".repeat(14)}\x01`)).toBe(`store key "${"a".repeat(14)}\x01" must be printable ASCII; character 14 is 0x1`);
  });
});

describe("StagedStore", () => {
  it("lists a prefix exactly: keys just below and just above it are left out, staged keys merged in order", () => {
    const store = new ScriptedStore(["a", "ab", "abc", "abd", "ac", "b", "aa~"]);
    expect(store.list("ab")).toEqual(["ab", "abc", "abd"]);
    expect(store.list("")).toEqual(["a", "aa~", "ab", "abc", "abd", "ac", "b"]);
    expect(store.list("b")).toEqual(["b"]);
    expect(store.list("c")).toEqual([]);
    expect(store.list("0")).toEqual([]);
    expect(store.list("abc")).toEqual(["abc"]);
    store.put("abb", Uint8Array.of(1));
    store.put("zz", Uint8Array.of(1));
    store.delete("abc");
    expect(store.list("ab")).toEqual(["ab", "abb", "abd"]);
    store.put("abd", Uint8Array.of(9)); // staged over a committed key: listed once
    expect(store.list("ab")).toEqual(["ab", "abb", "abd"]);
    store.put("aba", Uint8Array.of(1)); // staged keys alone come out sorted too
    expect(store.list("ab")).toEqual(["ab", "aba", "abb", "abd"]);
  });

  it("a binary search over many keys finds every prefix's first key", () => {
    const keys = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(3, "0")}`);
    const store = new ScriptedStore([...keys].reverse());
    for (let i = 0; i < 100; i += 7) {
      const key = keys[i];
      expect(store.list(key)).toEqual([key]);
      expect(store.list(key.slice(0, 3))).toEqual(keys.filter((k) => k.startsWith(key.slice(0, 3))));
    }
  });

  it("persists each changed key once, the last change winning, and nothing for an empty commit", () => {
    const store = new ScriptedStore(["old"]);
    store.commit();
    expect(store.persisted).toEqual([]);
    store.put("a", Uint8Array.of(1));
    store.put("a", Uint8Array.of(2));
    store.delete("old");
    store.delete("never"); // never committed: nothing to persist
    expect(store.pending).toBe(2);
    store.commit();
    expect(store.persisted).toEqual([
      [
        ["a", Uint8Array.of(2)],
        ["old", null],
      ],
    ]);
    expect(store.pending).toBe(0);
    expect(store.list("")).toEqual(["a"]);
    store.put("b", Uint8Array.of(3));
    store.delete("b");
    expect(store.pending).toBe(0);
  });

  it("refuses a value that is not a Uint8Array", () => {
    const store = new ScriptedStore();
    expect(() => store.put("k", [1, 2] as unknown as Uint8Array)).toThrow(new TypeError('store value for "k" must be a Uint8Array'));
  });

  it("after a failed commit refuses every use, naming the cause, until recover() reads the backend back", () => {
    const store = new ScriptedStore(["kept"]);
    store.put("x", Uint8Array.of(1));
    store.fail = new Error("disk gone");
    expect(() => store.commit()).toThrow("disk gone");
    const refused = "store unusable after a failed commit (disk gone); reopen it to get the last committed state";
    for (const use of [() => store.get("kept"), () => store.list(""), () => store.put("y", Uint8Array.of(1)), () => store.delete("kept"), () => store.commit()]) {
      expect(use).toThrow(new StorageError(refused));
    }
    store.fail = undefined;
    store.values.set("appeared", Uint8Array.of(8)); // what the backend holds after its own recovery
    store.recover();
    expect(store.restored).toBe(1);
    expect(store.list("")).toEqual(["appeared", "kept"]);
    expect(store.get("x")).toBeUndefined();
    expect(store.pending).toBe(0);
  });

  it("wraps a thrown non-Error in an Error for the refusal message", () => {
    const store = new ScriptedStore();
    store.put("x", Uint8Array.of(1));
    store.fail = "flash says no";
    expect(() => store.commit()).toThrow();
    expect(() => store.list("")).toThrow("store unusable after a failed commit (flash says no)");
  });

  it("stays usable after StoreFullError, the changes still staged", () => {
    const store = new ScriptedStore();
    store.put("x", Uint8Array.of(1));
    store.fail = new StoreFullError("full");
    expect(() => store.commit()).toThrow(StoreFullError);
    expect(store.pending).toBe(1);
    expect(store.list("")).toEqual(["x"]);
    store.fail = undefined;
    store.commit();
    expect(store.persisted).toHaveLength(1);
  });

  it("recover() without a failure drops the staged changes and leaves the backend alone", () => {
    const store = new ScriptedStore(["a"]);
    store.put("b", Uint8Array.of(1));
    store.delete("a");
    store.recover();
    expect(store.restored).toBe(0);
    expect(store.pending).toBe(0);
    expect(store.list("")).toEqual(["a"]);
  });

  it("keeps the sorted index right as commits add and remove keys", () => {
    const store = new ScriptedStore(["m"]);
    expect(store.list("")).toEqual(["m"]);
    store.put("a", Uint8Array.of(1));
    store.commit();
    expect(store.list("")).toEqual(["a", "m"]);
    store.put("m", Uint8Array.of(2)); // an existing key: the index is unchanged
    store.commit();
    expect(store.list("")).toEqual(["a", "m"]);
    store.delete("m");
    store.commit();
    expect(store.list("")).toEqual(["a"]);
    store.put("z", Uint8Array.of(1));
    store.delete("a");
    store.commit();
    expect(store.list("")).toEqual(["z"]);
  });

  it("MemoryStore recovers from a failed commit with the keys its map holds", () => {
    class FailingOnce extends MemoryStore {
      fail = true;
      protected override persist(ops: readonly StagedOp[]): void {
        if (this.fail) {
          this.fail = false;
          throw new Error("lost power");
        }
        super.persist(ops);
      }
    }
    const store = new FailingOnce(new Map([["kept", Uint8Array.of(1)]]));
    store.put("new", Uint8Array.of(2));
    expect(() => store.commit()).toThrow("lost power");
    store.recover();
    expect(store.list("")).toEqual(["kept"]);
    expect(store.get("kept")).toEqual(Uint8Array.of(1));
  });

  it("MemoryStore reads an empty value for a key its map lost", () => {
    const map = new Map<string, Uint8Array>([["a", Uint8Array.of(1)]]);
    const store = new MemoryStore(map);
    map.delete("a");
    expect(store.get("a")).toEqual(new Uint8Array(0));
  });
});
