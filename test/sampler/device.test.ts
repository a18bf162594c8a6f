import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Device, type DevicePlatform } from "../../src/app/device";
import { BoardError } from "../../src/boards/validate";
import { ConfigErrors } from "../../src/config/parse";
import { createSimulatedSensor } from "../../src/sensors/simulated";
import { decodeTelemetry } from "../../src/sampler/payload";
import { MemoryStore } from "../../src/store/memory-store";
import { FakeClock } from "../support/fake-clock";
import { RecordingPublisher } from "./support/recording-publisher";

const ROOT = join(__dirname, "..", "..");
const loadJson = (file: string) => JSON.parse(readFileSync(join(ROOT, file), "utf8"));

interface Harness {
  device: Device;
  clock: FakeClock;
  publisher: RecordingPublisher;
  flash: Map<string, Uint8Array>;
  warnings: string[];
  command(name: string, payload: string | Uint8Array): Record<string, unknown>;
}

function boot(config: Record<string, unknown> = {}, flash = new Map<string, Uint8Array>(), boardFile = "boards/lin.json"): Harness {
  const clock = new FakeClock();
  const publisher = new RecordingPublisher();
  const warnings: string[] = [];
  const platform: DevicePlatform = {
    clock,
    store: new MemoryStore(flash),
    wallClock: () => 1_718_000_000_000 + clock.now(),
    freeHeap: () => 81_234,
    logger: { info: () => {}, warn: (m) => warnings.push(m) },
    defaultDeviceId: "a4cf12b3c4d5",
    createSensor: (spec, _board, cfg, bootCount) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id, bootCount),
    publisher: () => publisher,
  };
  const device = new Device({ config: { health_s: "0", ...config }, board: loadJson(boardFile), boardFile }, platform);
  device.start();
  device.onConnect();
  return {
    device,
    clock,
    publisher,
    flash,
    warnings,
    command(name, payload) {
      const before = publisher.on(device.topics.reply).length;
      publisher.deliver(`${device.topics.commandPrefix}${name}`, payload);
      const replies = publisher.on(device.topics.reply);
      expect(replies).toHaveLength(before + 1);
      return JSON.parse(replies[replies.length - 1].text);
    },
  };
}

describe("device", () => {
  it("uses the platform's id, publishes a retained birth and subscribes to its command topics", () => {
    const h = boot();
    expect(h.device.deviceId).toBe("a4cf12b3c4d5");
    expect(h.publisher.published[0]).toMatchObject({ topic: "xsms/a4cf12b3c4d5/status", text: "online", retain: true });
    expect(h.publisher.subscriptions.map((s) => s.filter)).toEqual(["xsms/a4cf12b3c4d5/cmd/#"]);
    expect(h.device.clientOptions.will).toMatchObject({ topic: "xsms/a4cf12b3c4d5/status", payload: "offline", retain: true });
  });

  it("fails before touching the network on a bad config or board", () => {
    expect(() => boot({ mqtt_port: "http" })).toThrow(ConfigErrors);
    const platform = { defaultDeviceId: "x" } as unknown as DevicePlatform;
    expect(() => new Device({ config: {}, board: { subplatform: "lin" }, boardFile: "boards/lin.json" }, platform)).toThrow(BoardError);
  });
});

