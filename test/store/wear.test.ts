// The flash store's health arithmetic (store/wear): counts over live sectors, the erase budget, the rate since boot
// and years left, with no erase yet, retired sectors and worn ones; and the same figures from a real flash log over
// the simulated NOR flash, checked against the flash's own erase counters.
import { describe, expect, it } from "vitest";
import { FlashLogStore } from "../../src/store/flash-log";
import { ENDURANCE_CYCLES, storeHealth, type WearFigures } from "../../src/store/wear";
import { SimNorFlash } from "./nor-flash";

const DAY_MS = 24 * 3600 * 1000;
const YEAR_MS = 365.25 * DAY_MS;
/** To 3 significant digits, as the figures are given. */
const d3 = (value: number) => Number(value.toPrecision(3));

/** Figures of a partition with these erase counts; `retiredBlocks` and `erases` as given, the rest plausible. */
function figures(eraseCounts: number[], erases: number, retiredBlocks: number[] = []): WearFigures {
  return {
    blocks: eraseCounts.length,
    free: 1,
    used: eraseCounts.length - 1 - retiredBlocks.length,
    retired: retiredBlocks.length,
    retiredBlocks,
    eraseCounts,
    erases,
    programmedBytes: 1234,
  };
}

describe("storeHealth", () => {
  it("has no years-left figure before the first erase of this boot (not enough data, never Infinity)", () => {
    const health = storeHealth(figures([3, 3, 4, 4], 0), 10 * DAY_MS);
    expect(health.yearsLeft).toBeNull();
    expect(health.erases).toEqual({ min: 3, max: 4, mean: 3.5, sinceBoot: 0, perDay: 0 });
    expect(health.budget).toBe(4 * ENDURANCE_CYCLES - 14);
    expect(health.programmedBytes).toBe(1234);
    expect(JSON.stringify(health)).not.toMatch(/Infinity|NaN/);
  });

  it("has none either at uptime 0 (a boot-scan erase at the very first instant gives no rate)", () => {
    expect(storeHealth(figures([1, 1], 1), 0).yearsLeft).toBeNull();
  });

  it("spends the live sectors' remaining erases at this boot's rate", () => {
    // 4 sectors, 42 erases spent: 399,958 left. 4 erases in one day: 4/day, 399,958 / 4 days = 273.8 years.
    const health = storeHealth(figures([10, 10, 11, 11], 4), DAY_MS);
    expect(health.erases.perDay).toBe(4);
    expect(health.budget).toBe(399_958);
    expect(health.yearsLeft).toBe(d3(399_958 / 4 / 365.25));
    expect(health.yearsLeft).toBe(274);
    // The same erases over twice the time: half the rate, twice the years.
    expect(storeHealth(figures([10, 10, 11, 11], 4), 2 * DAY_MS).yearsLeft).toBe(548);
    // A busy hour: 120 erases, so 2,880 a day: 399,958 / 2,880 = 139 days, 0.380 years.
    const busy = storeHealth(figures([10, 10, 11, 11], 120), 3600 * 1000);
    expect(busy.erases.perDay).toBe(2880);
    expect(busy.yearsLeft).toBe(0.38);
    // A log reclaimed flat out: 15 erases in 5 s leave days, not 0 years (which would read as worn out).
    const flatOut = storeHealth(figures([1, 2, 2, 2, 2, 2, 2, 2], 15), 5000);
    expect(flatOut.yearsLeft).toBe(0.00845);
    expect(flatOut.yearsLeft).toBeGreaterThan(0);
  });

  it("leaves retired sectors out of the counts and the budget", () => {
    const health = storeHealth(figures([5, 99_999, 7, 3], 2, [1, 3]), DAY_MS);
    expect(health.sectors).toEqual({ total: 4, used: 1, free: 1, retired: 2, worn: 0 });
    expect(health.erases).toMatchObject({ min: 5, max: 7, mean: 6 });
    expect(health.budget).toBe(2 * ENDURANCE_CYCLES - 12);
    expect(health.yearsLeft).toBe(d3((2 * ENDURANCE_CYCLES - 12) / 2 / 365.25));
  });

  it("counts sectors past their rating as worn, with no erases left in them", () => {
    const health = storeHealth(figures([100_000, 100_500, 99_950, 99_900], 150), DAY_MS);
    expect(health.sectors.worn).toBe(2);
    expect(health.erases).toMatchObject({ min: 99_900, max: 100_500, mean: 100_087.5 });
    expect(health.budget).toBe(150);
    // 150 erases left at 150 a day: one day.
    expect(health.yearsLeft).toBe(d3(DAY_MS / YEAR_MS));
  });

  it("says 0 years when every live sector is worn, whatever the rate (none yet included)", () => {
    expect(storeHealth(figures([100_000, 120_000], 0), DAY_MS).yearsLeft).toBe(0);
    expect(storeHealth(figures([100_000, 120_000], 9), DAY_MS).yearsLeft).toBe(0);
  });

  it("says 0 years and zero counts when every sector is retired", () => {
    const health = storeHealth(figures([4, 8], 0, [0, 1]), DAY_MS);
    expect(health.yearsLeft).toBe(0);
    expect(health.budget).toBe(0);
    expect(health.erases).toMatchObject({ min: 0, max: 0, mean: 0 });
    expect(health.sectors.worn).toBe(0);
  });

  it("counts against the endurance it is given", () => {
    const health = storeHealth(figures([900, 950], 10), DAY_MS, 1000);
    expect(health.endurance).toBe(1000);
    expect(health.budget).toBe(150);
    expect(health.yearsLeft).toBe(d3(15 / 365.25));
    expect(storeHealth(figures([900, 1000], 10), DAY_MS, 1000).sectors.worn).toBe(1);
  });

  it("gives the rate to 3 digits, so a slow one is not shown as 0", () => {
    const slow = storeHealth(figures([0, 0], 1), 300 * DAY_MS);
    expect(slow.erases.perDay).toBe(0.00333);
    expect(slow.yearsLeft).toBe(d3((2 * ENDURANCE_CYCLES * 300) / 365.25));
  });
});

