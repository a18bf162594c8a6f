// Fake of the SDK's `time` module (typings/time.d.ts): ticks from the fakes' state; set() records the wall-clock
// seconds SNTP delivered.
import { sdk } from "./sdk";

const Time = {
  get ticks(): number {
    return sdk().ticks;
  },
  set(seconds: number): void {
    sdk().timeSets.push(seconds);
  },
  delta(start: number, end?: number): number {
    return (end ?? sdk().ticks) - start;
  },
};
export default Time;
