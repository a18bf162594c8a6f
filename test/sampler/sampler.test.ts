import { describe, expect, it } from "vitest";
import { QueueFullError } from "../../src/errors";
import { BOOT_KEY, RECORD_PREFIX, SEQ_KEY, recordKey } from "../../src/sampler/persist";
import { createSimulatedSensor } from "../../src/sensors/simulated";
import { envSample, loadBoard, makeRig, readings, ScriptedSensor, TOPICS } from "./support/setup";

/** Lets promise callbacks run (async sensor reads). */
const settle = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe("schedule", () => {
  it("reads each sensor at once and then every interval, without drift", () => {
    const rig = makeRig({ config: { interval_ms: 1000, deadband: "0", batch_max: 1 } });
    rig.sampler.start();
    rig.clock.advance(5000);
    const got = readings(rig);
    expect(got.map((r) => r.uptimeMs)).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(got.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(got.every((r) => r.boot === 1)).toBe(true);
  });

  it("counts a throwing read as a failure and keeps sampling", () => {
    const sensor = new ScriptedSensor(() => envSample(20));
    sensor.queue.push(() => { throw new Error("I2C NACK"); }, () => undefined);
    const rig = makeRig({ sensors: { env: sensor }, config: { interval_ms: 1000, batch_max: 1, heartbeat_s: 1 } });
    rig.sampler.start();
    rig.clock.advance(3000);
    const stats = rig.sampler.stats().sensors.env;
    expect(stats.failures).toBe(2);
    expect(stats.lastError).toContain("no data");
    expect(rig.warnings[0]).toContain("I2C NACK");
    expect(readings(rig).map((r) => r.uptimeMs)).toEqual([2000, 3000]);
  });

  it("never waits on a slow (async) read: a read still running at the next tick is abandoned and counted", async () => {
    let resolveSlow: (v: unknown) => void = () => {};
    const sensor = new ScriptedSensor(() => Promise.resolve(envSample(20)));
    sensor.queue.push(() => new Promise((resolve) => { resolveSlow = resolve; }));
    const rig = makeRig({ sensors: { env: sensor }, config: { interval_ms: 1000, batch_max: 1, heartbeat_s: 1 } });
    rig.sampler.start();
    rig.clock.advance(1000);
    await settle();
    rig.clock.advance(1000);
    await settle();
    resolveSlow(envSample(99));
    await settle();
    const stats = rig.sampler.stats().sensors.env;
    expect(stats.overruns).toBe(1);
    expect(stats.failures).toBe(1);
    const got = readings(rig);
    expect(got.map((r) => r.uptimeMs)).toEqual([1000, 2000]);
    expect(got.every((r) => r.values.t === 20)).toBe(true);
  });
});

describe("deadband and heartbeat", () => {
  function run(deadband: string, temperatures: number[], heartbeat_s = 0): number[] {
    const sensor = new ScriptedSensor(() => envSample(0));
    for (const t of temperatures) sensor.queue.push(() => envSample(t));
    const rig = makeRig({ sensors: { env: sensor }, config: { interval_ms: 1000, batch_max: 1, deadband, heartbeat_s } });
    // Only the temperature channel's band matters here: pin the others' bands wide open.
    rig.sampler.setDeadband("100%", "h");
    rig.sampler.setDeadband("100%", "p");
    rig.sampler.setDeadband(deadband, "t");
    rig.sampler.start();
    rig.clock.advance((temperatures.length - 1) * 1000);
    return readings(rig).map((r) => r.values.t);
  }

  it("absolute: reports a change of at least the band from the last reported value", () => {
    expect(run("0.5", [20, 20.2, 20.4, 20.5, 20.6, 19.9, 20.3])).toEqual([20, 20.5, 19.9]);
  });

  it("percent: the band is a share of the last reported value", () => {
    expect(run("10%", [100, 105, 109, 110, 120, 121])).toEqual([100, 110, 121]);
  });

  it("zero reports every sample", () => {
    expect(run("0", [1, 1, 1])).toEqual([1, 1, 1]);
  });

  it("heartbeat publishes an unchanged value every heartbeat_s", () => {
    expect(run("5", Array.from({ length: 11 }, () => 20), 4)).toEqual([20, 20, 20]);
  });

  it("uses the board's per-channel deadband when no command changed it", () => {
    const rig = makeRig({ board: loadBoard("lin"), config: { deadband: "7" } });
    expect(rig.sampler.deadband("t")).toEqual({ kind: "abs", value: 0.1 });
    rig.sampler.setDeadband("2%");
    expect(rig.sampler.deadband("p")).toEqual({ kind: "pct", value: 2 });
  });

  it("simulated sensors drift slowly enough for the deadband to drop most samples", () => {
    const rig = makeRig({ board: loadBoard("lin"), config: { interval_ms: 1000, batch_max: 1, heartbeat_s: 0 } });
    rig.sampler.start();
    rig.clock.advance(199_000);
    const n = readings(rig).length;
    expect(n).toBeGreaterThan(5);
    expect(n).toBeLessThan(150);
  });
});

describe("batching", () => {
  it("packs batch_max readings into one PUBLISH", () => {
    const rig = makeRig({ config: { interval_ms: 1000, deadband: "0", batch_max: 10, batch_window_ms: 600_000 } });
    rig.sampler.start();
    rig.clock.advance(8_000);
    expect(rig.publisher.on(TOPICS.telemetry)).toHaveLength(0);
    rig.clock.advance(1_000);
    expect(rig.publisher.on(TOPICS.telemetry)).toHaveLength(1);
    expect(readings(rig).map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("sends a partial batch when the window after its first reading ends", () => {
    const rig = makeRig({ config: { interval_ms: 10_000, deadband: "0", batch_max: 10, batch_window_ms: 25_000 } });
    rig.sampler.start();
    rig.clock.advance(24_999);
    expect(rig.publisher.on(TOPICS.telemetry)).toHaveLength(0);
    rig.clock.advance(1);
    expect(readings(rig).map((r) => r.uptimeMs)).toEqual([0, 10_000, 20_000]);
  });

  it("while offline fills whole batches; back online the rest goes at once", () => {
    const rig = makeRig({ online: false, config: { interval_ms: 1000, deadband: "0", batch_max: 5, batch_window_ms: 2000 } });
    rig.sampler.start();
    rig.clock.advance(11_000);
    expect(rig.publisher.on(TOPICS.telemetry)).toHaveLength(2);
    expect(rig.sampler.stats().pending).toBe(2);
    rig.sampler.setOnline(true);
    rig.clock.advance(0);
    expect(rig.publisher.on(TOPICS.telemetry)).toHaveLength(3);
    expect(readings(rig).map((r) => r.seq)).toEqual([...Array(12).keys()]);
  });

  it("publishes telemetry at the configured QoS, not retained", () => {
    const rig = makeRig({ config: { mqtt_qos: "2", batch_max: 1 } });
    rig.sampler.start();
    rig.clock.advance(0);
    expect(rig.publisher.published[0]).toMatchObject({ topic: TOPICS.telemetry, qos: 2, retain: false });
  });
});

describe("seq across reboots", () => {
  it("continues after a reboot without repeating or skipping; readings pending at the cut go out first, with their boot", () => {
    const first = makeRig({ config: { interval_ms: 1000, deadband: "0", batch_max: 3, batch_window_ms: 600_000 } });
    first.sampler.start();
    first.clock.advance(7_000); // 8 readings: 6 published (two batches), 2 pending (committed)
    expect(readings(first).map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(first.sampler.stats()).toMatchObject({ pending: 2, nextSeq: 8 });
    // Power cut: RAM is gone, the committed flash stays.
    const second = makeRig({ flash: first.flash, config: { interval_ms: 1000, deadband: "0", batch_max: 3, batch_window_ms: 600_000 } });
    expect(second.sampler.boot).toBe(2);
    // Back online (makeRig does it): the restored readings are due at once, as their own boot's batch.
    const restored = readings(second);
    expect(restored.map((r) => [r.seq, r.boot, r.uptimeMs])).toEqual([
      [6, 1, 6000],
      [7, 1, 7000],
    ]);
    second.sampler.start();
    second.clock.advance(2_000);
    const got = readings(second).slice(2);
    expect(got.map((r) => r.seq)).toEqual([8, 9, 10]);
    expect(got.every((r) => r.boot === 2)).toBe(true);
  });

  it("a batch the publisher refuses stays pending and goes with a later batch: no gap, no reused number", () => {
    const rig = makeRig({ config: { deadband: "0", batch_max: 1, interval_ms: 1000 } });
    rig.sampler.start();
    rig.clock.advance(0);
    rig.publisher.refuseWith = new QueueFullError("queue full");
    rig.clock.advance(1000);
    expect(rig.sampler.stats()).toMatchObject({ pending: 1, publishFailures: 1 });
    expect(rig.warnings.some((w) => w.includes("kept pending"))).toBe(true);
    rig.publisher.refuseWith = undefined;
    rig.clock.advance(1000);
    expect(readings(rig).map((r) => r.seq)).toEqual([0, 1, 2]);
    const again = makeRig({ flash: rig.flash });
    expect(again.sampler.stats().nextSeq).toBe(3);
  });

  it("commits each accepted reading (its record carries its seq) before anything is published", () => {
    const rig = makeRig({ config: { batch_max: 1 } });
    let committedAtPublish: string[] = [];
    const publish = rig.publisher.publish.bind(rig.publisher);
    rig.publisher.publish = (topic, payload, options) => {
      committedAtPublish = [...rig.flash.keys()].filter((k) => k.startsWith(RECORD_PREFIX));
      return publish(topic, payload, options);
    };
    rig.sampler.start();
    rig.clock.advance(0);
    expect(committedAtPublish).toEqual([recordKey(0)]);
    expect(rig.flash.has(BOOT_KEY)).toBe(true);
    // Handed over: the record is gone and the counter covers its number.
    expect([...rig.flash.keys()].filter((k) => k.startsWith(RECORD_PREFIX))).toEqual([]);
    expect(new TextDecoder().decode(rig.flash.get(SEQ_KEY))).toBe("1");
  });

  it("past pendingMax drops the oldest pending reading, counted and warned (a visible seq gap)", () => {
    const rig = makeRig({ pendingMax: 3, config: { deadband: "0", batch_max: 1, interval_ms: 1000 } });
    rig.publisher.refuseWith = new QueueFullError("queue full");
    rig.sampler.start();
    rig.clock.advance(4000); // 5 readings, 3 kept
    expect(rig.sampler.stats()).toMatchObject({ pending: 3, dropped: 2 });
    rig.publisher.refuseWith = undefined;
    rig.sampler.flush();
    expect(readings(rig).map((r) => r.seq)).toEqual([2, 3, 4]);
  });
});

describe("time stamps", () => {
  it("stamps wall time from the wall clock when it is set", () => {
    const rig = makeRig({ wall: 1_700_000_000_000, config: { batch_max: 1, deadband: "0", interval_ms: 1000 } });
    rig.sampler.start();
    rig.clock.advance(1000);
    rig.wall.value = 1_700_000_001_000;
    rig.clock.advance(1000);
    const got = readings(rig);
    expect(got.map((r) => [r.uptimeMs, r.wallMs])).toEqual([
      [0, 1_700_000_000_000],
      [1000, 1_700_000_000_000],
      [2000, 1_700_000_001_000],
    ]);
  });

  it("holds readings taken before sync and stamps them when the clock is set", () => {
    const rig = makeRig({ config: { presync_max: 50, batch_max: 10, batch_window_ms: 0, deadband: "0", interval_ms: 1000 } });
    rig.sampler.start();
    rig.clock.advance(4000);
    expect(rig.publisher.on(TOPICS.telemetry)).toHaveLength(0);
    rig.wall.value = 1_800_000_000_000; // at uptime 4000
    rig.sampler.timeSynced();
    rig.clock.advance(0);
    const got = readings(rig);
    expect(got.map((r) => r.wallMs)).toEqual([1_799_999_996_000, 1_799_999_997_000, 1_799_999_998_000, 1_799_999_999_000, 1_800_000_000_000]);
  });

  it("notices the clock being set by itself at the next tick", () => {
    const rig = makeRig({ config: { presync_max: 50, batch_window_ms: 0, deadband: "0", interval_ms: 1000 } });
    rig.sampler.start();
    rig.clock.advance(1500);
    rig.wall.value = 5_000_000; // this fake wall clock stands still: it reads 5_000_000 at uptime 2000 too
    rig.clock.advance(500);
    expect(readings(rig).map((r) => r.wallMs)).toEqual([4_998_000, 4_999_000, 5_000_000]);
  });

  it("beyond presync_max held readings go out with boot-relative time only", () => {
    const rig = makeRig({ config: { presync_max: 3, batch_max: 3, batch_window_ms: 0, deadband: "0", interval_ms: 1000 } });
    rig.sampler.start();
    rig.clock.advance(2000);
    expect(readings(rig)).toHaveLength(3);
    expect(readings(rig).every((r) => r.wallMs === undefined && r.uptimeMs >= 0)).toBe(true);
  });
});

describe("simulated sensors", () => {
  it("repeat exactly for a seed and differ between seeds", () => {
    const a = createSimulatedSensor("sht3x", 7, "x");
    const b = createSimulatedSensor("sht3x", 7, "x");
    const c = createSimulatedSensor("sht3x", 8, "x");
    const series = (s: typeof a) => Array.from({ length: 5 }, () => JSON.stringify(s.sample()));
    const sa = series(a);
    expect(sa).toEqual(series(b));
    expect(sa).not.toEqual(series(c));
  });

  it("have the SDK drivers' sample() shapes with plausible values", () => {
    const sht = createSimulatedSensor("sht3x", 1).sample() as any;
    expect(Object.keys(sht).sort()).toEqual(["hygrometer", "thermometer"]);
    expect(sht.thermometer.temperature).toBeGreaterThan(10);
    expect(sht.hygrometer.humidity).toBeLessThan(95);
    const tmp = createSimulatedSensor("tmp117", 1).sample() as any;
    expect(typeof tmp.temperature).toBe("number");
    const bmp = createSimulatedSensor("bmp280", 1).sample() as any;
    expect(bmp.barometer.pressure).toBeGreaterThan(95_000);
    expect(() => createSimulatedSensor("dht22", 1)).toThrow(/no simulated sensor/);
  });
});