describe("commands", () => {
  it("interval: changes the schedule, replies, and persists across a reboot", () => {
    const h = boot({ interval_ms: "10000", deadband: "0", batch_max: "1" });
    expect(h.command("interval", '{"ms":2000,"sensor":"env","id":7}')).toEqual({ cmd: "interval", ok: true, id: 7, interval: { env: 2000 } });
    h.clock.advance(4000);
    expect(h.device.sampler.stats().sensors.env.reads).toBe(2);
    const again = boot({ interval_ms: "10000" }, h.flash);
    expect(again.device.sampler.interval("env")).toBe(2000);
  });

  it("deadband and heartbeat: validated, applied and persisted", () => {
    const h = boot();
    expect(h.command("deadband", '{"channel":"t","value":"2%"}')).toMatchObject({ ok: true, deadband: "2%", channel: "t" });
    expect(h.device.sampler.deadband("t")).toEqual({ kind: "pct", value: 2 });
    expect(h.command("heartbeat", '{"s":60}')).toMatchObject({ ok: true, heartbeat_s: 60 });
    const again = boot({}, h.flash);
    expect(again.device.sampler.deadband("t")).toEqual({ kind: "pct", value: 2 });
    expect(again.device.sampler.heartbeatS()).toBe(60);
  });

  it("read: takes a reading now and publishes it at once, past deadband and batching", () => {
    const h = boot({ batch_max: "10", batch_window_ms: "600000", deadband: "50%" });
    h.clock.advance(0);
    expect(h.publisher.on(h.device.topics.telemetry)).toHaveLength(0);
    expect(h.command("read", '{"sensor":"env"}')).toMatchObject({ ok: true, sensor: "env" });
    const batches = h.publisher.on(h.device.topics.telemetry);
    expect(batches).toHaveLength(1);
    expect(decodeTelemetry(batches[0].payload).readings.map((r) => r.seq)).toEqual([0, 1]);
  });

  const BAD: [string, string | Uint8Array, RegExp][] = [
    ["interval", '{"ms":5}', /"ms" must be an integer from 100/],
    ["interval", '{"ms":1000,"sensor":"nope"}', /"sensor" must be one of env/],
    ["interval", "not json", /not JSON/],
    ["interval", "[1]", /JSON object/],
    ["interval", new Uint8Array([0xff]), /not UTF-8/],
    ["deadband", '{"value":"-2"}', /non-negative/],
    ["deadband", '{"value":"1","channel":"zz"}', /"channel" must be one of t, h, p/],
    ["heartbeat", '{"s":"60"}', /"s" must be an integer/],
    ["heartbeat", '{"s":60,"extra":1}', /unknown field "extra"/],
    ["reboot", "{}", /unknown command "reboot"/],
    ["read/now", "{}", /unknown command "read\/now"/],
  ];
  for (const [name, payload, error] of BAD) {
    it(`refuses ${name} ${typeof payload === "string" ? payload : "(bytes)"} with a clear error reply`, () => {
      const h = boot();
      const reply = h.command(name, payload);
      expect(reply.ok).toBe(false);
      expect(reply.cmd).toBe(name);
      expect(String(reply.error)).toMatch(error);
      expect(h.warnings.some((w) => w.includes("refused"))).toBe(true);
      // The loop is still alive: the next reading is taken and published.
      h.clock.advance(h.device.config.interval_ms + h.device.config.batch_window_ms);
      expect(h.device.sampler.stats().sensors.env.reads).toBeGreaterThan(0);
    });
  }

  it("an internal failure inside a command becomes an error reply, not a crash", () => {
    const h = boot();
    h.device.sampler.setHeartbeat = () => {
      throw new RangeError("flash worn out");
    };
    expect(h.command("heartbeat", '{"s":5}')).toEqual({ cmd: "heartbeat", ok: false, error: "internal error: flash worn out" });
  });
});

describe("Home Assistant discovery", () => {
  it("publishes one retained config per channel when ha_discovery is on", () => {
    const h = boot({ ha_discovery: "true", device_id: "kitchen" });
    const configs = h.publisher.published.filter((p) => p.topic.startsWith("homeassistant/"));
    expect(configs.map((c) => c.topic)).toEqual([
      "homeassistant/sensor/kitchen_t/config",
      "homeassistant/sensor/kitchen_h/config",
      "homeassistant/sensor/kitchen_p/config",
    ]);
    expect(configs.every((c) => c.retain)).toBe(true);
    const t = JSON.parse(configs[0].text);
    expect(t).toMatchObject({
      unique_id: "kitchen_t",
      name: "Temperature",
      state_topic: "xsms/kitchen/telemetry",
      availability_topic: "xsms/kitchen/status",
      payload_available: "online",
      payload_not_available: "offline",
      unit_of_measurement: "°C",
      device_class: "temperature",
      state_class: "measurement",
      device: { identifiers: ["xsms_kitchen"] },
    });
    expect(t.value_template).toContain("value_json.c.t[1:] | sum");
    expect(t.suggested_display_precision).toBe(2);
  });

  it("every discovery field is one Home Assistant's MQTT sensor schema knows, with a valid value", () => {
    // From home-assistant/core, homeassistant/components/mqtt: sensor.py (_PLATFORM_SCHEMA_BASE), the read-only
    // base (state_topic, value_template, qos, encoding) and the common entity schema (availability, device, unique_id,
    // ...), with abbreviations.py for the long names. Discovery drops unknown keys silently (vol.REMOVE_EXTRA), so a
    // misspelt key would just vanish.
    const sensorKeys = new Set([
      "device_class", "expire_after", "force_update", "last_reset_value_template", "name", "options", "suggested_display_precision",
      "state_class", "unit_of_measurement", "state_topic", "value_template", "qos", "encoding", "availability", "availability_mode",
      "availability_topic", "availability_template", "payload_available", "payload_not_available", "device", "enabled_by_default",
      "entity_category", "icon", "json_attributes_topic", "json_attributes_template", "object_id", "unique_id",
    ]);
    const deviceKeys = new Set(["connections", "configuration_url", "identifiers", "name", "manufacturer", "model", "sw_version", "suggested_area"]);
    const unitsByClass: Record<string, string[]> = { temperature: ["°C", "°F", "K"], humidity: ["%"], pressure: ["Pa", "hPa", "kPa", "bar", "cbar", "mbar", "mmHg", "inHg", "psi"] };
    for (const boardFile of ["boards/lin.json", "boards/esp32/m5stack.json", "boards/esp32/esp32c3.json"]) {
      const h = boot({ ha_discovery: "true", device_id: "kitchen" }, new Map(), boardFile);
      const configs = h.publisher.published.filter((p) => p.topic.startsWith("homeassistant/"));
      expect(configs.length).toBeGreaterThan(0);
      for (const message of configs) {
        expect(message.topic).toMatch(/^homeassistant\/sensor\/[A-Za-z0-9_-]+\/config$/);
        const config = JSON.parse(message.text) as Record<string, unknown>;
        expect(Object.keys(config).filter((k) => !sensorKeys.has(k)), message.topic).toEqual([]);
        expect(Object.keys(config.device as object).filter((k) => !deviceKeys.has(k))).toEqual([]);
        expect(["measurement", "total", "total_increasing"]).toContain(config.state_class);
        if (config.device_class !== undefined) expect(unitsByClass[String(config.device_class)], message.topic).toContain(config.unit_of_measurement);
        expect(Number.isInteger(config.suggested_display_precision) && Number(config.suggested_display_precision) >= 0).toBe(true);
        // Availability is the status topic, which carries nothing but these two payloads.
        expect(config.availability_topic).toBe(h.device.topics.status);
        expect(String(config.value_template)).toContain("is_number(this.state)");
      }
    }
  });

  it("with discovery on, readings go out one by one while online (Home Assistant reads only the last of a message)", () => {
    const h = boot({ ha_discovery: "true", batch_max: "10", batch_window_ms: "60000", deadband: "0", interval_ms: "1000" }, new Map(), "test/sim/fixtures/every-sample/lin.json");
    h.clock.advance(4_000);
    const batches = h.publisher.on(h.device.topics.telemetry).map((p) => decodeTelemetry(p.payload));
    expect(batches.length).toBeGreaterThanOrEqual(4);
    expect(batches.every((b) => b.readings.length === 1)).toBe(true);
  });

  it("with discovery off, the same readings wait for the batch window", () => {
    const h = boot({ batch_max: "10", batch_window_ms: "60000", deadband: "0", interval_ms: "1000" }, new Map(), "test/sim/fixtures/every-sample/lin.json");
    h.clock.advance(4_000);
    expect(h.publisher.on(h.device.topics.telemetry)).toHaveLength(0);
  });

  it("with discovery on, readings taken offline still go out as full batches", () => {
    const h = boot({ ha_discovery: "true", batch_max: "5", deadband: "0", interval_ms: "1000" }, new Map(), "test/sim/fixtures/every-sample/lin.json");
    h.device.onDisconnect();
    const before = h.publisher.on(h.device.topics.telemetry).length;
    h.clock.advance(10_000);
    const offline = h.publisher.on(h.device.topics.telemetry).slice(before).map((p) => decodeTelemetry(p.payload));
    expect(offline.length).toBeGreaterThan(0);
    expect(offline.every((b) => b.readings.length === 5)).toBe(true);
  });

  it("publishes none when off", () => {
    expect(boot().publisher.published.some((p) => p.topic.startsWith("homeassistant/"))).toBe(false);
  });
});

