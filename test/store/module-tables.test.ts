// The store's module-level tables and names (the CRC table, the key pattern, the journal's names, the health's time
// units), each checked in a module imported afresh inside the test: StrykerJS activates a mutant of module-level code
// only in tests that load the module themselves, and these are built once at load.
import { beforeEach, describe, expect, it, vi } from "vitest";

beforeEach(() => {
  vi.resetModules();
});

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

describe("store module tables", () => {
  it("the CRC-32 table gives the known answers", async () => {
    const { crc32, crc32Ascii } = await import("../../src/store/crc32");
    expect(crc32(ascii("123456789"))).toBe(0xcbf43926);
    expect(crc32Ascii("The quick brown fox jumps over the lazy dog")).toBe(0x414fa339);
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(crc32(all)).toBe(0x29058c73);
  });

  it("the key pattern takes 1 to 15 printable characters and nothing else", async () => {
    const { checkKey } = await import("../../src/store/staged-store");
    for (const good of ["a", " ", "~", "a".repeat(15), "o/00000001"]) expect(() => checkKey(good)).not.toThrow();
    for (const bad of ["", "a".repeat(16), "a\x7f", "\x1fa", "a\u00e9"]) expect(() => checkKey(bad)).toThrow(RangeError);
  });

  it("the journal is named in errors, and lives in <domain>.j on preferences", async () => {
    const [{ JOURNAL_NAME, JournaledStore }, { PreferenceBackend }, { FakePreference }] = await Promise.all([
      import("../../src/store/journaled-store"),
      import("../../src/store/preference-backend"),
      import("./fakes"),
    ]);
    expect(JOURNAL_NAME).toBe("(journal)");
    const prefs = new FakePreference();
    const store = JournaledStore.open(new PreferenceBackend(prefs, "mqtt"));
    const keys: string[] = [];
    const set = prefs.set.bind(prefs);
    prefs.set = (domain, key, value) => {
      keys.push(`${domain}/${key}`);
      set(domain, key, value);
    };
    store.put("a", Uint8Array.of(1));
    store.commit();
    expect(keys).toEqual(["mqtt.j/0", "mqtt/a"]);
  });

  it("the flash log names itself in errors", async () => {
    const { LOG_NAME } = await import("../../src/store/flash-log");
    expect(LOG_NAME).toBe("(flash log)");
  });

  it("the store's health counts a day as 86,400 s and a year as 365.25 days", async () => {
    const { storeHealth } = await import("../../src/store/wear");
    // One sector with 1 erase left, erased once in one day: 1 a day, so that erase lasts a day of a year.
    const figures = { blocks: 1, free: 0, used: 1, retired: 0, retiredBlocks: [], eraseCounts: [99_999], erases: 1, programmedBytes: 0 };
    const health = storeHealth(figures, 86_400_000);
    expect(health.erases.perDay).toBe(1);
    expect(health.yearsLeft).toBe(Number((1 / 365.25).toPrecision(3)));
  });
});
