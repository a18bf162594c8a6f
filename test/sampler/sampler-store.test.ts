// The sampler and its store at the edges: writes the store refuses, a publisher that refuses, what a reboot finds
// (records of other sensors, a seq counter ahead of or equal to the records), wall-clock offsets kept and pruned,
// QoS 1 telemetry from records (delivered, dropped inside and outside publish()), the pending limit over two sensors.
// Written for the mutants of sampler.ts that survived the first mutation run (docs/reliability.md).
import { describe, expect, it } from "vitest";
import { QueueFullError, StorageError, StoreFullError } from "../../src/errors";
import { OFFSETS_KEY, SEQ_KEY, encodeRecord, putCounter, readOffsets, recordKey } from "../../src/sampler/persist";
import { MemoryStore } from "../../src/store/memory-store";
import {
  envSample, EVERY_SAMPLE, makeRig, readings, ScriptedSensor, shtSample, steadySensor, TOPICS, twoSensorRig, type Rig, type RigOptions,
} from "./support/setup";

const WALL = 1_700_000_000_000;
const seqs = (rig: Rig) => readings(rig).map((r) => r.seq);
const offsetsIn = (flash: Map<string, Uint8Array>) => readOffsets(new MemoryStore(flash), () => {});
const recordsIn = (flash: Map<string, Uint8Array>) => [...flash.keys()].filter((k) => k.startsWith("smp.r"));

/** A MemoryStore that can refuse: a put (chosen by key and count), the next commit; and counts commits. */
class RefusingStore extends MemoryStore {
  refusePut: ((key: string) => boolean) | undefined;
  refuseDelete: ((key: string) => boolean) | undefined;
  refuseNextCommit = false;
  refuseRecover = false;
  commits = 0;
  /** Keys put, in order (refused ones too). */
  readonly puts: string[] = [];

  override put(key: string, value: Uint8Array): void {
    this.puts.push(key);
    if (this.refusePut?.(key)) throw new StorageError("put refused", key);
    super.put(key, value);
  }

  override delete(key: string): void {
    if (this.refuseDelete?.(key)) throw new StorageError("delete refused", key);
    super.delete(key);
  }

  override commit(): void {
    this.commits++;
    if (this.refuseNextCommit) {
      this.refuseNextCommit = false;
      throw new StoreFullError("store full");
    }
    super.commit();
  }

  override recover(): void {
    if (this.refuseRecover) throw new StorageError("medium gone");
    super.recover();
  }
}

function refusingRig(options: RigOptions = {}): Rig & { store: RefusingStore } {
  const rig = makeRig({ sensors: { env: steadySensor() }, config: EVERY_SAMPLE, ...options, store: (flash) => new RefusingStore(flash) });
  return rig as Rig & { store: RefusingStore };
}

