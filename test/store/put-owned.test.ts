// SessionStore.putOwned: put() without the copy, for records the session encodes and hands over. Same rules and the same
// durability as put on every store; the session uses it where a store has it and put() where it does not.
import { describe, expect, it } from "vitest";
import { Session } from "../../src/mqtt/session";
import { encodeUtf8 } from "../../src/mqtt/utf8";
import { FlashLogStore } from "../../src/store/flash-log";
import { JournaledStore } from "../../src/store/journaled-store";
import { MemoryStore } from "../../src/store/memory-store";
import type { SessionStore } from "../../src/store/session-store";
import { MemoryBackend } from "./fakes";
import { SimNorFlash } from "./nor-flash";

const STORES: Array<[string, () => () => SessionStore]> = [
  ["MemoryStore", () => {
    const committed = new Map<string, Uint8Array>();
    return () => new MemoryStore(committed);
  }],
  ["JournaledStore", () => {
    const backend = new MemoryBackend(false);
    return () => JournaledStore.open(backend);
  }],
  ["FlashLogStore", () => {
    let flash = new SimNorFlash(64 * 1024);
    return () => {
      flash = flash.reboot();
      return FlashLogStore.open(flash);
    };
  }],
];

describe.each(STORES)("putOwned on %s", (_name, place) => {
  it("stages, shows, commits and keeps a value as put does, with the same key and value checks", () => {
    const open = place();
    const store = open();
    store.putOwned?.("o/00000001", Uint8Array.of(1, 2, 3));
    expect(store.get("o/00000001")).toEqual(Uint8Array.of(1, 2, 3));
    expect(store.list("o/")).toEqual(["o/00000001"]);
    store.commit();
    expect(open().get("o/00000001")).toEqual(Uint8Array.of(1, 2, 3));
    expect(() => store.putOwned?.("", Uint8Array.of(1))).toThrow(RangeError);
    expect(() => store.putOwned?.("k", [1] as unknown as Uint8Array)).toThrow(TypeError);
    expect(typeof store.putOwned).toBe("function");
  });
});

describe("the session's records", () => {
  const limits = { maxInflight: 4, queueMaxMessages: 10, queueMaxBytes: 10_000, dropPolicy: "oldest" as const };

  it("are handed over with putOwned where the store has it, and written with put where it does not", () => {
    const calls: string[] = [];
    const memory = new MemoryStore();
    const withPutOwned: SessionStore = {
      get: (key) => memory.get(key),
      list: (prefix) => memory.list(prefix),
      put: (key, value) => (calls.push(`put ${key}`), memory.put(key, value)),
      putOwned: (key, value) => (calls.push(`putOwned ${key}`), memory.put(key, value)),
      delete: (key) => memory.delete(key),
      commit: () => memory.commit(),
    };
    new Session(withPutOwned, limits).enqueue("t", encodeUtf8("t"), Uint8Array.of(1), 1, false);
    expect(calls).toEqual(["putOwned o/00000001"]);

    calls.length = 0;
    const { putOwned: _unused, ...withoutPutOwned } = withPutOwned;
    const session = new Session(withoutPutOwned, limits);
    session.enqueue("t", encodeUtf8("t"), Uint8Array.of(1), 1, false);
    session.commit();
    expect(calls).toEqual(["put o/00000002", "put s/meta"]);
  });
});
