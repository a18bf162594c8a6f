// src/main.ts once booted, on Node against the SDK fakes (main.test.ts has the boot paths): the MQTT link's events on
// the console, a start that failed and is retried by the fatal mode (again failing, then working), and a Wi-Fi
// connect the ESP32 driver refuses. main.ts runs main() on import: each test re-imports it on a fresh fake device.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { encode } from "../../src/mqtt/codec";
import { PacketType } from "../../src/mqtt/constants";
import { FATAL_RETRY_MS } from "../../src/app/fatal";
import { addResource, advance, lastSocket, liveTimers, net, resetSdk, sdk } from "./fakes/sdk";

const ROOT = join(import.meta.dirname, "../..");
const MANIFEST_CONFIG = (JSON.parse(readFileSync(join(ROOT, "manifest.json"), "utf8")) as { config: Record<string, unknown> }).config;
const LIN_BOARD = readFileSync(join(ROOT, "boards/lin.json"), "utf8");

async function boot(config: Record<string, unknown>, board: string | null = LIN_BOARD): Promise<string[]> {
  const state = resetSdk();
  state.config = { ...MANIFEST_CONFIG, board: "lin", file: { root: "/tmp/" }, ...config };
  if (board !== null) addResource("board.json", board);
  addResource("status-page.gz", new Uint8Array([0x1f, 0x8b, 8, 0]));
  vi.resetModules();
  await import("../../src/main");
  return state.traces;
}

const fatal = (traces: string[]) => traces.filter((t) => t.startsWith("fatal: "));
const started = (traces: string[]) => traces.filter((t) => / on Desktop simulator/.test(t));

describe("main.ts running", () => {
  it("says on the console when MQTT connects and when the broker drops it, with the retry delay", async () => {
    const traces = await boot({ mqtt_host: "broker.test", device_id: "dev42" });
    advance(0);
    const socket = lastSocket();
    net.connect(socket);
    net.receive(socket, encode({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 }));
    expect(traces).toContain("MQTT connected to broker.test (session present: false)\n");
    net.disconnect(socket);
    const dropped = traces.filter((t) => t.startsWith("warning: MQTT disconnected: "));
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatch(/^warning: MQTT disconnected: .*\(TCP link to broker\.test:1883 lost \(disconnected by the broker\)\); retry in \d+ ms\n$/);
  });

  it("says on the console what the broker refused (CONNACK 5, not authorized)", async () => {
    const traces = await boot({ mqtt_host: "broker.test", device_id: "dev42" });
    advance(0);
    const socket = lastSocket();
    net.connect(socket);
    net.receive(socket, encode({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 5 }));
    advance(0);
    const errors = traces.filter((t) => t.startsWith("warning: MQTT: "));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/not authori[sz]ed/i);
  });

  it("a start that failed is retried by the fatal mode: failing again is reported, then it starts once the cause is gone", async () => {
    const traces = await boot({ device_id: "dev42" }, null);
    expect(fatal(traces)).toHaveLength(1);
    advance(0);
    advance(FATAL_RETRY_MS);
    expect(fatal(traces)).toHaveLength(2);
    expect(fatal(traces)[1]).toBe(fatal(traces)[0]);
    expect(started(traces)).toEqual([]);
    addResource("board.json", LIN_BOARD); // as if the build had bundled it (the board file is read at each try)
    advance(FATAL_RETRY_MS);
    expect(started(traces)).toHaveLength(1);
    expect(fatal(traces)).toHaveLength(2);
  });

  it("a Wi-Fi connect the ESP32 driver refuses (an SSID over 32 UTF-8 bytes) leaves one firmware running, not one per retry", async () => {
    // 17 characters, 34 bytes: within config's 32 characters, over the driver's 32 bytes.
    const traces = await boot({ device_id: "dev42", ssid: "Ä".repeat(17), password: "secret123" });
    expect(started(traces)).toHaveLength(1);
    advance(10 * 60_000);
    expect(started(traces)).toHaveLength(1);
    expect(sdk().wifiMonitors.filter((m) => !m.closed)).toHaveLength(1);
    expect(fatal(traces)).toEqual([]);
    expect(traces).toContain('Wi-Fi: the Wi-Fi driver refused to connect (ssid too long - 32 bytes max); retrying in 2000 ms\n');
    // Retried with backoff, no faster than the cap: 10 minutes hold a handful of attempts, not one per turn.
    expect(traces.filter((t) => t.includes("ssid too long")).length).toBeLessThan(20);
    expect(liveTimers().filter((t) => t.repeat === undefined).length).toBeLessThan(10);
  });
});
