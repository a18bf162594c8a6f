// ModdableClock against the fake `time` and `timer`: a never-decreasing ms count across the ESP32's signed 32-bit
// Time.ticks going negative (24.8 days) and wrapping (49.7 days), a desktop clock stepped back, the hourly guard.
import { beforeEach, describe, expect, it } from "vitest";
import { ModdableClock } from "../../src/platform/moddable/clock";
import { advance, liveTimers, resetSdk, sdk, setTicks } from "./fakes/sdk";

const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;

describe("Moddable clock", () => {
  beforeEach(() => {
    resetSdk();
  });

  it("counts ms from its creation", () => {
    setTicks(5_000);
    const clock = new ModdableClock();
    expect(clock.now()).toBe(0);
    setTicks(5_250);
    expect(clock.now()).toBe(250);
    clock.close();
  });

  it("keeps rising when Time.ticks passes 2^31 - 1 and goes negative, and again when it wraps back through 0", () => {
    setTicks(2 ** 31 - 1_000);
    const clock = new ModdableClock();
    let expected = 0;
    let ticks = 2 ** 31 - 1_000;
    for (const step of [500, 1_000, HOUR - 1, 24 * HOUR / 24, 2 ** 31 - 5_000, 10_000, 3_000]) {
      ticks += step;
      expected += step;
      setTicks(ticks);
      expect(sdk().ticks).toBe(ticks | 0); // what the fake device shows: a signed 32-bit value
      expect(clock.now()).toBe(expected);
    }
    expect(expected).toBeGreaterThan(2 ** 31);
    clock.close();
  });

  it("runs 60 days on an idle device (only the hourly guard reading it) without losing a wrap", () => {
    setTicks(0);
    const clock = new ModdableClock();
    for (let t = HOUR; t <= 60 * DAY; t += HOUR) {
      setTicks(t);
      advance(HOUR); // the guard timer fires: it reads now()
    }
    expect(clock.now()).toBe(60 * DAY);
    clock.close();
  });

  it("holds still when the desktop clock is set back by less than half the range", () => {
    setTicks(1_000_000);
    const clock = new ModdableClock();
    setTicks(1_500_000);
    expect(clock.now()).toBe(500_000);
    setTicks(1_200_000);
    expect(clock.now()).toBe(500_000);
    setTicks(1_200_100);
    expect(clock.now()).toBe(500_100);
    clock.close();
  });

  it("setTimeout fires once after the rounded-up delay; clearTimeout before it stops it, after it is harmless", () => {
    const clock = new ModdableClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push("a"), 10.2);
    const b = clock.setTimeout(() => fired.push("b"), 5);
    clock.setTimeout(() => fired.push("c"), -3);
    clock.clearTimeout(b);
    advance(10);
    expect(fired).toEqual(["c"]);
    advance(1);
    expect(fired).toEqual(["c", "a"]);
    const d = clock.setTimeout(() => fired.push("d"), 0);
    advance(0);
    clock.clearTimeout(d);
    expect(fired).toEqual(["c", "a", "d"]);
    clock.close();
  });

  it("close() stops the hourly guard", () => {
    const clock = new ModdableClock();
    expect(liveTimers().map((t) => t.repeat)).toEqual([HOUR]);
    clock.close();
    expect(liveTimers()).toEqual([]);
  });
});
