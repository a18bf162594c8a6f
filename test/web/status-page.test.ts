// The status page's request handling over a real firmware: routes, status JSON from the live state, settings through
// runCommand with Basic auth and lockout, and no secret in any answer.
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { runCommand } from "../../src/sampler/commands";
import { FlashLogStore } from "../../src/store/flash-log";
import { storeHealth } from "../../src/store/wear";
import { SimNorFlash } from "../store/nor-flash";
import { RecentReadings } from "../../src/web/recent";
import type { StatusReport } from "../../src/web/status";
import { PAGE_HTML, SECRETS, ackAll, basic, bodyText, bootWithPage, connect, header, request } from "./support";

const json = (text: string) => JSON.parse(text) as StatusReport;
const post = (target: string, body: string, authorization?: string, extra: Record<string, string> = {}) =>
  request({ method: "POST", target, body: new TextEncoder().encode(body), contentType: "application/json", authorization, requestedWith: "status-page", ...extra });

describe("status page routes", () => {
  it("serves the gzipped page at / with its encoding", () => {
    const { page } = bootWithPage();
    const response = page.handle(request({ target: "/" }));
    expect(response.status).toBe(200);
    expect(header(response, "content-encoding")).toBe("gzip");
    expect(header(response, "content-type")).toMatch(/^text\/html/);
    expect(gunzipSync(response.body.chunk(0, response.body.byteLength)).toString()).toBe(PAGE_HTML);
  });

  it("answers unknown paths 404, wrong methods 405 with Allow, and OPTIONS (a CORS preflight) 405", () => {
    const { page } = bootWithPage();
    expect(page.handle(request({ target: "/nope" })).status).toBe(404);
    const wrong = page.handle(request({ method: "POST", target: "/status.json" }));
    expect(wrong.status).toBe(405);
    expect(header(wrong, "allow")).toBe("GET");
    expect(page.handle(request({ method: "OPTIONS", target: "/settings/interval" })).status).toBe(405);
    expect(page.handle(request({ method: "GET", target: "/settings/interval" })).status).toBe(405);
  });

  it("reports the live state: device, broker link, queue, counters, settings, channels with values", () => {
    const { page, clock, broker } = bootWithPage();
    let s = json(bodyText(page.handle(request({ target: "/status.json" }))));
    expect(s.device).toMatchObject({ id: "web-1", board: "Desktop simulator (mcsim / Node)", firmware: "9.9.9", boot: 1, heap: 12345, xs: { slotBytes: 1, chunkBytes: 2, stackPeakBytes: 3 } });
    expect(s.broker).toMatchObject({ host: "127.0.0.1", port: 1883, tls: false, connected: false });
    expect(s.settings).toEqual({ intervalMs: { env: 1000 }, heartbeatS: 300, writable: false });
    expect(s.channels.map((c) => c.id)).toEqual(["t", "h", "p"]);
    connect(broker);
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      ackAll(broker);
    }
    s = json(bodyText(page.handle(request({ target: "/status.json" }))));
    expect(s.broker.connected).toBe(true);
    expect(s.broker.state).toBe("connected");
    expect(s.counters.sampled).toBeGreaterThanOrEqual(5);
    expect(s.counters.acked).toBeGreaterThan(0);
    expect(s.device.uptimeMs).toBe(5000);
    const t = s.channels[0];
    expect(typeof t.value).toBe("number");
    expect(s.recent.sensors.env.t.length).toBe(s.counters.sampled);
    expect(s.recent.sensors.env.c.t[s.recent.sensors.env.c.t.length - 1]).toBe(t.value);
  });

  it("shows a cut link as offline with its reason, then connected again", () => {
    const { page, clock, broker } = bootWithPage();
    connect(broker);
    broker.link.cut(new Error("cable pulled"));
    clock.advance(10);
    let s = json(bodyText(page.handle(request({ target: "/status.json" }))));
    expect(s.broker.connected).toBe(false);
    expect(s.broker.lastError).toContain("cable pulled");
    clock.advance(60_000);
    connect(broker);
    s = json(bodyText(page.handle(request({ target: "/status.json" }))));
    expect(s.broker.connected).toBe(true);
    expect(s.broker.reconnects).toBe(1);
    expect(s.broker.lastError).toBeUndefined();
  });

  it("with since=N returns only newer samples; a since beyond the newest (a reboot emptied the ring) returns all", () => {
    const { page, clock } = bootWithPage();
    for (let i = 0; i < 4; i++) clock.advance(1000);
    const all = json(bodyText(page.handle(request({ target: "/status.json" }))));
    expect(all.recent.after).toBe(0);
    const n = all.serial;
    clock.advance(1000);
    const newer = json(bodyText(page.handle(request({ target: `/status.json?since=${n}` }))));
    expect(newer.recent.after).toBe(n);
    expect(newer.recent.sensors.env.t).toHaveLength(1);
    const reset = json(bodyText(page.handle(request({ target: "/status.json?since=999999" }))));
    expect(reset.recent.after).toBe(0);
    expect(page.handle(request({ target: "/status.json?since=-1" })).status).toBe(400);
    expect(page.handle(request({ target: "/status.json?since=1e3" })).status).toBe(400);
  });

  it("never returns the Wi-Fi, broker or web password", () => {
    const { page, clock } = bootWithPage({ web_password: "web-secret-3" });
    clock.advance(3000);
    for (const target of ["/", "/status.json", "/status.json?since=1", "/settings/interval", "/x"]) {
      const text = Buffer.from(page.handle(request({ target })).body.chunk(0, 1 << 20)).toString("latin1");
      for (const secret of [SECRETS.password, SECRETS.mqtt_password, "web-secret-3", "dev"]) expect(text, target).not.toContain(`"${secret}"`);
      for (const secret of [SECRETS.password, SECRETS.mqtt_password, "web-secret-3"]) expect(text, target).not.toContain(secret);
    }
  });
});

