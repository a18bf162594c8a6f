// repairUntil, the boot's way past a damaged store: delete the key each StorageError names, erase everything when it
// names none (or one the store cannot delete) or after 64 deletes, and pass every other error on.
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/errors";
import { MemoryStore } from "../../src/store/memory-store";
import { repairUntil } from "../../src/store/repair";
import type { Logger } from "../../src/ports";

function storeWith(...keys: string[]): MemoryStore {
  const store = new MemoryStore();
  for (const key of keys) store.put(key, Uint8Array.of(1));
  store.commit();
  return store;
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => {}, warn: (message) => warnings.push(message) };
}

describe("repairUntil", () => {
  it("returns what boot returns when the store is sound, touching nothing", () => {
    const store = storeWith("a");
    const logger = recordingLogger();
    expect(repairUntil(store, logger, () => 42)).toBe(42);
    expect(logger.warnings).toEqual([]);
    expect(store.list("")).toEqual(["a"]);
  });

  it("deletes each key a StorageError names, says so, and boots again", () => {
    const store = storeWith("o/1", "o/2", "s/meta");
    const logger = recordingLogger();
    const bad = ["o/2", "o/1"];
    let boots = 0;
    const result = repairUntil(store, logger, () => {
      boots++;
      const key = bad.find((k) => store.get(k) !== undefined);
      if (key !== undefined) throw new StorageError("fails its CRC-32", key);
      return "up";
    });
    expect(result).toBe("up");
    expect(boots).toBe(3);
    expect(store.list("")).toEqual(["s/meta"]);
    expect(logger.warnings).toEqual([
      'store: fails its CRC-32 (key "o/2"); deleted "o/2" to boot (what it held is lost)',
      'store: fails its CRC-32 (key "o/1"); deleted "o/1" to boot (what it held is lost)',
    ]);
  });

  it("erases every key for an error naming no key, or a key the store does not hold, and boots again", () => {
    for (const error of [new StorageError("journal is corrupt"), new StorageError("journal is corrupt", "(journal)"), new StorageError("x", "o/")]) {
      const store = storeWith("o/1", "o/2");
      const logger = recordingLogger();
      let boots = 0;
      expect(
        repairUntil(store, logger, () => {
          if (boots++ === 0) throw error;
          return store.list("");
        }),
      ).toEqual([]);
      expect(logger.warnings).toEqual([`store: ${error.message}; erasing every key to boot (what the store held is lost)`]);
    }
  });

  it("erases after 64 deletes, and gives up with the error when the store still fails once erased", () => {
    const keys = Array.from({ length: 70 }, (_, i) => `k${i}`);
    const store = storeWith(...keys);
    const logger = recordingLogger();
    let boots = 0;
    const failure = new StorageError("still broken");
    let caught: unknown;
    try {
      repairUntil(store, logger, () => {
        boots++;
        const left = store.list("k");
        throw left.length > 0 ? new StorageError("bad value", left[0]) : failure;
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(failure);
    expect(logger.warnings.filter((w) => w.includes("; deleted "))).toHaveLength(64);
    expect(logger.warnings.filter((w) => w.includes("erasing every key"))).toHaveLength(1);
    expect(logger.warnings[64]).toContain("erasing every key");
    expect(boots).toBe(66);
    expect(store.list("")).toEqual([]);
  });

  it("passes any other error on at once, and works without a logger", () => {
    const store = storeWith("a");
    const config = new RangeError("bad config");
    expect(() => repairUntil(store, undefined, () => {
      throw config;
    })).toThrow(config);
    expect(store.list("")).toEqual(["a"]);
    let boots = 0;
    expect(repairUntil(store, undefined, () => {
      if (boots++ === 0) throw new StorageError("bad", "a");
      return store.list("");
    })).toEqual([]);
  });

  it("erases when deleting the named key fails", () => {
    const store = storeWith("a", "b");
    const logger = recordingLogger();
    const commit = store.commit.bind(store);
    let failNext = true;
    store.commit = () => {
      if (failNext) {
        failNext = false;
        throw new Error("write failed");
      }
      commit();
    };
    let boots = 0;
    repairUntil(store, logger, () => {
      if (boots++ === 0) throw new StorageError("bad", "a");
    });
    expect(logger.warnings).toEqual(['store: bad (key "a"); erasing every key to boot (what the store held is lost)']);
  });
});
