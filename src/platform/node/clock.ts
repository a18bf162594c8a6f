// Node adapter: the monotonic Clock port on performance.now() and Node timers.
import type { Clock, TimerHandle } from "../../ports";

export const nodeClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle: TimerHandle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
