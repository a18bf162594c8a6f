// The device's topics, spelled out, and the edit distance behind "did you mean" (config keys and sim options).
import { describe, expect, it, vi } from "vitest";
import { closest, editDistance } from "../../src/config/closest";

describe("deviceTopics", () => {
  it("derives every topic from prefix and device id, frozen", async () => {
    // Imported here, not at the top: the status words are module-level constants, which StrykerJS mutates only in
    // tests that load the module themselves.
    vi.resetModules();
    const { STATUS_OFFLINE, STATUS_ONLINE, deviceTopics } = await import("../../src/config/device-topics");
    const topics = deviceTopics("home/sensors", "kitchen-1");
    expect(topics).toEqual({
      telemetry: "home/sensors/kitchen-1/telemetry",
      status: "home/sensors/kitchen-1/status",
      health: "home/sensors/kitchen-1/health",
      commandFilter: "home/sensors/kitchen-1/cmd/+",
      commandPrefix: "home/sensors/kitchen-1/cmd/",
      reply: "home/sensors/kitchen-1/reply",
    });
    expect(Object.isFrozen(topics)).toBe(true);
    expect([STATUS_ONLINE, STATUS_OFFLINE]).toEqual(["online", "offline"]);
  });
});

describe("editDistance", () => {
  it("counts insertions, deletions and substitutions", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("abc", "")).toBe(3);
    expect(editDistance("", "")).toBe(0);
    expect(editDistance("same", "same")).toBe(0);
    expect(editDistance("ab", "ba")).toBe(2);
    expect(editDistance("flaw", "lawn")).toBe(2);
    expect(editDistance("abc", "abxc")).toBe(1);
    expect(editDistance("abxc", "abc")).toBe(1);
  });
});

describe("closest", () => {
  it("returns the nearest within the limit, the first of equals, nothing beyond the limit", () => {
    expect(closest("ab", ["xy", "ax", "ay"], 2)).toBe("ax");
    expect(closest("abc", ["abd", "abc"], 0)).toBe("abc");
    expect(closest("abcd", ["wxyz", "abxy"], 2)).toBe("abxy");
    expect(closest("abcd", ["abxy"], 1)).toBeUndefined();
    expect(closest("abcd", [], 10)).toBeUndefined();
    expect(closest("abcd", new Set(["abcx"]), 1)).toBe("abcx");
  });
});