describe("writes the store refuses", () => {
  it("a reading whose record put is refused is dropped, counted and warned; its seq stays unused", () => {
    const rig = refusingRig();
    let refusals = 1;
    rig.store.refusePut = (key) => key.startsWith("smp.r") && refusals-- > 0;
    rig.sampler.start();
    rig.clock.advance(1000);
    expect(seqs(rig)).toEqual([1]);
    expect(rig.sampler.stats()).toMatchObject({ dropped: 1, storeFailures: 1, pending: 0 });
    expect(rig.warnings).toContain('store write failed: put refused (key "smp.r0000000000")');
    expect(rig.warnings).toContain("reading seq 0 of env dropped: the store refused it");
  });

  it("a reading whose commit is refused is dropped too, and its record is not on flash", () => {
    const rig = refusingRig({ config: { ...EVERY_SAMPLE, batch_max: 10, batch_window_ms: 600_000 } });
    rig.sampler.start();
    rig.store.refuseNextCommit = true;
    rig.clock.advance(0);
    expect(rig.sampler.stats()).toMatchObject({ dropped: 1, storeFailures: 1, pending: 0 });
    expect(recordsIn(rig.flash)).toEqual([]);
  });

  it("a store without recover(): its error goes up instead of being swallowed", () => {
    const rig = refusingRig();
    Object.defineProperty(rig.store, "recover", { value: undefined });
    rig.store.refusePut = (key) => key.startsWith("smp.r");
    rig.sampler.start();
    expect(() => rig.clock.advance(0)).toThrow("put refused");
  });

  it("a store whose recover() fails: the original error goes up", () => {
    const rig = refusingRig();
    rig.store.refuseRecover = true;
    rig.store.refusePut = (key) => key.startsWith("smp.r");
    rig.sampler.start();
    expect(() => rig.clock.advance(0)).toThrow("put refused");
  });

  it("a setting whose write is refused is counted and warned, and stays in force until the reboot", () => {
    const rig = refusingRig();
    rig.store.refusePut = (key) => key === "smp.set";
    rig.sampler.setInterval(5000);
    expect(rig.sampler.interval("env")).toBe(5000);
    expect(rig.sampler.stats().storeFailures).toBe(1);
    expect(rig.warnings).toContain('store write failed: put refused (key "smp.set")');
  });

  it("the wall-clock offset's write refused: counted, and the readings still go out stamped", () => {
    const rig = refusingRig({ wall: WALL });
    rig.store.refusePut = (key) => key === OFFSETS_KEY;
    rig.sampler.start();
    rig.clock.advance(0);
    expect(rig.sampler.stats().storeFailures).toBe(1);
    expect(readings(rig).map((r) => r.wallMs)).toEqual([WALL]);
  });

  it("an earlier boot's offset whose delete is refused: counted, its readings still sent", () => {
    const first = refusingRig({ wall: WALL });
    first.publisher.refuseWith = new QueueFullError("queue full");
    first.sampler.start();
    first.clock.advance(0);
    const second = makeRig({ flash: first.flash, sensors: { env: steadySensor() }, config: EVERY_SAMPLE, online: false, store: (flash) => new RefusingStore(flash) });
    (second.store as RefusingStore).refuseDelete = (key) => key === OFFSETS_KEY;
    second.sampler.setOnline(true);
    expect(readings(second).map((r) => [r.seq, r.wallMs])).toEqual([[0, WALL]]);
    expect(second.sampler.stats().storeFailures).toBe(1);
  });
});

describe("a publisher that refuses", () => {
  it("a refused batch keeps its records on flash, so a reboot still sends it", () => {
    const rig = makeRig({ sensors: { env: steadySensor() }, config: EVERY_SAMPLE });
    rig.publisher.refuseWith = new QueueFullError("queue full");
    rig.sampler.start();
    rig.clock.advance(0);
    expect(recordsIn(rig.flash)).toEqual([recordKey(0)]);
    const after = makeRig({ flash: rig.flash, sensors: { env: steadySensor() }, config: EVERY_SAMPLE });
    expect(seqs(after)).toEqual([0]);
  });

  it("a refused batch whose records cannot be put back: counted, and the records' deletes never reach flash", () => {
    const rig = refusingRig();
    let puts = 0;
    rig.store.refusePut = (key) => key.startsWith("smp.r") && ++puts === 2; // the put-back, not the first write
    rig.publisher.refuseWith = new QueueFullError("queue full");
    rig.sampler.start();
    rig.clock.advance(0);
    expect(rig.sampler.stats()).toMatchObject({ storeFailures: 1, publishFailures: 1, pending: 1 });
    expect(recordsIn(rig.flash)).toEqual([recordKey(0)]);
  });

  it("counts the batches handed over", () => {
    const rig = makeRig({ sensors: { env: steadySensor() }, config: EVERY_SAMPLE });
    rig.sampler.start();
    rig.clock.advance(1000);
    expect(rig.sampler.stats().batches).toBe(2);
  });
});

