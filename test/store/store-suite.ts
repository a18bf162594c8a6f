// The one behavioural suite every SessionStore passes; each store file calls it with its own harness.
import { describe, expect, it } from "vitest";
import type { SessionStore } from "../../src/store/session-store";
import { bytes, contents, text } from "./workload";

/** Opens a store on the same durable place each time it is called: a second call is a reboot. */
export type OpenStore = () => SessionStore;

export { bytes, contents, text } from "./workload";

export function sessionStoreSuite(name: string, place: () => OpenStore): void {
  describe(`SessionStore: ${name}`, () => {
    it("gets what was put, undefined for a missing key, and overwrites", () => {
      const store = place()();
      expect(store.get("missing")).toBeUndefined();
      store.put("a", bytes(1, 2, 3));
      store.put("empty", new Uint8Array(0));
      expect(store.get("a")).toEqual(bytes(1, 2, 3));
      store.commit();
      expect(store.get("a")).toEqual(bytes(1, 2, 3));
      expect(store.get("empty")).toEqual(new Uint8Array(0));
      store.put("a", bytes(9));
      expect(store.get("a")).toEqual(bytes(9));
      store.commit();
      expect(store.get("a")).toEqual(bytes(9));
    });

    it("shows staged puts and deletes to get and list before commit", () => {
      const store = place()();
      store.put("k1", bytes(1));
      store.put("k2", bytes(2));
      store.commit();
      store.delete("k1");
      store.put("k3", bytes(3));
      expect(store.get("k1")).toBeUndefined();
      expect(store.get("k3")).toEqual(bytes(3));
      expect(store.list("k")).toEqual(["k2", "k3"]);
      store.put("k1", bytes(11));
      expect(store.list("k")).toEqual(["k1", "k2", "k3"]);
      store.delete("k3");
      expect(store.list("k")).toEqual(["k1", "k2"]);
      store.commit();
      expect(contents(store)).toEqual({ k1: [11], k2: [2] });
    });

    it("lists keys with a prefix in ascending string order, committed and staged mixed", () => {
      const store = place()();
      for (const key of ["q/10", "b", "q/2", "q/1", "a", "qq", "q/"]) store.put(key, bytes(1));
      store.commit();
      store.put("q/05", bytes(2));
      store.delete("q/2");
      expect(store.list("")).toEqual(["a", "b", "q/", "q/05", "q/1", "q/10", "qq"]);
      expect(store.list("q/")).toEqual(["q/", "q/05", "q/1", "q/10"]);
      expect(store.list("q/1")).toEqual(["q/1", "q/10"]);
      expect(store.list("z")).toEqual([]);
      store.commit();
      expect(store.list("q/")).toEqual(["q/", "q/05", "q/1", "q/10"]);
    });

    it("copies values in and out", () => {
      const store = place()();
      const value = bytes(1, 2, 3);
      store.put("v", value);
      value[0] = 99;
      expect(store.get("v")).toEqual(bytes(1, 2, 3));
      store.get("v")![1] = 99;
      expect(store.get("v")).toEqual(bytes(1, 2, 3));
      store.commit();
      store.get("v")![2] = 99;
      expect(store.get("v")).toEqual(bytes(1, 2, 3));
      const view = new Uint8Array([0, 7, 8, 0]).subarray(1, 3);
      store.put("view", view);
      store.commit();
      expect(store.get("view")).toEqual(bytes(7, 8));
    });

    it("takes keys of 1 to 15 printable ASCII characters and refuses others with a RangeError", () => {
      const store = place()();
      store.put("123456789012345", bytes(1));
      store.put(" ~%/.:", bytes(2));
      store.commit();
      expect(store.get("123456789012345")).toEqual(bytes(1));
      expect(store.get(" ~%/.:")).toEqual(bytes(2));
      for (const bad of ["", "1234567890123456", "caf\u00e9", "tab\t"]) {
        expect(() => store.put(bad, bytes(1))).toThrow(RangeError);
        expect(() => store.get(bad)).toThrow(RangeError);
        expect(() => store.delete(bad)).toThrow(RangeError);
      }
      expect(() => store.put("1234567890123456", bytes(1))).toThrow(/1 to 15 characters/);
    });

    it("keeps every committed change across a reopen, large values included", () => {
      const open = place();
      const store = open();
      const large = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) & 0xff);
      store.put("large", large);
      store.put("a", bytes(1));
      store.put("b", bytes(2));
      store.commit();
      store.delete("a");
      store.put("c", text("three"));
      store.commit();
      const reopened = open();
      expect(reopened.list("")).toEqual(["b", "c", "large"]);
      expect(reopened.get("large")).toEqual(large);
      expect(reopened.get("c")).toEqual(text("three"));
      reopened.put("large", bytes(5));
      reopened.commit();
      expect(open().get("large")).toEqual(bytes(5));
    });

    it("loses only the uncommitted changes when reopened without commit", () => {
      const open = place();
      const store = open();
      store.put("keep", bytes(1));
      store.put("old", bytes(2));
      store.commit();
      store.put("keep", bytes(9));
      store.delete("old");
      store.put("new", bytes(3));
      const reopened = open();
      expect(contents(reopened)).toEqual({ keep: [1], old: [2] });
    });

    it("commits a put then delete of the same key as a delete, and a delete then put as a put", () => {
      const open = place();
      const store = open();
      store.put("x", bytes(1));
      store.put("y", bytes(2));
      store.commit();
      store.put("x", bytes(5));
      store.delete("x");
      store.delete("y");
      store.put("y", bytes(6));
      store.put("z", bytes(7));
      store.delete("z");
      store.commit();
      store.commit();
      expect(contents(open())).toEqual({ y: [6] });
    });

    it("matches a model over many small commits and a reopen", () => {
      const open = place();
      const store = open();
      const model = new Map<string, number[]>();
      for (let i = 0; i < 300; i++) {
        const key = `m/${(i * 37) % 23}`;
        if (i % 5 === 4) {
          store.delete(key);
          model.delete(key);
        } else {
          const value = [i & 0xff, i >> 8, i % 3];
          store.put(key, Uint8Array.from(value));
          model.set(key, value);
        }
        if (i % 3 !== 1) store.commit();
      }
      store.commit();
      const expected = Object.fromEntries([...model].sort(([a], [b]) => (a < b ? -1 : 1)));
      expect(contents(store)).toEqual(expected);
      expect(contents(open())).toEqual(expected);
    });
  });
}
