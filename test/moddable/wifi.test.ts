// WiFiLink and StaticNetwork against the fake `wifi`, `net` and `timer`: up on gotIP with the address, down and a
// reconnect with doubling backoff on lostIP/disconnect, the 30 s watchdog for a stuck attempt, stop().
import { beforeEach, describe, expect, it } from "vitest";
import { StaticNetwork, WiFiLink } from "../../src/platform/moddable/wifi";
import { advance, emitWiFi, liveTimers, resetSdk, sdk } from "./fakes/sdk";

function link(options: { password?: string; retryMs?: number; retryMaxMs?: number } = {}) {
  const events: string[] = [];
  const log: string[] = [];
  const wifi = new WiFiLink({ ssid: "home", ...options, log: (m) => log.push(m) }, {
    onUp: (address) => events.push(`up ${address}`),
    onDown: (reason) => events.push(`down ${reason}`),
  });
  return { wifi, events, log };
}

describe("Wi-Fi link", () => {
  beforeEach(() => {
    resetSdk().net.IP = "192.168.1.20";
  });

  it("connects with ssid and password, and is up with its address on gotIP", () => {
    const { wifi, events } = link({ password: "secret" });
    expect(wifi.up).toBe(false);
    wifi.start();
    expect(sdk().wifiConnects).toEqual([{ ssid: "home", password: "secret" }]);
    emitWiFi("connect");
    expect(events).toEqual([]);
    emitWiFi("gotIP");
    expect(events).toEqual(["up 192.168.1.20"]);
    expect(wifi.up).toBe(true);
    expect(liveTimers()).toEqual([]); // the watchdog is gone once up
  });

  it("an open network connects without a password field", () => {
    const { wifi } = link();
    wifi.start();
    expect(sdk().wifiConnects).toEqual([{ ssid: "home" }]);
  });

  it("after a loss: down once, then reconnects after 2, 4, 8 s... capped, and the delay resets once up again", () => {
    const { wifi, events } = link({ retryMs: 2_000, retryMaxMs: 8_000 });
    wifi.start();
    emitWiFi("gotIP");
    emitWiFi("lostIP");
    expect(events).toEqual(["up 192.168.1.20", "down IP address lost"]);
    expect(wifi.up).toBe(false);
    const attempts = () => sdk().wifiConnects.length;
    advance(1_999);
    expect(attempts()).toBe(1);
    advance(1);
    expect(attempts()).toBe(2);
    // Each failed attempt (disconnect) doubles the delay up to the cap; no second "down" while already down.
    for (const delay of [4_000, 8_000, 8_000]) {
      emitWiFi("disconnect");
      advance(delay - 1);
      const before = attempts();
      advance(1);
      expect(attempts()).toBe(before + 1);
    }
    expect(events.filter((e) => e.startsWith("down"))).toHaveLength(1);
    emitWiFi("gotIP");
    emitWiFi("disconnect");
    expect(events.at(-1)).toBe("down disconnected from the access point");
    advance(2_000);
    expect(attempts()).toBe(6);
  });

  it("an attempt with no IP within 30 s is given up and retried (a wrong password looks like this)", () => {
    const { wifi, events, log } = link({ retryMs: 1_000 });
    wifi.start();
    advance(29_999);
    expect(sdk().wifiConnects).toHaveLength(1);
    advance(1);
    expect(log.at(-1)).toMatch(/no IP address within 30 s \(check ssid and password\); retrying in 1000 ms/);
    expect(events).toEqual([]); // never up, so never down
    advance(1_000);
    expect(sdk().wifiConnects).toHaveLength(2);
  });

  it("two losses in a row schedule one retry, not two", () => {
    const { wifi } = link({ retryMs: 1_000 });
    wifi.start();
    emitWiFi("gotIP");
    emitWiFi("lostIP");
    emitWiFi("disconnect");
    advance(1_000);
    expect(sdk().wifiConnects).toHaveLength(2);
    advance(10_000);
    expect(sdk().wifiConnects).toHaveLength(2);
  });

  it("stop() disconnects, closes the monitor and cancels retries and the watchdog; later messages do nothing", () => {
    const { wifi, events } = link({ retryMs: 1_000 });
    wifi.start();
    emitWiFi("gotIP");
    emitWiFi("lostIP");
    wifi.stop();
    expect(sdk().wifiDisconnects).toBe(1);
    expect(liveTimers()).toEqual([]);
    emitWiFi("gotIP");
    advance(60_000);
    expect(sdk().wifiConnects).toHaveLength(1);
    expect(events).toEqual(["up 192.168.1.20", "down IP address lost"]);
  });

  it("a connect the driver refuses (it throws) is a failed attempt: logged, retried with backoff, never thrown from start()", () => {
    const { wifi, events, log } = link({ password: "secret" });
    sdk().wifiConnectError = "esp_wifi_connect failed";
    expect(() => wifi.start()).not.toThrow();
    expect(sdk().wifiConnects).toEqual([]);
    expect(log).toContain("Wi-Fi: the Wi-Fi driver refused to connect (esp_wifi_connect failed); retrying in 2000 ms");
    advance(2_000);
    expect(log.at(-1)).toBe("Wi-Fi: the Wi-Fi driver refused to connect (esp_wifi_connect failed); retrying in 4000 ms");
    sdk().wifiConnectError = undefined;
    advance(4_000);
    expect(sdk().wifiConnects).toEqual([{ ssid: "home", password: "secret" }]);
    emitWiFi("gotIP");
    expect(events).toEqual(["up 192.168.1.20"]);
  });
});

describe("static network", () => {
  it("is up, and says so once on the next turn with the address", () => {
    resetSdk().net.IP = "10.0.0.2";
    const events: string[] = [];
    const network = new StaticNetwork({ onUp: (a) => events.push(a), onDown: () => events.push("down") });
    network.start();
    expect(events).toEqual([]);
    advance(0);
    expect(events).toEqual(["10.0.0.2"]);
    expect(network.up).toBe(true);
    network.stop();
  });
});
