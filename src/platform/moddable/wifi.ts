// Keeps the device on Wi-Fi: connects with the SDK's `wifi` module and reconnects, with backoff, whenever the link or the IP is lost.
import WiFi from "wifi";
import Net from "net";
import Timer from "timer";

export interface NetworkEvents {
  /** The device has an IP address; sockets may be opened. */
  onUp(address: string): void;
  /** The link or the address is gone; open sockets will fail. */
  onDown(reason: string): void;
}

export interface WiFiOptions {
  ssid: string;
  password?: string;
  /** First retry delay after a loss; doubles up to `retryMaxMs`. */
  retryMs?: number;
  retryMaxMs?: number;
  log?(message: string): void;
}

const DEFAULT_RETRY_MS = 2_000;
const DEFAULT_RETRY_MAX_MS = 60_000;
/** No IP this long after a connect() means the attempt is stuck (wrong password often looks like this): start over. */
const ATTEMPT_TIMEOUT_MS = 30_000;

/**
 * The ESP32 Wi-Fi driver retries a few times while first connecting, but not after a connection that
 * worked is lost (modules/network/wifi/esp32/xs6wifi.c), so the reconnect loop lives here.
 */
export class WiFiLink {
  readonly #options: WiFiOptions;
  readonly #events: NetworkEvents;
  #monitor: WiFi | undefined;
  #retry: Timer | undefined;
  #watchdog: Timer | undefined;
  #delayMs: number;
  #up = false;

  constructor(options: WiFiOptions, events: NetworkEvents) {
    this.#options = options;
    this.#events = events;
    this.#delayMs = options.retryMs ?? DEFAULT_RETRY_MS;
  }

  get up(): boolean {
    return this.#up;
  }

  start(): void {
    this.#monitor = new WiFi(undefined, (message) => this.#onMessage(message));
    this.#connect();
  }

  stop(): void {
    Timer.clear(this.#retry);
    Timer.clear(this.#watchdog);
    this.#retry = this.#watchdog = undefined;
    this.#monitor?.close();
    this.#monitor = undefined;
    WiFi.disconnect();
  }

  #connect(): void {
    this.#retry = undefined;
    const { ssid, password } = this.#options;
    this.#options.log?.(`Wi-Fi: connecting to "${ssid}"`);
    try {
      WiFi.connect(password ? { ssid, password } : { ssid });
    } catch (error) {
      // The ESP32 driver throws for an SSID over 32 or a password over 64 UTF-8 bytes and when esp_wifi_connect
      // fails (xs6wifi.c). Let out of start(), that ended main() after the firmware had started, and the boot retry
      // started one more firmware every minute; it is a failed attempt like any other, retried with backoff.
      this.#lost(`the Wi-Fi driver refused to connect (${error instanceof Error ? error.message : String(error)})`);
      return;
    }
    Timer.clear(this.#watchdog);
    this.#watchdog = Timer.set(() => {
      this.#watchdog = undefined;
      this.#lost(`no IP address within ${ATTEMPT_TIMEOUT_MS / 1000} s (check ssid and password)`);
    }, ATTEMPT_TIMEOUT_MS);
  }

  #onMessage(message: string): void {
    switch (message) {
      case WiFi.gotIP: {
        Timer.clear(this.#watchdog);
        this.#watchdog = undefined;
        this.#delayMs = this.#options.retryMs ?? DEFAULT_RETRY_MS;
        this.#up = true;
        const address = String(Net.get("IP") ?? "");
        this.#options.log?.(`Wi-Fi: up, IP ${address}`);
        this.#events.onUp(address);
        break;
      }
      case WiFi.lostIP:
        this.#lost("IP address lost");
        break;
      case WiFi.disconnected:
        this.#lost("disconnected from the access point");
        break;
      default:
        break;
    }
  }

  #lost(reason: string): void {
    const wasUp = this.#up;
    this.#up = false;
    Timer.clear(this.#watchdog);
    this.#watchdog = undefined;
    if (wasUp) this.#events.onDown(reason);
    if (this.#retry !== undefined || this.#monitor === undefined) return;
    const delay = this.#delayMs;
    this.#delayMs = Math.min(delay * 2, this.#options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS);
    this.#options.log?.(`Wi-Fi: ${reason}; retrying in ${delay} ms`);
    // No WiFi.disconnect() first: its "disconnect" event would arrive after the new attempt began and count as a failure of it.
    this.#retry = Timer.set(() => this.#connect(), delay);
  }
}

/**
 * A network that is always there: the desktop simulator (whose `wifi` module only pretends) or a build with
 * no SSID configured. Reports "up" once, on the next turn, so callers see the same order of events as on Wi-Fi.
 */
export class StaticNetwork {
  readonly #events: NetworkEvents;
  constructor(events: NetworkEvents) {
    this.#events = events;
  }
  get up(): boolean {
    return true;
  }
  start(): void {
    Timer.set(() => this.#events.onUp(String(Net.get("IP") ?? "")), 0);
  }
  stop(): void {}
}
