// The core's monotonic clock on Moddable: Time.ticks, unwrapped to a never-decreasing ms count, and one-shot Timers.
import Time from "time";
import Timer from "timer";
import type { Clock, TimerHandle } from "../../ports";

/**
 * On ESP32 `Time.ticks` is FreeRTOS ticks in ms stored as a signed 32-bit integer: it goes negative after
 * 24.8 days and wraps after 49.7. SNTP never moves it (Time.set changes the wall clock only). now() adds up
 * the forward distance between reads, so it keeps rising across the wrap; a housekeeping timer reads it every
 * hour so that no two reads are ever a full wrap apart, even on an idle device. On the desktop simulator
 * ticks are wall-clock ms; a backward step there is ignored rather than passed on.
 */
const WRAP_GUARD_MS = 60 * 60 * 1000;
const TICKS_RANGE = 2 ** 32;
const TICKS_HALF_RANGE = 2 ** 31;

export class ModdableClock implements Clock {
  #last: number;
  #elapsed = 0;
  #guard: Timer;

  constructor() {
    this.#last = Time.ticks;
    this.#guard = Timer.repeat(() => {
      this.now();
    }, WRAP_GUARD_MS);
  }

  now(): number {
    const raw = Time.ticks;
    let step = raw - this.#last;
    this.#last = raw;
    if (step < 0) {
      // A drop of more than half the 32-bit range is the device counter wrapping; add the range back.
      // A smaller drop can only be the desktop (where ticks are wall-clock ms) having its clock set back: hold still.
      step = step <= -TICKS_HALF_RANGE ? step + TICKS_RANGE : 0;
    }
    this.#elapsed += step;
    return this.#elapsed;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    return Timer.set(() => callback(), Math.max(0, Math.ceil(ms)));
  }

  clearTimeout(handle: TimerHandle): void {
    // Timer.clear ignores a one-shot timer that already fired, so a late clear is harmless.
    Timer.clear(handle as Timer);
  }

  /** Stops the wrap guard (tests and shutdown). */
  close(): void {
    Timer.clear(this.#guard);
  }
}
