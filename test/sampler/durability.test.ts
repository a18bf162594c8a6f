// No reading that was taken is lost: power cuts at every store operation of a few sampling cycles, reboots, wall time across boots.
import { describe, expect, it } from "vitest";
import type { Board } from "../../src/boards/schema";
import { parseConfig } from "../../src/config/parse";
import { decodeTelemetry, type DecodedReading } from "../../src/sampler/payload";
import { OFFSETS_KEY, RECORD_PREFIX, decodeRecord, encodeRecord, recordKey, seqOfKey } from "../../src/sampler/persist";
import { Sampler } from "../../src/sampler/sampler";
import { createSimulatedSensor } from "../../src/sensors/simulated";
import { MemoryStore } from "../../src/store/memory-store";
import type { SessionStore } from "../../src/store/session-store";
import { FakeClock } from "../support/fake-clock";
import { QUEUED_PREFIX, RecordingPublisher } from "./support/recording-publisher";
import { loadBoard, makeRig, readings, TOPICS, withoutChannelDeadbands } from "./support/setup";

class PowerCut extends Error {}

/** Flash whose committed state survives; remembers every pending-reading record ever committed (what was "taken"). */
class WatchedFlash extends Map<string, Uint8Array> {
  readonly everCommitted = new Map<string, Uint8Array>();
  override set(key: string, value: Uint8Array): this {
    if (key.startsWith(RECORD_PREFIX)) this.everCommitted.set(key, value);
    return super.set(key, value);
  }
}

/** The power: the store operation numbered `at` (1-based, over every store sharing it) never happens, nor any after it. */
class Power {
  ops = 0;
  cut = false;
  constructor(private readonly at: number) {}
  step(): void {
    if (this.cut || ++this.ops === this.at) {
      this.cut = true;
      throw new PowerCut(`power cut at store operation ${this.ops}`);
    }
  }
}

/** A MemoryStore that dies with the power. */
function cuttable(flash: Map<string, Uint8Array>, power: Power): SessionStore {
  const store = new MemoryStore(flash);
  return {
    get: (key) => (power.step(), store.get(key)),
    list: (prefix) => (power.step(), store.list(prefix)),
    put: (key, value) => (power.step(), store.put(key, value)),
    delete: (key) => (power.step(), store.delete(key)),
    commit: () => (power.step(), store.commit()),
  };
}

/** The lin board with a second simulated sensor, so that seqs of the two interleave. */
function twoSensorBoard(): Board {
  const board = withoutChannelDeadbands(loadBoard("lin"));
  const env = board.sensors[0];
  return { ...board, sensors: [env, { ...env, id: "env2", channels: env.channels.map((c) => ({ ...c, id: `${c.id}2` })) }] };
}

const CONFIG = { interval_ms: 1000, deadband: "0", batch_max: 3, batch_window_ms: 2500, presync_max: 0, heartbeat_s: 0 };

interface Boot {
  clock: FakeClock;
  sampler: Sampler;
  publisher: RecordingPublisher;
}

/** Boots a sampler whose publisher queues durably (as the client) in `queueStore`, the sampler's own store by default. */
function bootDevice(store: SessionStore, tag: string, wall: () => number | undefined, queueStore: SessionStore = store): Boot {
  const clock = new FakeClock(0);
  const board = twoSensorBoard();
  const config = parseConfig(CONFIG);
  const publisher = new RecordingPublisher({ store: queueStore, tag });
  const sensors = Object.fromEntries(board.sensors.map((s) => [s.id, createSimulatedSensor(s.driver, 7, s.id)]));
  const sampler = new Sampler({ clock, store, publisher, wallClock: () => wall() }, { config, board, topics: TOPICS, sensors });
  return { clock, sampler, publisher };
}

