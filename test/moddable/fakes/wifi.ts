// Fake of the SDK's `wifi` module (typings/wifi.d.ts): a monitor instance gets the station's messages ("connect",
// "gotIP", "lostIP", "disconnect"); WiFi.connect/disconnect are recorded; the test emits messages with emitWiFi().
// WiFi.connect throws what the ESP32 driver throws (modules/network/wifi/esp32/xs6wifi.c xs_wifi_connect): "ssid
// required", "ssid too long - 32 bytes max" and "password too long - 64 bytes max" (lengths in UTF-8 bytes: strlen),
// and "esp_wifi_connect failed" when the test sets sdk().wifiConnectError. A monitor (constructor with a callback)
// throws sdk().wifiMonitorError when set: xs_wifi_set_onNotify's "out of memory" when c_calloc fails.
import { sdk } from "./sdk";

export default class WiFi {
  static readonly gotIP = "gotIP";
  static readonly lostIP = "lostIP";
  static readonly connected = "connect";
  static readonly disconnected = "disconnect";
  readonly #monitor: { callback: ((message: string) => void) | undefined; closed: boolean };

  constructor(options?: Record<string, unknown>, callback?: (message: string) => void) {
    if (callback !== undefined && sdk().wifiMonitorError !== undefined) throw new Error(sdk().wifiMonitorError);
    if (options !== undefined) sdk().wifiConnects.push(options);
    this.#monitor = { callback, closed: false };
    sdk().wifiMonitors.push(this.#monitor);
  }

  close(): void {
    this.#monitor.closed = true;
  }

  static connect(options?: Record<string, unknown>): void {
    if (options !== undefined) {
      const bytes = (value: unknown) => new TextEncoder().encode(String(value)).length;
      if (!options.ssid) throw new Error("ssid required");
      if (bytes(options.ssid) > 32) throw new Error("ssid too long - 32 bytes max");
      if (options.password && bytes(options.password) > 64) throw new Error("password too long - 64 bytes max");
      if (sdk().wifiConnectError !== undefined) throw new Error(sdk().wifiConnectError);
    }
    sdk().wifiConnects.push(options);
  }

  static disconnect(): void {
    sdk().wifiDisconnects++;
  }
}