describe("store health in status.json", () => {
  it("is null when the session store is not the flash log (a MemoryStore here)", () => {
    const { page } = bootWithPage();
    expect(json(bodyText(page.handle(request({ target: "/status.json" })))).store).toBeNull();
  });

  it("reads a real flash log on the simulated NOR flash live: no rate before its first erase, then the erases it made", () => {
    // 8 blocks of 1 KB, so the readings of minutes wrap the log and reclaim erases blocks.
    const flash = new SimNorFlash(8 * 1024, 1024);
    const log = FlashLogStore.open(flash);
    const { page, clock, broker } = bootWithPage({}, undefined, { store: log, storeWear: () => log.stats() });
    connect(broker);
    clock.advance(1000);
    ackAll(broker);
    let s = json(bodyText(page.handle(request({ target: "/status.json" }))));
    expect(s.store).not.toBeNull();
    expect(s.store?.sectors).toMatchObject({ total: 8, retired: 0, worn: 0 });
    expect(s.store?.erases.sinceBoot).toBe(0);
    expect(s.store?.yearsLeft).toBeNull();
    expect(s.store?.programmedBytes).toBeGreaterThan(0);
    // Readings committed and acked every second until the log has wrapped and reclaimed (erased) blocks.
    for (let i = 0; i < 3600 && log.stats().erases < 3; i++) {
      clock.advance(1000);
      ackAll(broker);
    }
    s = json(bodyText(page.handle(request({ target: "/status.json" }))));
    const erased = flash.erases.reduce((a, b) => a + b, 0);
    expect(erased).toBeGreaterThanOrEqual(3);
    expect(s.store?.erases.sinceBoot).toBe(erased);
    expect(s.store?.programmedBytes).toBe(flash.programmedBytes.reduce((a, b) => a + b, 0));
    expect(s.store?.erases.max).toBe(Math.max(...flash.erases));
    expect(s.store?.yearsLeft).toBeGreaterThan(0);
    // The same arithmetic over the same figures at the same uptime: the report copies nothing, computes nothing else.
    expect(s.store).toEqual(storeHealth(log.stats(), s.device.uptimeMs));
  });
});