/** Boot 1 samples (clock set at 3.5 s) until the power fails at store operation `cutAt`; boot 2 samples and flushes. */
function runWithCut(cutAt: number, separateQueue: boolean): { flash: WatchedFlash; queue: Map<string, Uint8Array>; cutHappened: boolean; lastBoot: number } {
  const flash = new WatchedFlash();
  const queue = separateQueue ? new Map<string, Uint8Array>() : flash;
  const power = new Power(cutAt);
  let wall: number | undefined;
  let boot1: Boot | undefined;
  try {
    const store = cuttable(flash, power);
    const clock = () => (wall === undefined ? undefined : wall + (boot1?.clock.now() ?? 0));
    boot1 = bootDevice(store, "b1", clock, separateQueue ? cuttable(queue, power) : store);
    boot1.sampler.setOnline(true);
    boot1.sampler.start();
    boot1.sampler.setInterval(1500, "env2");
    boot1.clock.advance(3500);
    wall = 1_700_000_000_000;
    boot1.clock.advance(6500);
  } catch (error) {
    if (!(error instanceof PowerCut)) throw error;
  }
  const store2 = new MemoryStore(flash);
  const boot2 = bootDevice(store2, "b2", () => 1_800_000_000_000, separateQueue ? new MemoryStore(queue) : store2);
  boot2.sampler.setOnline(true);
  boot2.sampler.start();
  boot2.clock.advance(3000);
  boot2.sampler.flush();
  return { flash, queue, cutHappened: power.cut, lastBoot: boot2.sampler.boot };
}

/** Every reading in a queued (committed) telemetry message, in seq order. */
function queuedReadings(queue: Map<string, Uint8Array>): DecodedReading[] {
  const out: DecodedReading[] = [];
  for (const [key, value] of queue) if (key.startsWith(QUEUED_PREFIX)) out.push(...decodeTelemetry(value).readings);
  return out.sort((a, b) => a.seq - b.seq);
}

describe("power cut at every store operation of a few sampling cycles", () => {
  for (const separateQueue of [false, true]) {
    const label = separateQueue ? "publisher with its own store: duplicates by seq allowed, identical" : "client and sampler share the store: exactly once";
    it(`loses no reading that was committed and leaves no seq gap (${label})`, () => {
      let cuts = 0;
      let duplicated = 0;
      for (let cutAt = 1; ; cutAt++) {
        const { flash, queue, cutHappened, lastBoot } = runWithCut(cutAt, separateQueue);
        const got = queuedReadings(queue);
        const context = `cut at store operation ${cutAt}`;
        // De-duplicate by seq as a subscriber would; copies must be the same reading.
        const bySeq = new Map<number, DecodedReading>();
        for (const r of got) {
          const seen = bySeq.get(r.seq);
          if (seen) expect(r, context).toEqual(seen);
          bySeq.set(r.seq, r);
        }
        if (!separateQueue) expect(got.length, `${context}: duplicates`).toBe(bySeq.size);
        if (got.length > bySeq.size) duplicated++;
        const seqs = [...bySeq.keys()];
        expect(seqs, `${context}: seq gap`).toEqual([...seqs.keys()]);
        // Every reading whose record was ever committed reached the queue, with its boot, time and values.
        for (const [key, bytes] of flash.everCommitted) {
          const record = decodeRecord(key, bytes);
          const out = bySeq.get(record.seq);
          expect(out, `${context}: seq ${record.seq} lost`).toBeDefined();
          expect([out?.boot, out?.uptimeMs], context).toEqual([record.boot, record.uptimeMs]);
        }
        // Nothing is left pending after boot 2's flush.
        expect([...flash.keys()].filter((k) => k.startsWith(RECORD_PREFIX)), context).toEqual([]);
        expect(got.some((r) => r.boot === lastBoot), context).toBe(true);
        if (!cutHappened) break;
        cuts++;
      }
      expect(cuts).toBeGreaterThan(80);
      // With its own store, the window between the publisher's commit and the sampler's is real: some cuts duplicate.
      if (separateQueue) expect(duplicated).toBeGreaterThan(0);
    });
  }
});

