// Reconnect delays: exponential backoff with full jitter (delay = random * min(cap, base * 2^attempt)), reset on success.
import type { RandomSource } from "../ports";

export class Backoff {
  private attempt = 0;

  constructor(private readonly baseMs: number, private readonly capMs: number, private readonly random: RandomSource) {}

  /** Delay before the next attempt; each call counts one more failure. */
  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * Math.pow(2, this.attempt));
    if (this.attempt < 30) this.attempt++;
    return Math.floor(this.random() * ceiling);
  }

  /** A long wait near the cap, for failures that retrying soon cannot fix (never a tight loop). */
  slow(): number {
    return Math.floor(this.capMs * (0.5 + 0.5 * this.random()));
  }

  reset(): void {
    this.attempt = 0;
  }
}