describe("settings from the page", () => {
  it("are refused (403) without web_password, whatever is sent", () => {
    const { page, firmware } = bootWithPage();
    const response = page.handle(post("/settings/interval", '{"ms":5000}', basic("")));
    expect(response.status).toBe(403);
    expect(bodyText(response)).toContain("web_password");
    expect(firmware.device.sampler.interval("env")).toBe(1000);
  });

  it("change the interval with the password, through the same validation as the MQTT command", () => {
    const { page, firmware } = bootWithPage({ web_password: "pw" });
    const ok = page.handle(post("/settings/interval", '{"ms":5000}', basic("pw")));
    expect(ok.status).toBe(200);
    expect(JSON.parse(bodyText(ok))).toEqual({ cmd: "interval", ok: true, interval: { env: 5000 } });
    expect(firmware.device.sampler.interval("env")).toBe(5000);
    const bad = page.handle(post("/settings/interval", '{"ms":"fast"}', basic("pw")));
    expect(bad.status).toBe(400);
    // The very reply runCommand gives the MQTT command for the same payload.
    const mqtt = runCommand({ sampler: firmware.device.sampler, publishHealth: () => {} }, "interval", new TextEncoder().encode('{"ms":"fast"}'));
    expect(JSON.parse(bodyText(bad))).toEqual(JSON.parse(JSON.stringify(mqtt)));
    expect(page.handle(post("/settings/heartbeat", '{"s":60}', basic("pw"))).status).toBe(200);
    expect(firmware.device.sampler.heartbeatS()).toBe(60);
    expect(page.handle(post("/settings/deadband", '{"value":"2%","channel":"t"}', basic("pw"))).status).toBe(200);
    expect(json(bodyText(page.handle(request({ target: "/status.json" })))).channels[0].deadband).toBe("2%");
  });

  it("offer only interval, deadband and heartbeat (read and health stay on MQTT)", () => {
    const { page } = bootWithPage({ web_password: "pw" });
    expect(page.handle(post("/settings/read", "{}", basic("pw"))).status).toBe(404);
    expect(page.handle(post("/settings/health", "{}", basic("pw"))).status).toBe(404);
  });

  it("need the password: 401, with a browser challenge only for requests that are not the page's own", () => {
    const { page, firmware } = bootWithPage({ web_password: "pw" });
    const missing = page.handle(post("/settings/interval", '{"ms":5000}'));
    expect(missing.status).toBe(401);
    expect(header(missing, "www-authenticate")).toBeUndefined();
    const wrong = page.handle(post("/settings/interval", '{"ms":5000}', basic("nope"), { requestedWith: undefined } as never));
    expect(wrong.status).toBe(401);
    expect(header(wrong, "www-authenticate")).toMatch(/^Basic realm=/);
    expect(firmware.device.sampler.interval("env")).toBe(1000);
  });

  it("need application/json (a cross-site form post cannot send it without a preflight)", () => {
    const { page } = bootWithPage({ web_password: "pw" });
    expect(page.handle(post("/settings/interval", '{"ms":5000}', basic("pw"), { contentType: "text/plain" })).status).toBe(415);
  });

  it("lock out after 5 wrong passwords, the right one included, then let the right one in", () => {
    const { page, firmware, clock } = bootWithPage({ web_password: "pw" }, { maxFailures: 5, lockoutMs: 30_000, maxLockoutMs: 120_000 });
    firmware.stop();
    for (let i = 0; i < 4; i++) expect(page.handle(post("/settings/heartbeat", '{"s":1}', basic(`guess${i}`))).status).toBe(401);
    const locked = page.handle(post("/settings/heartbeat", '{"s":1}', basic("guess4")));
    expect(locked.status).toBe(429);
    expect(header(locked, "retry-after")).toBe("30");
    expect(page.handle(post("/settings/heartbeat", '{"s":1}', basic("pw"))).status).toBe(429);
    expect(firmware.device.sampler.heartbeatS()).toBe(300);
    clock.advance(30_000);
    expect(page.handle(post("/settings/heartbeat", '{"s":1}', basic("pw"))).status).toBe(200);
    // A success resets the count; a second lockout in a row lasts twice as long.
    for (let i = 0; i < 5; i++) page.handle(post("/settings/heartbeat", '{"s":1}', basic("x")));
    clock.advance(29_999);
    expect(page.handle(post("/settings/heartbeat", '{"s":2}', basic("pw"))).status).toBe(429);
    clock.advance(1);
    expect(page.handle(post("/settings/heartbeat", '{"s":2}', basic("pw"))).status).toBe(200);
    for (let i = 0; i < 5; i++) page.handle(post("/settings/heartbeat", '{"s":1}', basic("x")));
    for (let i = 0; i < 5; i++) page.handle(post("/settings/heartbeat", '{"s":1}', basic("x")));
    expect(header(page.handle(post("/settings/heartbeat", '{"s":1}', basic("pw"))), "retry-after")).toBe("30");
  });
});

describe("the sampler's sample listener", () => {
  it("sees every good sample, and one that throws stops neither sampling nor publishing", () => {
    const { firmware, clock, broker } = bootWithPage();
    connect(broker);
    const seen: number[] = [];
    firmware.device.sampler.setSampleListener((sensor, values, uptimeMs) => {
      seen.push(uptimeMs);
      throw new Error(`listener broke on ${sensor} ${values.length}`);
    });
    const acked = firmware.client.counters.acked;
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      ackAll(broker);
    }
    expect(seen).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(firmware.device.sampler.stats().sensors.env.reads).toBe(6);
    expect(firmware.client.counters.acked).toBeGreaterThan(acked);
  });
});

describe("recent readings ring", () => {
  it("keeps the last N per sensor in fixed memory, oldest first, by serial", () => {
    const ring = new RecentReadings([{ id: "a", channels: 2 }, { id: "b", channels: 1 }], 3);
    const bytes = ring.bytes;
    for (let i = 1; i <= 5; i++) ring.push("a", [i, -i], i * 10);
    ring.push("b", [7], 60);
    ring.push("zz", [1], 0);
    ring.push("a", [1], 0);
    expect(ring.bytes).toBe(bytes);
    expect(ring.lastSerial).toBe(6);
    expect(ring.since("a", 0)).toEqual({ serials: [3, 4, 5], times: [30, 40, 50], values: [[3, 4, 5], [-3, -4, -5]] });
    expect(ring.since("a", 4).times).toEqual([50]);
    expect(ring.since("b", 0).values).toEqual([[7]]);
    expect(ring.latest("a")).toEqual({ values: [5, -5], uptimeMs: 50 });
    expect(ring.latest("c")).toBeUndefined();
  });

  it("costs 3,360 bytes for the lin board at 120 samples", () => {
    expect(new RecentReadings([{ id: "env", channels: 3 }]).bytes).toBe(3360);
  });
});
