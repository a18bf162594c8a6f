// A device must boot whatever its store holds (issue 10, "Not settled"): fast-check over arbitrary stored contents.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bootOnAnyStore } from "../xs/flows/any-store-flow";
import { storeContents } from "../support/store-arbitraries";

const board = JSON.parse(readFileSync(join(__dirname, "..", "..", "boards", "lin.json"), "utf8")) as unknown;
const EVERY_SAMPLE = JSON.parse(JSON.stringify(board), (key, value: unknown) => (key === "deadband" ? undefined : value)) as unknown;

describe("boot on arbitrary store contents (Node)", () => {
  it("always boots, connects and delivers new readings; never throws out of a timer", () => {
    fc.assert(
      fc.property(storeContents, (entries) => {
        const result = bootOnAnyStore(entries, EVERY_SAMPLE);
        expect(result.outcome, JSON.stringify(entries).slice(0, 2000)).toBe("PASSED");
      }),
      { numRuns: 300 },
    );
  });

  it("the stored strings that used to reach RegExp (a 20,000-digit counter, a 30,000-digit deadband) boot with a warning", () => {
    const digits = Array.from(new TextEncoder().encode("1".repeat(20_000)));
    const settings = Array.from(new TextEncoder().encode(`{"deadband":{"t":"${"1".repeat(30_000)}"}}`));
    const result = bootOnAnyStore([["smp.boot", digits], ["smp.seq", digits], ["smp.set", settings]], EVERY_SAMPLE);
    expect(result.outcome).toBe("PASSED");
    expect(result.warnings).toBeGreaterThanOrEqual(3); // two counters deleted, the settings ignored
  });
});
