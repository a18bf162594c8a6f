// src/main.ts's boot paths on Node against the SDK fakes: a good boot (board resource, static network, MQTT CONNECT on
// the socket), and each way a boot can fail with a message that says what to fix: a bad config key, an empty board
// key, a build without its board file, a board file that is not JSON, a damaged flash log or a corrupt NVS store of an
// earlier firmware (erased, reported, boot goes on); and the status page, served once the network is up. main.ts runs
// its main() on import, so each test re-imports it on a fresh fake device. The session store is the flash log on the
// fake `flash` partition "xsmqtt" (the esp32 partition module; see test/support/moddable-fakes-plugin.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { decodeAll } from "../../src/mqtt/codec";
import { PacketType } from "../../src/mqtt/constants";
import { FlashLogStore } from "../../src/store/flash-log";
import { openVerifiedOrReset } from "../../src/store/journaled-store";
import { PreferenceBackend } from "../../src/store/preference-backend";
import type { StatusReport } from "../../src/web/status";
import Preference from "./fakes/preference";
import { SimNorFlash } from "../store/nor-flash";
import { advance, addResource, emitWiFi, lastSocket, liveTimers, LOG_PARTITION, LOG_PARTITION_BYTES, net, resetSdk, sdk, type FakeHttpServer } from "./fakes/sdk";

const ROOT = join(import.meta.dirname, "../..");
const MANIFEST_CONFIG = (JSON.parse(readFileSync(join(ROOT, "manifest.json"), "utf8")) as { config: Record<string, unknown> }).config;
const LIN_BOARD = readFileSync(join(ROOT, "boards/lin.json"), "utf8");

/** Boots main.ts on a fresh fake device; `board` null: a build without the board resource. */
async function boot(config: Record<string, unknown>, board: string | null = LIN_BOARD, prepare?: (state: ReturnType<typeof resetSdk>) => void): Promise<string[]> {
  const state = resetSdk();
  // What mcconfig merges for -p lin: the manifest's config, the platform's board key, objects the SDK adds.
  state.config = { ...MANIFEST_CONFIG, board: "lin", file: { root: "/tmp" }, format: "rgb565le", ...config };
  if (board !== null) addResource("board.json", board);
  // The gzipped status page the manifest bundles ("data": web/status-page.gz); its bytes do not matter here.
  addResource("status-page.gz", new Uint8Array([0x1f, 0x8b, 8, 0]));
  prepare?.(state);
  vi.resetModules();
  await import("../../src/main");
  return state.traces;
}

/** One GET as a browser sends it, through the http.js request protocol of the fake server main.ts started. */
function get(server: FakeHttpServer | undefined, target: string): { status: number; body: string } {
  if (server?.accept === undefined) throw new Error("no status page server");
  const peer = server.accept();
  peer.send(`GET ${target} HTTP/1.1\r\nHost: device\r\n\r\n`);
  peer.pump();
  const text = new TextDecoder().decode(peer.received);
  peer.hangUp();
  const end = text.indexOf("\r\n\r\n");
  if (end === -1) throw new Error(`no complete response in ${JSON.stringify(text.slice(0, 200))}`);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), body: text.slice(end + 4) };
}

const fatal = (traces: string[]) => traces.filter((t) => t.startsWith("fatal: "));
const RESET_WARNING = /^warning: session store failed its checks \((.+)\): erased, starting empty; what it held is lost\n$/;