describe("restored readings", () => {
  it("readings of a boot whose clock was set keep their wall time after a reboot; a boot that never had it sends none", () => {
    const config = { interval_ms: 1000, deadband: "0", batch_max: 10, batch_window_ms: 600_000 };
    // Boot 1: 3 readings before the clock is set, 2 after, then the power fails (all 5 pending).
    const first = makeRig({ config, online: false });
    let base: number | undefined;
    Object.defineProperty(first.wall, "value", { get: () => (base === undefined ? undefined : base + first.clock.now()) });
    first.sampler.start();
    first.clock.advance(2000);
    base = 1_700_000_000_000;
    first.clock.advance(2000);
    expect(first.sampler.stats().pending).toBe(5);
    expect(first.flash.has(OFFSETS_KEY)).toBe(true);
    // Boot 2 never gets the clock: 1 reading, then the power fails again.
    const second = makeRig({ flash: first.flash, config, online: false });
    second.sampler.start();
    second.clock.advance(0);
    // Boot 3 has the clock: boot 1's readings are stamped from boot 1's offset, boot 2's carry no wall time.
    const third = makeRig({ flash: first.flash, config, wall: 1_900_000_000_000 });
    const got = readings(third);
    const offset1 = 1_700_000_000_000 + 1000; // the rig's clock starts at 1000 ms
    expect(got.map((r) => [r.seq, r.boot, r.uptimeMs, r.wallMs])).toEqual([
      [0, 1, 0, offset1 + 0],
      [1, 1, 1000, offset1 + 1000],
      [2, 1, 2000, offset1 + 2000],
      [3, 1, 3000, offset1 + 3000],
      [4, 1, 4000, offset1 + 4000],
      [5, 2, 0, undefined],
    ]);
    // Both earlier boots are done: their offsets are forgotten.
    expect(third.flash.has(OFFSETS_KEY)).toBe(false);
  });

  it("a record for a sensor the board no longer has is dropped with a warning, its seq never reused", () => {
    const flash = new Map<string, Uint8Array>();
    flash.set(recordKey(4), encodeRecord({ seq: 4, sensor: "gone", boot: 1, uptimeMs: 10, scaled: [1] }));
    flash.set(recordKey(5), new Uint8Array([9, 9]));
    const rig = makeRig({ flash, config: { deadband: "0", batch_max: 1 } });
    expect(rig.warnings.join("\n")).toMatch(/sensor "gone".*dropped/);
    expect(rig.warnings.join("\n")).toMatch(/not a pending-reading record.*smp\.r0000000005/);
    expect(rig.sampler.stats()).toMatchObject({ nextSeq: 5, dropped: 1 });
    rig.sampler.start();
    rig.clock.advance(0);
    expect(readings(rig).map((r) => r.seq)).toEqual([5]);
  });

  it("records are compact: a 3-channel reading is at most 20 bytes, keys 15 characters in seq order", () => {
    const bytes = encodeRecord({ seq: 0, sensor: "env", boot: 12, uptimeMs: 86_400_000 * 30, scaled: [2153, 451, 101_325] });
    expect(bytes.length).toBeLessThanOrEqual(20);
    expect(decodeRecord(recordKey(123_456), bytes)).toEqual({ seq: 123_456, sensor: "env", boot: 12, uptimeMs: 86_400_000 * 30, scaled: [2153, 451, 101_325] });
    expect(recordKey(35).length).toBe(15);
    expect(recordKey(35) < recordKey(36)).toBe(true);
    expect(seqOfKey(recordKey(2 ** 40))).toBe(2 ** 40);
    expect(decodeRecord(recordKey(1), encodeRecord({ seq: 1, sensor: "e", boot: 1, uptimeMs: 0, scaled: [-1, -64, 2 ** 40] })).scaled).toEqual([-1, -64, 2 ** 40]);
  });

  it("two sensors: each reading has its own seq at once, batches carry the steps (version 2)", () => {
    const rig = makeRig({ board: twoSensorBoard(), config: { interval_ms: 1000, deadband: "0", batch_max: 3, batch_window_ms: 600_000 } });
    rig.sampler.start();
    rig.clock.advance(2000);
    const batches = rig.publisher.on(TOPICS.telemetry);
    expect(batches.map((b) => b.text.slice(0, 6))).toEqual(['{"v":2', '{"v":2']);
    expect(batches.map((b) => decodeTelemetry(b.payload).readings.map((r) => r.seq))).toEqual([
      [0, 2, 4],
      [1, 3, 5],
    ]);
  });
});