describe("storeHealth of a real flash log on the simulated NOR flash", () => {
  it("matches the flash's own erase counters, and leaves a retired block out", () => {
    const flash = new SimNorFlash(16 * 1024, 1024);
    flash.badErase.add(2);
    const store = FlashLogStore.open(flash, { onRetire: () => {} });
    expect(storeHealth(store.stats(), 1000).yearsLeft).toBeNull();
    for (let i = 0; i < 400; i++) {
      store.put(`k${i % 4}`, Uint8Array.from({ length: 100 }, (_, j) => i + j));
      store.commit();
    }
    const stats = store.stats();
    expect(stats.retiredBlocks).toEqual([2]);
    const health = storeHealth(stats, DAY_MS);
    const live = flash.erases.filter((_, b) => b !== 2);
    expect(health.erases.sinceBoot).toBe(flash.erases.reduce((a, b) => a + b, 0));
    expect(health.erases.sinceBoot).toBeGreaterThan(20);
    expect(health.erases.min).toBe(Math.min(...live));
    expect(health.erases.max).toBe(Math.max(...live));
    expect(health.sectors).toEqual({ total: 16, used: stats.used, free: stats.free, retired: 1, worn: 0 });
    expect(health.sectors.used + health.sectors.free + health.sectors.retired).toBe(16);
    expect(health.budget).toBe(15 * ENDURANCE_CYCLES - live.reduce((a, b) => a + b, 0));
    expect(health.programmedBytes).toBe(flash.programmedBytes.reduce((a, b) => a + b, 0));
    expect(health.yearsLeft).toBe(d3(health.budget / health.erases.sinceBoot / 365.25));
  });
});