/** The log partition as the next boot would read it (a copy: the running firmware keeps its own). */
function logAfterReboot(): FlashLogStore {
  const partition = sdk().flash.get(LOG_PARTITION);
  if (partition === undefined) throw new Error("no log partition");
  return FlashLogStore.open(partition.reboot());
}

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
    // The session store is the flash log: the sampler's state and the readings queued while unacknowledged are in it
    // after a reboot; NVS is not written at all.
    advance(20_000);
    const keys = logAfterReboot().list("");
    expect(keys).toContain("smp.boot");
    expect(keys.some((key) => key.startsWith("smp.r"))).toBe(true);
    expect(sdk().preferenceLog).toEqual([]);
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

  it("a damaged flash log is reported, erased and opened empty; the device boots on", async () => {
    const traces = await boot({ device_id: "dev42" }, LIN_BOARD, (state) => {
      const partition = state.flash.get(LOG_PARTITION)!;
      const log = FlashLogStore.open(partition);
      log.put("old/value", new Uint8Array([1, 2, 3]));
      log.commit();
      // Damage no power cut can do: a second block claiming the log position of the first (a copy of it).
      const used = [...Array(partition.byteLength / partition.blockSize).keys()].filter((b) => partition.read(b * partition.blockSize, 1)[0] !== 0xff);
      expect(used).toHaveLength(1);
      const copy = partition.read(used[0] * partition.blockSize, partition.blockSize);
      partition.write((used[0] + 1) * partition.blockSize, copy);
    });
    expect(fatal(traces)).toEqual([]);
    const warnings = traces.filter((t) => RESET_WARNING.test(t));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/both claim log position/);
    expect(logAfterReboot().get("old/value")).toBeUndefined();
    advance(0);
    expect(sdk().sockets).toHaveLength(1);
  });

  it("a corrupt NVS store of an earlier firmware is reported and dropped, nothing moved; the device boots on", async () => {
    let state = sdk();
    const traces = await boot({ device_id: "dev42" }, LIN_BOARD, (fresh) => {
      state = fresh;
      // A stored item whose bytes fail their checksum (flash bit rot, or a foreign writer in the domain).
      fresh.preferences.set("mqtt", new Map<string, string | boolean | number | ArrayBuffer>([["m/1", new Uint8Array([2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).buffer]]));
    });
    expect(fatal(traces)).toEqual([]);
    expect(traces.filter((t) => RESET_WARNING.test(t))).toHaveLength(1);
    expect(traces.some((t) => t.startsWith("session store: moved "))).toBe(false);
    expect(state.preferences.get("mqtt")?.size ?? 0).toBe(0);
    advance(0);
    expect(sdk().sockets).toHaveLength(1);
  });

  it("an NVS store of an earlier firmware is moved into the flash log at boot", async () => {
    const traces = await boot({ device_id: "dev42" }, LIN_BOARD, () => {
      const old = openVerifiedOrReset(new PreferenceBackend(Preference, "mqtt"), () => {
        throw new Error("not corrupt");
      });
      old.put("old/value", new Uint8Array([4, 5, 6]));
      old.commit();
    });
    expect(fatal(traces)).toEqual([]);
    expect(traces).toContain('session store: moved 1 value(s) from NVS (preference domain "mqtt") to the flash partition "xsmqtt"\n');
    expect(logAfterReboot().get("old/value")).toEqual(new Uint8Array([4, 5, 6]));
    expect(sdk().preferences.get("mqtt")?.size ?? 0).toBe(0);
  });

  it("a build without the log partition cannot build its platform: says so and tries again in a minute", async () => {
    const traces = await boot({ device_id: "dev42" }, LIN_BOARD, (state) => {
      state.flash.delete(LOG_PARTITION);
    });
    expect(fatal(traces)).toEqual(["fatal: Error: can't find partition; trying again in 60 s\n"]);
    expect(sdk().sockets).toHaveLength(0);
    expect(liveTimers().some((t) => t.due === 60_000)).toBe(true);
    // Failed starts leave nothing running behind them (an hourly clock timer per retry would pile up on a device
    // that waits for days): ten more minutes of failing retries add no live timer but the next retry.
    const before = liveTimers().length;
    advance(600_000);
    expect(fatal(traces)).toHaveLength(11);
    expect(liveTimers().length).toBe(before);
    // A minute later it tries again: with the partition there (as after a reflash with the right table) it boots.
    sdk().flash.set(LOG_PARTITION, new SimNorFlash(LOG_PARTITION_BYTES));
    advance(59_999);
    expect(traces.some((t) => t.startsWith("device dev42 on "))).toBe(false);
    advance(1);
    expect(traces.some((t) => t.startsWith("device dev42 on "))).toBe(true);
    expect(fatal(traces)).toHaveLength(11);
  });

  it("serves the status page on web_port at once on a static network", async () => {
    const traces = await boot({ device_id: "dev42", web_port: 8080 });
    expect(fatal(traces)).toEqual([]);
    expect(sdk().httpServers).toHaveLength(1);
    expect(sdk().httpServers[0]).toMatchObject({ port: 8080, closed: false });
    expect(typeof sdk().httpServers[0].callback).toBe("function");
    expect(traces).toContain("status page: http://127.0.0.1:8080/\n");
  });

  it("answers GET /status.json with the health of its flash log, read from the log on the partition", async () => {
    await boot({ device_id: "dev42", web_port: 8080 });
    advance(20_000);
    const reply = get(sdk().httpServers[0], "/status.json");
    expect(reply.status).toBe(200);
    const status = JSON.parse(reply.body) as StatusReport;
    const partition = sdk().flash.get(LOG_PARTITION);
    expect(status.store?.sectors).toMatchObject({ total: LOG_PARTITION_BYTES / (partition?.blockSize ?? 0), retired: 0, worn: 0 });
    expect(status.store?.sectors.used).toBeGreaterThan(0);
    // Bytes programmed since boot: what the partition itself counted (it was blank before this boot).
    expect(status.store?.programmedBytes).toBe(partition?.programmedBytes.reduce((a, b) => a + b, 0));
    expect(status.store?.endurance).toBe(100_000);
  });

  it("on Wi-Fi, serves the status page once the network is up, at the address it got", async () => {
    const traces = await boot({ device_id: "dev42", web_port: 8080, ssid: "home", password: "secret123" }, LIN_BOARD, (state) => {
      state.net.IP = "192.168.1.20";
    });
    expect(fatal(traces)).toEqual([]);
    advance(0);
    expect(sdk().httpServers).toEqual([]);
    emitWiFi("connect");
    emitWiFi("gotIP");
    expect(sdk().httpServers).toHaveLength(1);
    expect(sdk().httpServers[0]).toMatchObject({ port: 8080, closed: false });
    expect(traces).toContain("status page: http://192.168.1.20:8080/\n");
    // Down and up again: still the one server.
    emitWiFi("lostIP");
    emitWiFi("gotIP");
    expect(sdk().httpServers).toHaveLength(1);
  });

  it("a Wi-Fi monitor the driver cannot allocate is retried in a minute; the firmware already running is the only one", async () => {
    const traces = await boot({ device_id: "dev42", ssid: "home", password: "secret123" }, LIN_BOARD, (state) => {
      state.wifiMonitorError = "out of memory";
    });
    const started = () => traces.filter((t) => t.startsWith("device dev42 on ")).length;
    expect(started()).toBe(1);
    expect(fatal(traces)).toEqual(["fatal: the network did not start (Error: out of memory); trying again in 60 s\n"]);
    expect(sdk().wifiMonitors).toEqual([]);
    // Still failing a minute later: reported again, and still one firmware (a second would sample and publish twice).
    advance(60_000);
    expect(fatal(traces)).toHaveLength(2);
    expect(started()).toBe(1);
    sdk().wifiMonitorError = undefined;
    advance(60_000);
    expect(sdk().wifiMonitors).toHaveLength(1);
    expect(started()).toBe(1);
    emitWiFi("connect");
    emitWiFi("gotIP");
    expect(traces).toContain("network up\n");
    expect(sdk().sockets).toHaveLength(1);
    expect(fatal(traces)).toHaveLength(2);
  });

  it("web_port 0: no status page", async () => {
    const traces = await boot({ device_id: "dev42", web_port: 0 });
    advance(0);
    expect(traces).toContain("network up\n");
    expect(sdk().httpServers).toEqual([]);
    expect(traces.some((t) => t.includes("status page"))).toBe(false);
  });

  it("a status page that cannot start (port taken) is reported; MQTT goes on", async () => {
    const traces = await boot({ device_id: "dev42", web_port: 8080 }, LIN_BOARD, (state) => {
      state.httpServers.push({ port: 8080, callback: undefined, closed: false });
    });
    advance(0);
    expect(traces).toContain("warning: status page not started on port 8080: Error: bind socket failed\n");
    expect(sdk().httpServers).toHaveLength(1);
    expect(sdk().sockets).toHaveLength(1);
  });
});
