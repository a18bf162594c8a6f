// SntpWallClock against the fake `sntp`, `time` and `timer`: not synced on a device booted at 1970, set from the
// first server that answers (fail-over by returning the next host), re-synced on its interval, retried after every
// server failed or SNTP could not start. Date.now() stands for the ESP32 RTC that Time.set() sets.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SntpWallClock } from "../../src/platform/moddable/wall-clock";
import { advance, liveTimers, resetSdk, sdk } from "./fakes/sdk";

const JAN_2026_S = 1_767_225_600;

function device(bootMs = 5_000) {
  let rtc = bootMs;
  vi.spyOn(Date, "now").mockImplementation(() => rtc);
  const synced: number[] = [];
  const log: string[] = [];
  const clock = new SntpWallClock({ hosts: ["a.pool", "b.pool"], resyncMs: 3_600_000, retryMs: 60_000, log: (m) => log.push(m) }, (ms) => synced.push(ms));
  const answer = (index: number, seconds: number) => {
    rtc = seconds * 1000;
    return sdk().sntp[index].callback(1, seconds);
  };
  return { clock, synced, log, answer };
}

describe("SNTP wall clock", () => {
  beforeEach(() => {
    resetSdk();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("a device booted at 1970 has no wall clock until SNTP answers; then Time.set and the callback", () => {
    const { clock, synced, answer } = device();
    expect(clock.synced).toBe(false);
    expect(clock.now()).toBeUndefined();
    clock.start();
    expect(sdk().sntp.map((s) => s.host)).toEqual(["a.pool"]);
    answer(0, JAN_2026_S);
    expect(sdk().timeSets).toEqual([JAN_2026_S]);
    expect(clock.synced).toBe(true);
    expect(clock.now()).toBe(JAN_2026_S * 1000);
    expect(synced).toEqual([JAN_2026_S * 1000]);
  });

  it("fails over to the next host, then waits retryMs after every host failed", () => {
    const { clock, log } = device();
    clock.start();
    expect(sdk().sntp[0].callback(-1, "timeout")).toBe("b.pool");
    expect(log.at(-1)).toBe("SNTP: a.pool failed (timeout); trying b.pool");
    expect(sdk().sntp[0].callback(-1, "timeout")).toBeUndefined();
    expect(log.at(-1)).toBe("SNTP: no server answered; retrying in 60 s");
    expect(clock.synced).toBe(false);
    advance(59_999);
    expect(sdk().sntp).toHaveLength(1);
    advance(1);
    expect(sdk().sntp).toHaveLength(2);
  });

  it("re-syncs on its interval; start() while a request is out does not start another", () => {
    const { clock, synced, answer } = device();
    clock.start();
    clock.start();
    expect(sdk().sntp).toHaveLength(1);
    answer(0, JAN_2026_S);
    advance(3_600_000);
    expect(sdk().sntp).toHaveLength(2);
    answer(1, JAN_2026_S + 3600);
    expect(synced).toEqual([JAN_2026_S * 1000, (JAN_2026_S + 3600) * 1000]);
    clock.stop();
    expect(liveTimers()).toEqual([]);
  });

  it("SNTP that cannot start (no network) is retried later", () => {
    const { clock, log } = device();
    sdk().sntpConstructorError = "DNS not ready";
    clock.start();
    expect(log.at(-1)).toBe("SNTP: cannot start (DNS not ready)");
    sdk().sntpConstructorError = undefined;
    advance(60_000);
    expect(sdk().sntp).toHaveLength(1);
  });

  it("a clock already right (desktop) is synced at once: one callback on the next turn, then re-syncs", () => {
    const { clock, synced } = device(JAN_2026_S * 1000);
    expect(clock.synced).toBe(true);
    clock.start();
    expect(sdk().sntp).toHaveLength(0);
    advance(0);
    expect(synced).toEqual([JAN_2026_S * 1000]);
    advance(3_600_000);
    expect(sdk().sntp).toHaveLength(1);
  });
});