describe("what a reboot finds", () => {
  const withRecords = (records: Array<{ seq: number; sensor: string; scaled: number[] }>, seqCounter?: number) => {
    const flash = new Map<string, Uint8Array>();
    const store = new MemoryStore(flash);
    for (const r of records) store.put(recordKey(r.seq), encodeRecord({ ...r, boot: 1, uptimeMs: 0 }));
    if (seqCounter !== undefined) putCounter(store, SEQ_KEY, seqCounter);
    store.commit();
    return flash;
  };

  it("a fresh store gets no seq counter until a record is deleted", () => {
    const rig = makeRig({ online: false });
    expect(rig.flash.has(SEQ_KEY)).toBe(false);
  });

  it("a record of a sensor this board lacks is dropped, and its seq is never given again", () => {
    const rig = makeRig({ flash: withRecords([{ seq: 10, sensor: "gone", scaled: [1] }]), online: false });
    expect(rig.sampler.stats()).toMatchObject({ nextSeq: 11, dropped: 1, pending: 0 });
    expect(rig.warnings.some((w) => w.includes('sensor "gone" with 1 channels'))).toBe(true);
    expect(recordsIn(rig.flash)).toEqual([]);
  });

  it("a dropped record never moves the seq counter back, and one at the counter moves it on", () => {
    const ahead = makeRig({ flash: withRecords([{ seq: 5, sensor: "gone", scaled: [1] }], 20), online: false });
    expect(ahead.sampler.stats().nextSeq).toBe(20);
    const level = makeRig({ flash: withRecords([{ seq: 5, sensor: "gone", scaled: [1] }], 5), online: false });
    expect(level.sampler.stats().nextSeq).toBe(6);
  });

  it("a record of this board's sensor with another number of channels is dropped too", () => {
    const rig = makeRig({ flash: withRecords([{ seq: 3, sensor: "env", scaled: [1] }]), online: false });
    expect(rig.sampler.stats()).toMatchObject({ nextSeq: 4, dropped: 1, pending: 0 });
  });

  it("a seq counter ahead of the records wins; a record at the counter moves it on", () => {
    const ahead = makeRig({ flash: withRecords([{ seq: 5, sensor: "env", scaled: [2000, 450, 101_325] }], 20) });
    expect(seqs(ahead)).toEqual([5]);
    expect(ahead.sampler.stats().nextSeq).toBe(20);
    const level = makeRig({ flash: withRecords([{ seq: 5, sensor: "env", scaled: [2000, 450, 101_325] }], 5), online: false });
    expect(level.sampler.stats().nextSeq).toBe(6);
  });

  it("readings restored while the clock is unset go out as soon as it is set, whatever the batch window", () => {
    const config = { ...EVERY_SAMPLE, presync_max: 50, batch_max: 10, batch_window_ms: 600_000 };
    const first = makeRig({ sensors: { env: steadySensor() }, config });
    first.sampler.start();
    first.clock.advance(1000);
    const second = makeRig({ flash: first.flash, sensors: { env: steadySensor() }, config });
    second.clock.advance(1000);
    expect(seqs(second)).toEqual([]);
    second.wall.value = WALL;
    second.sampler.timeSynced();
    second.clock.advance(0);
    expect(seqs(second)).toEqual([0, 1]);
  });

  it("stored wall-clock offsets that are cut short are warned about and not used", () => {
    const flash = new Map([[OFFSETS_KEY, Uint8Array.of(0x81)]]);
    const rig = makeRig({ flash, online: false });
    expect(rig.warnings.some((w) => w.includes(`offsets (${OFFSETS_KEY}) are truncated`))).toBe(true);
  });

  it("a stored interval of 100 ms, the least there is, survives a reboot", () => {
    const first = makeRig({ online: false });
    first.sampler.setInterval(100);
    expect(makeRig({ flash: first.flash, online: false }).sampler.interval("env")).toBe(100);
  });
});

