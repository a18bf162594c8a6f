// Property tests are replayable: the setup file fixes fast-check's seed for every property in the suite.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_PROPERTY_SEED, propertySeed } from "./fast-check-seed";

describe("property seeds", () => {
  it("every property without its own seed runs from the fixed one (or FC_SEED)", () => {
    expect(fc.readConfigureGlobal().seed).toBe(propertySeed(process.env.FC_SEED));
  });

  it("the same seed draws the same values: a failing case reappears on the next run", () => {
    const draw = () => fc.sample(fc.integer(), { numRuns: 5 });
    expect(draw()).toEqual(draw());
  });

  it("reads FC_SEED strictly", () => {
    expect(propertySeed(undefined)).toBe(DEFAULT_PROPERTY_SEED);
    expect(propertySeed("")).toBe(DEFAULT_PROPERTY_SEED);
    expect(propertySeed("17")).toBe(17);
    expect(Number.isInteger(propertySeed("random"))).toBe(true);
    expect(() => propertySeed("soon")).toThrow(/FC_SEED/);
  });
});
