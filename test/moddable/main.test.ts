// src/main.ts's boot paths on Node against the SDK fakes: a good boot (board resource, static network, MQTT CONNECT on
// the socket), and each way a boot can fail with a message that says what to fix: a bad config key, an empty board
// key, a build without its board file, a board file that is not JSON, and a corrupt session store (erased, reported,
// boot goes on). main.ts runs its main() on import, so each test re-imports it on a fresh fake device.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { decodeAll } from "../../src/mqtt/codec";
import { PacketType } from "../../src/mqtt/constants";
import { advance, addResource, lastSocket, net, resetSdk, sdk } from "./fakes/sdk";

const ROOT = join(import.meta.dirname, "../..");
const MANIFEST_CONFIG = (JSON.parse(readFileSync(join(ROOT, "manifest.json"), "utf8")) as { config: Record<string, unknown> }).config;
const LIN_BOARD = readFileSync(join(ROOT, "boards/lin.json"), "utf8");

/** Boots main.ts on a fresh fake device; `board` null: a build without the board resource. */
async function boot(config: Record<string, unknown>, board: string | null = LIN_BOARD, prepare?: (state: ReturnType<typeof resetSdk>) => void): Promise<string[]> {
  const state = resetSdk();
  // What mcconfig merges for -p lin: the manifest's config, the platform's board key, objects the SDK adds.
  state.config = { ...MANIFEST_CONFIG, board: "lin", file: { root: "/tmp" }, format: "rgb565le", ...config };
  if (board !== null) addResource("board.json", board);
  prepare?.(state);
  vi.resetModules();
  await import("../../src/main");
  return state.traces;
}

const fatal = (traces: string[]) => traces.filter((t) => t.startsWith("fatal: "));

describe("main.ts boot", () => {
  beforeEach(() => {
    vi.restoreAllMocks();
  });

  it("boots on a good config: samples, brings the network up, connects to the broker with a persistent session", async () => {
    const traces = await boot({ mqtt_host: "broker.test", mqtt_port: 1884, device_id: "dev42" });
    expect(fatal(traces)).toEqual([]);
    expect(traces).toContain("device dev42 on Desktop simulator (mcsim / Node): telemetry to xsms/dev42/telemetry\n");
    advance(0); // StaticNetwork reports "up" on the next turn
    expect(traces).toContain("network up\n");
    const socket = lastSocket();
    expect(socket.options).toEqual({ host: "broker.test", port: 1884 });
    net.connect(socket);
    const [connect] = decodeAll(Uint8Array.from(socket.sent));
    expect(connect).toMatchObject({ type: PacketType.CONNECT, clientId: "dev42", cleanSession: false });
    // The session store lives in preference domain "mqtt": the queued first readings are there.
    advance(20_000);
    expect(sdk().preferenceLog.some((op) => op.startsWith("set mqtt"))).toBe(true);
  });

  it("takes the device id from the Wi-Fi MAC when device_id is empty", async () => {
    const traces = await boot({}, LIN_BOARD, (state) => {
      state.net.MAC = "A4:CF:12:B3:C4:D5";
    });
    expect(fatal(traces)).toEqual([]);
    expect(traces.some((t) => t.startsWith("device a4cf12b3c4d5 on "))).toBe(true);
  });

  it("a bad config value is reported as a ConfigError naming the key", async () => {
    const traces = await boot({ mqtt_qos: 3 });
    expect(fatal(traces)).toHaveLength(1);
    expect(fatal(traces)[0]).toBe('fatal: ConfigErrors: 1 bad config key:\n  config "mqtt_qos": expected an integer from 0 to 2, got 3\n');
    // Since app/fatal (merged from main), the device then goes on to report it on its status topic: not checked here.
  });

  it("a mistyped config key is reported, not ignored", async () => {
    const traces = await boot({ mqtt_hots: "typo" });
    expect(fatal(traces)[0]).toMatch(/^fatal: ConfigErrors: 1 bad config key:\n  config "mqtt_hots": /);
  });

  it("an empty board key says how to build", async () => {
    const traces = await boot({ board: "" });
    expect(fatal(traces)).toEqual([
      'fatal: ConfigError: config "board": is empty: manifest.json sets it for every platform it supports; build with -p lin or -p esp32/<board>\n',
    ]);
  });

  it("a build without its board file says which manifest entry must bundle it", async () => {
    const traces = await boot({}, null);
    expect(fatal(traces)).toEqual([
      'fatal: Error: this build has no board.json: the manifest\'s platforms entry for this board must put boards/lin.json in "data"\n',
    ]);
  });

  it("a board file that is not JSON is named in the error", async () => {
    const traces = await boot({}, "{ not json");
    expect(fatal(traces)[0]).toMatch(/^fatal: Error: boards\/lin\.json: not valid JSON \(/);
  });

  it("a board file that is JSON but not a valid board is refused with the board's error", async () => {
    const traces = await boot({}, JSON.stringify({ name: "x" }));
    expect(fatal(traces)).toHaveLength(1);
    expect(fatal(traces)[0]).toMatch(/boards\/lin\.json/);
  });

  it("a corrupt session store is reported, erased and replaced by an empty one; the device boots on", async () => {
    let state = sdk();
    const traces = await boot({ device_id: "dev42" }, LIN_BOARD, (fresh) => {
      state = fresh;
      // A stored item whose bytes fail their checksum (flash bit rot, or a foreign writer in the domain).
      fresh.preferences.set("mqtt", new Map<string, string | boolean | number | ArrayBuffer>([["m/1", new Uint8Array([2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).buffer]]));
    });
    expect(fatal(traces)).toEqual([]);
    expect(traces.some((t) => /^warning: session store failed its checks \(.+\): erased, starting empty; what it held is lost\n$/.test(t))).toBe(true);
    expect(state.preferences.get("mqtt")?.has("m/1") ?? false).toBe(false);
    advance(0);
    expect(sdk().sockets).toHaveLength(1);
  });
});