describe("wall-clock offsets", () => {
  it("this boot's offset stays stored while it runs, batches sent or not", () => {
    const rig = makeRig({ sensors: { env: steadySensor() }, config: EVERY_SAMPLE, wall: WALL });
    rig.sampler.start();
    rig.clock.advance(1000);
    expect(seqs(rig)).toEqual([0, 1]);
    expect(offsetsIn(rig.flash)).toEqual(new Map([[1, WALL]]));
  });

  it("an offset of 0 is stored; a negative one (a clock set behind the uptime) is not", () => {
    const zero = makeRig({ sensors: { env: steadySensor() }, config: EVERY_SAMPLE, wall: 0 });
    zero.sampler.start();
    zero.clock.advance(0);
    expect(offsetsIn(zero.flash)).toEqual(new Map([[1, 0]]));
    const behind = makeRig({ sensors: { env: steadySensor() }, config: EVERY_SAMPLE });
    behind.sampler.start();
    behind.clock.advance(500);
    behind.wall.value = 100;
    behind.clock.advance(500);
    expect(behind.sampler.stats().synced).toBe(true);
    expect(behind.flash.has(OFFSETS_KEY)).toBe(false);
  });

  it("an earlier boot's offset goes once its last readings are sent: at the boot with none pending, at once after the send", () => {
    const first = makeRig({ sensors: { env: steadySensor() }, config: EVERY_SAMPLE, wall: WALL });
    first.sampler.start();
    first.clock.advance(0);
    expect(offsetsIn(first.flash)).toEqual(new Map([[1, WALL]]));
    // Nothing of boot 1 pending: the next boot forgets its offset.
    expect(makeRig({ flash: new Map(first.flash), online: false }).flash.has(OFFSETS_KEY)).toBe(false);
    // One reading of boot 1 pending: kept through the reboot, committed gone once that reading is sent.
    first.publisher.refuseWith = new QueueFullError("queue full");
    first.clock.advance(1000);
    const second = makeRig({ flash: first.flash, sensors: { env: steadySensor() }, config: EVERY_SAMPLE, online: false, store: (flash) => new RefusingStore(flash) });
    expect(offsetsIn(second.flash)).toEqual(new Map([[1, WALL]]));
    expect((second.store as RefusingStore).puts).not.toContain(OFFSETS_KEY); // unchanged: not written again
    second.sampler.setOnline(true);
    expect(readings(second).map((r) => [r.seq, r.wallMs])).toEqual([[1, WALL + 1000]]);
    expect(second.flash.has(OFFSETS_KEY)).toBe(false);
  });
});

