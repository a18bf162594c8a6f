// Fake of the SDK's `timer` module (typings/timer.d.ts): set/repeat/schedule/clear on the fakes' virtual clock.
import { sdk, type FakeTimer } from "./sdk";

const Timer = {
  set(callback: (timer: FakeTimer) => void, interval = 0, repeat?: number): FakeTimer {
    const state = sdk();
    const timer: FakeTimer = { id: state.nextTimerId++, due: state.now + Math.max(0, interval), repeat, callback, cleared: false, fired: 0 };
    state.timers.push(timer);
    return timer;
  },
  repeat(callback: (timer: FakeTimer) => void, interval: number): FakeTimer {
    return Timer.set(callback, interval, interval);
  },
  schedule(timer: FakeTimer, interval = 0, repeat?: number): void {
    timer.due = sdk().now + interval;
    timer.repeat = repeat;
    timer.cleared = false;
  },
  /** The SDK ignores undefined, null and one-shot timers that already fired. */
  clear(timer: FakeTimer | undefined | null): void {
    if (timer) timer.cleared = true;
  },
  delay(milliseconds: number): void {
    sdk().now += milliseconds;
  },
};
export default Timer;
