// Fake of the SDK's `wifi` module (typings/wifi.d.ts): a monitor instance gets the station's messages ("connect",
// "gotIP", "lostIP", "disconnect"); WiFi.connect/disconnect are recorded; the test emits messages with emitWiFi().
import { sdk } from "./sdk";

export default class WiFi {
  static readonly gotIP = "gotIP";
  static readonly lostIP = "lostIP";
  static readonly connected = "connect";
  static readonly disconnected = "disconnect";
  readonly #monitor: { callback: ((message: string) => void) | undefined; closed: boolean };

  constructor(options?: Record<string, unknown>, callback?: (message: string) => void) {
    if (options !== undefined) sdk().wifiConnects.push(options);
    this.#monitor = { callback, closed: false };
    sdk().wifiMonitors.push(this.#monitor);
  }

  close(): void {
    this.#monitor.closed = true;
  }

  static connect(options?: Record<string, unknown>): void {
    sdk().wifiConnects.push(options);
  }

  static disconnect(): void {
    sdk().wifiDisconnects++;
  }
}