describe("simulated sensors across boots", () => {
  it("the first reading of a second boot is not a repeat of the first boot's (the walk is seeded by seed and boot)", () => {
    const flash = new Map<string, Uint8Array>();
    const firstReading = (h: Harness) => decodeTelemetry(h.publisher.on(h.device.topics.telemetry)[0].payload).readings[0].values;
    const first = boot({ deadband: "0", batch_window_ms: "0" }, flash, "test/sim/fixtures/every-sample/lin.json");
    first.clock.advance(10);
    const a = firstReading(first);
    first.device.stop();
    const second = boot({ deadband: "0", batch_window_ms: "0" }, flash, "test/sim/fixtures/every-sample/lin.json");
    second.clock.advance(10);
    expect(second.device.sampler.boot).toBe(2);
    expect(firstReading(second)).not.toEqual(a);
  });
});

describe("health telemetry", () => {
  it("reports queue, drops, reconnects, heap and failures on its own health topic every health_s, never on the status topic", () => {
    const h = boot({ health_s: "60" });
    h.publisher.queue = { depth: 4, bytes: 900, oldestAgeMs: 1234 };
    h.publisher.counters = { ...h.publisher.counters, dropped: 2, reconnects: 3 };
    h.clock.advance(60_000);
    const health = h.publisher.on(h.device.topics.health);
    expect(health).toHaveLength(1);
    expect(health[0].retain).toBe(false);
    expect(JSON.parse(health[0].text)).toMatchObject({ boot: 1, up: 60_000, sync: true, q: 4, qb: 900, age: 1234, drop: 2, rc: 3, heap: 81_234, fail: { env: 0 } });
    h.clock.advance(60_000);
    expect(h.publisher.on(h.device.topics.health)).toHaveLength(2);
    expect(h.device.topics.health).toBe("xsms/a4cf12b3c4d5/health");
    expect(h.publisher.on(h.device.topics.status).map((p) => p.text).every((t) => t === "online" || t === "offline")).toBe(true);
  });

  it("is also sent on demand by the health command", () => {
    const h = boot();
    expect(h.command("health", "")).toEqual({ cmd: "health", ok: true });
    expect(h.publisher.on(h.device.topics.health).length > 0).toBe(true);
  });
});
