// Wall-clock time on Moddable: sets the clock from SNTP once the network is up, and says whether it is trustworthy yet.
import SNTP from "sntp";
import Time from "time";
import Timer from "timer";

export interface WallClockOptions {
  /** SNTP servers tried in order; the SDK client fails over to the next one when asked. */
  hosts: readonly string[];
  /** Re-sync interval once synced (the ESP32 RTC drifts by seconds a day). */
  resyncMs?: number;
  /** Delay before trying the whole list again after every server failed. */
  retryMs?: number;
  log?(message: string): void;
}

/** Dates before this are an unset device clock (ESP32 boots at 1970), not a real time: 2024-01-01T00:00:00Z. */
const PLAUSIBLE_EPOCH_MS = 1_704_067_200_000;
const DEFAULT_RESYNC_MS = 6 * 60 * 60 * 1000;
const DEFAULT_RETRY_MS = 60_000;

export class SntpWallClock {
  readonly #options: WallClockOptions;
  readonly #onSynced: (unixMs: number) => void;
  #synced: boolean;
  #busy = false;
  #timer: Timer | undefined;

  /** `onSynced` is called each time the clock is set (first sync and re-syncs), with Date.now() after setting it. */
  constructor(options: WallClockOptions, onSynced: (unixMs: number) => void) {
    this.#options = options;
    this.#onSynced = onSynced;
    // The desktop simulator runs on the host's clock, which is already right (and Time.set is a no-op there).
    this.#synced = Date.now() >= PLAUSIBLE_EPOCH_MS;
  }

  /** True once the clock holds real time; readings taken before then get stamped when it turns true. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Unix ms, or undefined while the clock is not set. */
  now(): number | undefined {
    return this.#synced ? Date.now() : undefined;
  }

  /** Call when the network comes up: syncs now if needed, then on the re-sync interval. */
  start(): void {
    if (this.#synced && this.#timer === undefined) {
      // Already right (desktop, or a warm restart): tell the caller once, then keep it right.
      const now = Date.now();
      this.#schedule(this.#options.resyncMs ?? DEFAULT_RESYNC_MS);
      Timer.set(() => this.#onSynced(now), 0);
      return;
    }
    this.#sync();
  }

  stop(): void {
    Timer.clear(this.#timer);
    this.#timer = undefined;
  }

  #schedule(ms: number): void {
    Timer.clear(this.#timer);
    this.#timer = Timer.set(() => {
      this.#timer = undefined;
      this.#sync();
    }, ms);
  }

  #sync(): void {
    const hosts = this.#options.hosts;
    if (this.#busy || hosts.length === 0) return;
    this.#busy = true;
    let next = 1;
    const log = this.#options.log;
    try {
      new SNTP({ host: hosts[0]! }, (message, value) => {
        if (message === SNTP.time && typeof value === "number") {
          this.#busy = false;
          Time.set(value);
          this.#synced = true;
          log?.(`SNTP: clock set from ${hosts[next - 1]}`);
          this.#schedule(this.#options.resyncMs ?? DEFAULT_RESYNC_MS);
          this.#onSynced(Date.now());
          return;
        }
        if (message === SNTP.error) {
          if (next < hosts.length) {
            log?.(`SNTP: ${hosts[next - 1]} failed (${String(value)}); trying ${hosts[next]}`);
            // Returning a host name makes the SDK client try that server next.
            return hosts[next++] as unknown as void;
          }
          this.#busy = false;
          log?.(`SNTP: no server answered; retrying in ${(this.#options.retryMs ?? DEFAULT_RETRY_MS) / 1000} s`);
          this.#schedule(this.#options.retryMs ?? DEFAULT_RETRY_MS);
        }
      });
    } catch (error) {
      // Thrown when the network is not up (DNS cannot start); try again later.
      this.#busy = false;
      log?.(`SNTP: cannot start (${error instanceof Error ? error.message : String(error)})`);
      this.#schedule(this.#options.retryMs ?? DEFAULT_RETRY_MS);
    }
  }
}