describe("QoS 1 telemetry from records", () => {
  const fromRecords = (options: RigOptions = {}) =>
    makeRig({ sensors: { env: steadySensor() }, telemetryFromRecords: true, ...options, config: { ...EVERY_SAMPLE, mqtt_qos: "1", ...options.config } });

  it("records stay until delivered(), which deletes them in a commit of its own; the queued batch costs no commit", () => {
    const rig = fromRecords({ store: (flash) => new RefusingStore(flash) });
    const commitsBefore = (rig.store as RefusingStore).commits;
    rig.sampler.start();
    rig.clock.advance(0);
    expect((rig.store as RefusingStore).commits - commitsBefore).toBe(1); // the reading's record
    expect(rig.publisher.published[0]).toMatchObject({ topic: TOPICS.telemetry, qos: 1 });
    expect(recordsIn(rig.flash)).toEqual([recordKey(0)]);
    expect(rig.sampler.stats().batches).toBe(1);
    rig.sampler.delivered(1);
    expect(recordsIn(rig.flash)).toEqual([]);
    expect(new TextDecoder().decode(rig.flash.get(SEQ_KEY))).toBe("1");
    expect(rig.sampler.stats().dropped).toBe(0);
  });

  it("at QoS 2 the records go when the batch is queued (the mode is for QoS 1 only)", () => {
    const rig = fromRecords({ config: { mqtt_qos: "2" } });
    rig.sampler.start();
    rig.clock.advance(0);
    expect(rig.publisher.published).toHaveLength(1);
    expect(recordsIn(rig.flash)).toEqual([]);
  });

  it("droppedByQueue() outside publish(): the records go at once, the readings counted lost", () => {
    const rig = fromRecords();
    rig.sampler.start();
    rig.clock.advance(0);
    rig.sampler.droppedByQueue(1);
    expect(recordsIn(rig.flash)).toEqual([]);
    expect(rig.sampler.stats().dropped).toBe(1);
    expect(rig.warnings).toContain("telemetry batch seq 0-0 dropped by the full queue");
  });

  it("batches dropped from inside publish() are settled after it returns, in one commit", () => {
    const rig = fromRecords({ store: (flash) => new RefusingStore(flash) });
    const store = rig.store as RefusingStore;
    const publish = rig.publisher.publish.bind(rig.publisher);
    let seen: { records: string[]; commits: number } | undefined;
    rig.publisher.publish = (topic, payload, options) => {
      const id = publish(topic, payload, options);
      if (id === 3) {
        rig.sampler.droppedByQueue(1);
        rig.sampler.droppedByQueue(2);
        seen = { records: recordsIn(rig.flash), commits: store.commits };
      }
      return id;
    };
    rig.sampler.start();
    rig.clock.advance(2000);
    expect(seen?.records).toEqual([recordKey(0), recordKey(1), recordKey(2)]);
    expect(store.commits - (seen?.commits ?? 0)).toBe(1);
    expect(recordsIn(rig.flash)).toEqual([recordKey(2)]);
    expect(rig.sampler.stats().dropped).toBe(2);
  });

  it("a refused batch stays pending, counted and warned with its seqs, and goes with the next flush", () => {
    const rig = fromRecords({ config: { batch_max: 2, batch_window_ms: 600_000 } });
    rig.publisher.refuseWith = new QueueFullError("queue full");
    rig.sampler.start();
    rig.clock.advance(1000);
    expect(rig.sampler.stats()).toMatchObject({ pending: 2, publishFailures: 1, batches: 0 });
    expect(rig.warnings).toContain("telemetry batch seq 0-1 not queued, kept pending: queue full");
    rig.publisher.refuseWith = undefined;
    rig.sampler.flush();
    expect(seqs(rig)).toEqual([0, 1]);
  });

  it("an earlier boot's offset stays while a batch of it awaits delivery, and goes with its last one", () => {
    const first = fromRecords({ wall: WALL });
    first.sampler.start();
    first.clock.advance(1000); // two batches published, never acknowledged
    const second = fromRecords({ flash: first.flash });
    expect(readings(second).map((r) => [r.seq, r.wallMs])).toEqual([[0, WALL], [1, WALL + 1000]]);
    second.sampler.start();
    second.clock.advance(0); // a batch of boot 2 (no clock: no offset of its own) awaits too
    second.sampler.delivered(1);
    expect(offsetsIn(second.flash)).toEqual(new Map([[1, WALL]]));
    second.sampler.delivered(2);
    expect(second.flash.has(OFFSETS_KEY)).toBe(false);
  });
});

