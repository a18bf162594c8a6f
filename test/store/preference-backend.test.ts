// The preference backend's NVS layout: chunks within the 4000-byte and 15-character limits, no chunk left behind.
import { describe, expect, it } from "vitest";
import { JournaledStore } from "../../src/store/journaled-store";
import { PreferenceBackend } from "../../src/store/preference-backend";
import { FakePreference } from "./fakes";

const sized = (length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => i & 0xff);
const domainsHolding = (prefs: FakePreference, key: string): string[] =>
  [...prefs.domains].filter(([, entries]) => entries.has(key)).map(([domain]) => domain).sort();

describe("PreferenceBackend", () => {
  it("splits a value over domain, domain.1, domain.2 and removes the extra chunks when it shrinks or goes", () => {
    const prefs = new FakePreference();
    const store = JournaledStore.open(new PreferenceBackend(prefs, "mqtt"));
    store.put("big", sized(9000));
    store.commit();
    expect(domainsHolding(prefs, "big")).toEqual(["mqtt", "mqtt.1", "mqtt.2"]);
    for (const entries of prefs.domains.values()) {
      for (const value of entries.values()) expect((value as ArrayBuffer).byteLength).toBeLessThanOrEqual(4000);
    }
    store.put("big", sized(10));
    store.commit();
    expect(domainsHolding(prefs, "big")).toEqual(["mqtt"]);
    store.put("big", sized(5000));
    store.commit();
    store.delete("big");
    store.commit();
    expect(domainsHolding(prefs, "big")).toEqual([]);
    expect(prefs.keys("mqtt.j")).toEqual([]);
  });

  it("keeps a multi-chunk journal whole or absent: chunk 0 is written last", () => {
    const prefs = new FakePreference();
    const store = JournaledStore.open(new PreferenceBackend(prefs, "mqtt"));
    const order: string[] = [];
    const set = prefs.set.bind(prefs);
    prefs.set = (domain, key, value) => {
      if (domain === "mqtt.j") order.push(key);
      set(domain, key, value);
    };
    store.put("a", sized(3000));
    store.put("b", sized(3000));
    store.commit();
    expect(order).toEqual(["1", "0"]);
  });

  it("refuses a domain that leaves no room for the chunk suffixes", () => {
    expect(() => new PreferenceBackend(new FakePreference(), "thirteen-char")).toThrow(RangeError);
    expect(() => new PreferenceBackend(new FakePreference(), "twelve-chars")).not.toThrow();
  });
});
