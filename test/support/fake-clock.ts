// A manual monotonic clock for tests: time moves only when the test calls advance(), timers fire in due order.
import type { Clock, TimerHandle } from "../../src/ports";

interface PendingTimer {
  id: number;
  due: number;
  callback: () => void;
}

export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private timers: PendingTimer[] = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, due: this.current + Math.max(0, ms), callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  /** Number of timers still pending. */
  get pending(): number {
    return this.timers.length;
  }

  /** Due time of the earliest pending timer, or undefined. */
  nextDue(): number | undefined {
    let due: number | undefined;
    for (const timer of this.timers) if (due === undefined || timer.due < due) due = timer.due;
    return due;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order (timers set by timers included). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const timer of this.timers) {
        if (timer.due <= target && (next === undefined || timer.due < next.due || (timer.due === next.due && timer.id < next.id))) next = timer;
      }
      if (!next) break;
      this.timers = this.timers.filter((timer) => timer !== next);
      // Never backwards: after a stall() a timer fires late, at the time it is now.
      this.current = Math.max(this.current, next.due);
      next.callback();
    }
    this.current = Math.max(this.current, target);
  }

  /** Moves time forward without firing anything, as a callback that blocks the loop does (a slow synchronous read). */
  stall(ms: number): void {
    this.current += ms;
  }
}
