// The sampler's schedule and reads at their edges: start/stop/restart, readNow, setInterval, ticks held up by a slow
// read, abandoned and rejected reads, what a sample may be, the heartbeat's edge, the listener, the wall clock.
// Written for the mutants of sampler.ts that survived the first mutation run (docs/reliability.md).
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import { Sampler } from "../../src/sampler/sampler";
import { MemoryStore } from "../../src/store/memory-store";
import { FakeClock } from "../support/fake-clock";
import { RecordingPublisher } from "./support/recording-publisher";
import {
  baroSample, envSample, EVERY_SAMPLE, loadBoard, makeRig, readings, ScriptedSensor, shtSample, steadySensor, TOPICS, twoSensorRig, type Rig,
} from "./support/setup";

const uptimes = (rig: Rig) => readings(rig).map((r) => r.uptimeMs);
/** Lets promise callbacks (asynchronous reads) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("sampler construction", () => {
  it("refuses a board sensor that has no sensor instance, naming it", () => {
    const deps = { clock: new FakeClock(), store: new MemoryStore(), publisher: new RecordingPublisher() };
    expect(() => new Sampler(deps, { config: parseConfig({}), board: loadBoard("lin"), topics: TOPICS, sensors: {} }))
      .toThrow('no sensor instance for board sensor "env"');
  });
});

describe("start, stop, restart", () => {
  it("a second start() changes nothing: one schedule, no extra read", () => {
    const rig = makeRig({ sensors: { env: steadySensor() }, config: EVERY_SAMPLE });
    rig.sampler.start();
    rig.clock.advance(500);
    rig.sampler.start();
    rig.clock.advance(2000);
    expect(uptimes(rig)).toEqual([0, 1000, 2000]);
  });

  it("stop() ends the schedule; start() again reads at once and every interval from then, nothing left over from before", () => {
    const rig = makeRig({ sensors: { env: steadySensor() }, config: EVERY_SAMPLE });
    rig.sampler.start();
    rig.clock.advance(500);
    rig.sampler.stop();
    rig.clock.advance(200);
    expect(uptimes(rig)).toEqual([0]);
    rig.sampler.start();
    rig.clock.advance(1000);
    expect(uptimes(rig)).toEqual([0, 700, 1700]);
  });

  it("stop() leaves pending readings pending: the batch window no longer sends them, flush() does", () => {
    const rig = makeRig({ sensors: { env: steadySensor() }, config: { ...EVERY_SAMPLE, batch_max: 10, batch_window_ms: 5000 } });
    rig.sampler.start();
    rig.clock.advance(1000);
    rig.sampler.stop();
    rig.clock.advance(10_000);
    expect(rig.publisher.on(TOPICS.telemetry)).toHaveLength(0);
    expect(rig.sampler.stats().pending).toBe(2);
    rig.sampler.flush();
    expect(uptimes(rig)).toEqual([0, 1000]);
  });

  it("a read still running at stop() is abandoned: its late result is never kept, even after a restart", async () => {
    let finishFirst: (sample: unknown) => void = () => {};
    const sensor = new ScriptedSensor(() => Promise.resolve(envSample(20)));
    sensor.queue.push(() => new Promise((resolve) => { finishFirst = resolve; }));
    const rig = makeRig({ sensors: { env: sensor }, config: EVERY_SAMPLE });
    rig.sampler.start();
    rig.clock.advance(0);
    rig.sampler.stop();
    rig.sampler.start();
    rig.clock.advance(0);
    finishFirst(envSample(99));
    await settle();
    expect(readings(rig).map((r) => r.values.t)).toEqual([20]);
    expect(rig.sampler.stats().sensors.env.reads).toBe(1);
  });
});

describe("reads that are slow, fail or return nothing usable", () => {
  it("a read still running a whole interval later is abandoned, with when it started; its late result is ignored", async () => {
    const finish: Array<(sample: unknown) => void> = [];
    const sensor = new ScriptedSensor(() => new Promise((resolve) => { finish.push(resolve); }));
    const rig = makeRig({ sensors: { env: sensor }, config: EVERY_SAMPLE });
    rig.clock.advance(500);
    rig.sampler.start();
    rig.clock.advance(1000); // read A at 500, still running at 1500: abandoned, read B starts
    expect(finish).toHaveLength(2);
    finish[0](envSample(99)); // A ends while B still runs
    await settle();
    finish[1](envSample(21));
    await settle();
    expect(readings(rig).map((r) => [r.uptimeMs, r.values.t])).toEqual([[1500, 21]]);
    expect(rig.sampler.stats().sensors.env).toMatchObject({ overruns: 1, failures: 1, lastError: "read started at 500 ms still running after 1000 ms; abandoned" });
  });

  it("a rejected read is a failure with its reason; the rejection of an abandoned read is not counted", async () => {
    let failFirst: (error: Error) => void = () => {};
    const sensor = new ScriptedSensor(() => Promise.reject(new Error("bus timeout")));
    sensor.queue.push(() => new Promise((_resolve, reject) => { failFirst = reject; }));
    const rig = makeRig({ sensors: { env: sensor }, config: EVERY_SAMPLE });
    rig.sampler.start();
    rig.clock.advance(1000); // the first read abandoned (failure 1), the second rejects (failure 2)
    await settle();
    expect(rig.sampler.stats().sensors.env).toMatchObject({ failures: 2, lastError: "sample() rejected: bus timeout" });
    failFirst(new Error("late"));
    await settle();
    expect(rig.sampler.stats().sensors.env).toMatchObject({ failures: 2, lastError: "sample() rejected: bus timeout" });
    expect(readings(rig)).toEqual([]);
  });

  it.each([["null", null], ["a number", 42], ["a string", "20.5"]])("a sample that is %s is a failure (no data), and sampling goes on", (_what, value) => {
    const sensor = steadySensor();
    sensor.queue.push(() => value);
    const rig = makeRig({ sensors: { env: sensor }, config: EVERY_SAMPLE });
    rig.sampler.start();
    rig.clock.advance(1000);
    expect(rig.sampler.stats().sensors.env).toMatchObject({ reads: 2, failures: 1, lastError: "sample() returned no data" });
    expect(uptimes(rig)).toEqual([1000]);
  });

  it("a sample without a channel's field is a failure naming the field and the channel", () => {
    const sensor = steadySensor();
    sensor.queue.push(() => ({ thermometer: { temperature: 20 }, barometer: { pressure: 100_000 } }));
    const rig = makeRig({ sensors: { env: sensor }, config: EVERY_SAMPLE });
    rig.sampler.start();
    rig.clock.advance(0);
    expect(rig.sampler.stats().sensors.env.lastError).toBe('sample() has no number at "hygrometer.humidity" (channel h)');
    expect(readings(rig)).toEqual([]);
  });
});

describe("readNow, interval, setInterval", () => {
  it("readNow() reads the sensor named, or all; false (reading nothing) for an unknown id", () => {
    const sht = new ScriptedSensor(shtSample);
    const baro = new ScriptedSensor(baroSample);
    const rig = twoSensorRig({ sht, baro });
    expect(rig.sampler.readNow("nope")).toBe(false);
    expect([sht.calls, baro.calls]).toEqual([0, 0]);
    expect(rig.sampler.readNow("baro")).toBe(true);
    expect([sht.calls, baro.calls]).toEqual([0, 1]);
    expect(rig.sampler.readNow()).toBe(true);
    expect([sht.calls, baro.calls]).toEqual([1, 2]);
  });

  it("interval() answers for the sensor named, undefined for an unknown one", () => {
    const rig = twoSensorRig({});
    rig.sampler.setInterval(5000, "baro");
    expect([rig.sampler.interval("sht"), rig.sampler.interval("baro"), rig.sampler.interval("nope")]).toEqual([1000, 5000, undefined]);
  });

  it("setInterval() before start() reads nothing; while running, the next read is one new interval from the change", () => {
    const sensor = steadySensor();
    const rig = makeRig({ sensors: { env: sensor }, config: EVERY_SAMPLE });
    rig.sampler.setInterval(3000);
    rig.clock.advance(10_000);
    expect(sensor.calls).toBe(0);
    rig.sampler.start();
    rig.clock.advance(500);
    rig.sampler.setInterval(2000);
    rig.clock.advance(5000);
    expect(uptimes(rig)).toEqual([10_000, 12_500, 14_500]);
  });

  it("setInterval() just before start() leaves no timer of its own: one read per interval", () => {
    const rig = makeRig({ sensors: { env: steadySensor() }, config: EVERY_SAMPLE });
    rig.sampler.setInterval(3000);
    rig.sampler.start();
    rig.clock.advance(6000);
    expect(uptimes(rig)).toEqual([0, 3000, 6000]);
  });
});

describe("a tick held up by a slow synchronous read (the other sensor's)", () => {
  // sht's first read blocks the loop for `stall` ms; baro's tick, due at the same time, runs that late.
  it.each([
    [300, [300, 1000, 2000]], // late by less than an interval: the next read is still on time
    [1000, [1000, 2000]], // late by exactly one interval: the next is one interval later, no read twice at once
    [2500, [2500, 3500]], // late by more: no burst of catch-up reads
  ])("held up %i ms, baro reads at %j", (stall, expected) => {
    const rigRef: { rig?: Rig } = {};
    const sht = new ScriptedSensor(shtSample);
    sht.queue.push(() => {
      rigRef.rig?.clock.stall(stall);
      return shtSample();
    });
    const rig = twoSensorRig({ sht });
    rigRef.rig = rig;
    const baroAt: number[] = [];
    rig.sampler.setSampleListener((id, _values, uptimeMs) => {
      if (id === "baro") baroAt.push(uptimeMs);
    });
    rig.sampler.start();
    rig.clock.advance(expected[expected.length - 1] - rig.sampler.uptime());
    expect(baroAt).toEqual(expected);
  });
});

describe("heartbeat, listener, wall clock", () => {
  it("the heartbeat is due exactly heartbeat_s after the last report", () => {
    const rig = makeRig({ sensors: { env: steadySensor() }, config: { deadband: "5", heartbeat_s: 4, batch_max: 1, interval_ms: 1000 } });
    rig.sampler.start();
    rig.clock.advance(8000);
    expect(uptimes(rig)).toEqual([0, 4000, 8000]);
  });

  it("a listener that throws is logged and sampling goes on", () => {
    const rig = makeRig({ sensors: { env: steadySensor() }, config: EVERY_SAMPLE });
    rig.sampler.setSampleListener(() => {
      throw new Error("boom");
    });
    rig.sampler.start();
    rig.clock.advance(1000);
    expect(uptimes(rig)).toEqual([0, 1000]);
    expect(rig.warnings.filter((w) => w === "sample listener failed: boom")).toHaveLength(2);
  });

  it("online with no batch window, a reading is published before the listener hears of it", () => {
    const rig = makeRig({ sensors: { env: steadySensor() }, config: { ...EVERY_SAMPLE, batch_max: 10, batch_window_ms: 0 } });
    const publishedWhenHeard: number[] = [];
    rig.sampler.setSampleListener(() => publishedWhenHeard.push(rig.publisher.on(TOPICS.telemetry).length));
    rig.sampler.start();
    rig.clock.advance(1000);
    expect(publishedWhenHeard).toEqual([1, 2]);
  });

  it.each([NaN, Infinity])("a wall clock that reads %s counts as unset", (wall) => {
    const rig = makeRig({ sensors: { env: steadySensor() }, config: EVERY_SAMPLE, wall });
    rig.sampler.start();
    rig.clock.advance(0);
    expect(rig.sampler.stats().synced).toBe(false);
    expect(readings(rig).map((r) => r.wallMs)).toEqual([undefined]);
  });

  it("stats() says synced once the wall clock is set, and the log says when", () => {
    const rig = makeRig({ sensors: { env: steadySensor() }, config: EVERY_SAMPLE });
    expect(rig.sampler.stats().synced).toBe(false);
    rig.wall.value = 1_700_000_000_000;
    rig.sampler.start();
    rig.clock.advance(0);
    expect(rig.sampler.stats().synced).toBe(true);
    expect(rig.infos).toContain("wall clock set: stamping held readings");
  });
});