describe("batches and the pending limit", () => {
  it("readings released from the clock hold go out in whole batches; the rest waits for its window", () => {
    const rig = makeRig({ sensors: { env: steadySensor() }, online: false, config: { ...EVERY_SAMPLE, presync_max: 7, batch_max: 5, batch_window_ms: 600_000 } });
    rig.sampler.start();
    rig.clock.advance(6000);
    expect(rig.publisher.on(TOPICS.telemetry)).toHaveLength(1);
    expect(seqs(rig)).toEqual([0, 1, 2, 3, 4]);
    expect(rig.sampler.stats().pending).toBe(2);
  });

  it("while the clock is unset, coming online does not send held readings", () => {
    const rig = makeRig({ sensors: { env: steadySensor() }, online: false, config: { ...EVERY_SAMPLE, presync_max: 50, batch_window_ms: 0 } });
    rig.sampler.start();
    rig.clock.advance(2000);
    rig.sampler.setOnline(true);
    rig.clock.advance(0);
    expect(seqs(rig)).toEqual([]);
    rig.wall.value = WALL;
    rig.sampler.timeSynced();
    expect(seqs(rig)).toEqual([0, 1, 2]);
  });

  it("a batch sent whole stops its window: the next reading gets a window of its own", () => {
    const sensor = new ScriptedSensor(() => envSample(22));
    sensor.queue.push(() => envSample(20), () => envSample(21), () => envSample(21));
    const rig = makeRig({ sensors: { env: sensor }, config: { ...EVERY_SAMPLE, deadband: "0.5", batch_max: 2, batch_window_ms: 5000 } });
    rig.sampler.setDeadband("100%", "h");
    rig.sampler.setDeadband("100%", "p");
    rig.sampler.start();
    rig.clock.advance(1000); // 20 and 21: a whole batch, sent
    expect(rig.publisher.on(TOPICS.telemetry)).toHaveLength(1);
    rig.clock.advance(6999); // 22 read at 3000: its window ends at 8000
    expect(rig.publisher.on(TOPICS.telemetry)).toHaveLength(1);
    rig.clock.advance(1);
    expect(readings(rig).map((r) => [r.uptimeMs, r.values.t])).toEqual([[0, 20], [1000, 21], [3000, 22]]);
  });

  it("after a refused batch goes out whole, the reading left over still goes when its window ends", () => {
    const sensor = new ScriptedSensor(() => envSample(22));
    sensor.queue.push(() => envSample(20), () => envSample(21));
    const rig = makeRig({ sensors: { env: sensor }, config: { ...EVERY_SAMPLE, deadband: "0.5", batch_max: 2, batch_window_ms: 5000 } });
    rig.sampler.setDeadband("100%", "h");
    rig.sampler.setDeadband("100%", "p");
    rig.publisher.refuseWith = new QueueFullError("queue full");
    rig.sampler.start();
    rig.clock.advance(1000); // 20 at 0 opens the window (ends at 5000); 20 and 21 refused as a batch
    rig.publisher.refuseWith = undefined;
    rig.clock.advance(1000); // 22 at 2000: the batch of two goes, 22 is left with the window still running
    expect(readings(rig).map((r) => r.values.t)).toEqual([20, 21]);
    rig.clock.advance(3000);
    expect(readings(rig).map((r) => [r.uptimeMs, r.values.t])).toEqual([[0, 20], [1000, 21], [2000, 22]]);
  });

  it("past the limit the oldest reading of any sensor goes, named in the warning", () => {
    const rig = twoSensorRig({}, { pendingMax: 3 });
    rig.publisher.refuseWith = new QueueFullError("queue full");
    rig.sampler.start();
    rig.clock.advance(1000); // sht 0, baro 1, sht 2, baro 3: the fourth pushes out seq 0
    expect(rig.warnings).toContain("pending readings at their limit (3): dropped seq 0 of sht");
    rig.publisher.refuseWith = undefined;
    rig.sampler.flush();
    expect(seqs(rig).sort((a, b) => a - b)).toEqual([1, 2, 3]);
  });

  it("past the limit the oldest goes even when it is not the first sensor's", () => {
    const sht = new ScriptedSensor(shtSample);
    sht.queue.push(() => {
      throw new Error("I2C NACK");
    });
    const rig = twoSensorRig({ sht }, { pendingMax: 3 });
    rig.publisher.refuseWith = new QueueFullError("queue full");
    rig.sampler.start();
    rig.clock.advance(2000); // baro 0; sht 1, baro 2; sht 3 pushes out baro's 0
    expect(rig.warnings).toContain("pending readings at their limit (3): dropped seq 0 of baro");
  });

  it("past the limit with one sensor failing every read: the other's oldest goes", () => {
    const sht = new ScriptedSensor(() => {
      throw new Error("I2C NACK");
    });
    const rig = twoSensorRig({ sht }, { pendingMax: 2 });
    rig.publisher.refuseWith = new QueueFullError("queue full");
    rig.sampler.start();
    rig.clock.advance(2000);
    expect(rig.warnings).toContain("pending readings at their limit (2): dropped seq 0 of baro");
    expect(rig.sampler.stats()).toMatchObject({ pending: 2, dropped: 1 });
  });
});
