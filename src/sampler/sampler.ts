// The sampling loop: per-sensor schedules on the injected clock, deadband + heartbeat, seq and time stamps, batching into telemetry PUBLISHes.
//
// Durability: no reading that was taken is lost to a power cut.
//  - A reading that passes the deadband gets its seq at once and is committed to the SessionStore as one
//    binary record (persist.ts) before the sampler goes on. The record carries its seq, so that one commit
//    also advances the durable seq counter: after a reboot the next seq is max(smp.seq, last record + 1).
//  - Batches are built from these pending readings (per sensor, per boot, in seq order). Handing a batch to
//    the client: the sampler stages the deletes of the batch's records (and smp.seq = next seq), calls
//    publish(), then commits. The firmware gives the client and the sampler the SAME store, and publish()
//    commits the store before it returns (client rule: stage, commit, then write), so the queued message and
//    the deletes are one atomic commit: a cut leaves either the records (the batch is rebuilt after the
//    reboot; nothing was queued) or the queued message (the client resends it), never both, never neither.
//    No duplicates and no loss, at no extra flash write. The commit after publish() only matters for a
//    publisher with its own store: a cut between its commit and ours re-sends those readings after the
//    reboot with the same seqs (duplicates a subscriber drops by device + seq; never a loss, never a gap).
//  - With telemetryFromRecords (the firmware sets it; QoS 1 only) the batch is published with stored: false and
//    its records are NOT deleted then: they are deleted (with smp.seq) when the client reports the message
//    delivered or dropped. The message itself is never written to the store, so each reading is stored once (on
//    the flash log, 32 B per reading instead of 76: docs/flash-log.md). A reboot before the acknowledgement
//    rebuilds the batch from the records; a cut between PUBACK and the deletes' commit sends that batch again,
//    with the same seqs (at least once, as QoS 1 promises; subscribers drop by device + seq). Never a loss.
//  - publish() throwing (queue full with "reject-new", bad topic) puts the records back: the readings stay
//    pending and go with the next batch. Pending readings are bounded (pendingMax); past it the oldest is
//    dropped, counted and warned: a seq gap then marks a real loss.
//  - A reboot restores pending readings with their boot counter and ms since boot. Wall time: the offset
//    (wall - ms since boot) of each boot is committed once, when that boot first sees the clock set, so a
//    reading of an earlier boot is stamped from its own boot's offset; a boot that never had the clock set
//    gives readings without "w" (unknown, not invented).
// Flash cost: one commit of one ~20 B record per accepted reading (on ESP32 NVS through the journaled
// preference store: a 61 B journal blob + a 25 B item blob + one journal erase, about 7 NVS entries = 224 B),
// plus per batch ~17 B of journal per deleted record riding on the client's own commit. At a 10 s interval
// with every reading passing the deadband: 8,640 commits = ~1.9 MB a day per sensor. On the default 24 KB
// NVS (6 pages, ~100k erase cycles each) that is ~80 page erases a day: years, not decades; the deadband
// (most samples dropped) and a bigger NVS partition stretch it.
import type { Board, BoardSensor } from "../boards/schema";
import type { FirmwareConfig } from "../config/defaults";
import type { QoS } from "../mqtt/constants";
import type { Publisher } from "../mqtt/client-api";
import type { Clock, Logger, TimerHandle } from "../ports";
import type { Sensor, SensorSample } from "../sensors/sensor";
import { readField } from "../sensors/sensor";
import type { SessionStore } from "../store/session-store";
import { type Deadband, NO_DEADBAND, parseDeadband, passesDeadband } from "../config/deadband";
import type { DeviceTopics } from "../config/device-topics";
import { type BatchReading, encodeTelemetry } from "./payload";
import {
  BOOT_KEY,
  OFFSETS_KEY,
  RECORD_PREFIX,
  SEQ_KEY,
  type StoredSettings,
  decodeRecord,
  encodeOffsets,
  encodeRecord,
  putCounter,
  putSettings,
  readCounter,
  readOffsets,
  readSettings,
  recordKey,
  scaleValue,
  unscaleValue,
} from "./persist";

/** Wall-clock ms since the Unix epoch, or undefined until SNTP (or the desktop) has set the clock. */
export type WallClock = () => number | undefined;

export interface SamplerDeps {
  clock: Clock;
  store: SessionStore;
  publisher: Publisher;
  /** Absent: the wall clock is never set (readings carry boot-relative time only). */
  wallClock?: WallClock;
  logger?: Logger;
}

/** Told of every good sample, whether or not it passes the deadband (the status page's recent-readings ring). */
export type SampleListener = (sensorId: string, values: readonly number[], uptimeMs: number) => void;

export interface SamplerOptions {
  config: FirmwareConfig;
  board: Board;
  topics: DeviceTopics;
  /** One sensor instance per board sensor id. */
  sensors: { readonly [sensorId: string]: Sensor };
  /**
   * Readings kept pending (in flash) at most; past it the oldest is dropped and counted. Default: presync_max
   * plus two full batches per sensor, which normal operation never reaches (offline, full batches go to the
   * client's queue); only a publisher that keeps refusing fills it.
   */
  pendingMax?: number;
  /**
   * QoS 1 telemetry is published with `stored: false` and its reading records are deleted when the publisher reports
   * it delivered (delivered()) or dropped (droppedByQueue()), not when it is queued: the readings are stored once, not a second
   * time inside the message, and a reboot rebuilds the batch from the records (a batch acknowledged just before a cut
   * may go out again: at least once, as QoS 1 promises). Needs a publisher whose outcomes reach delivered()/droppedByQueue()
   * (the firmware wires the client's). Default false: the records are deleted in the commit that queues the message.
   */
  telemetryFromRecords?: boolean;
}

/** A reading with its seq, waiting (committed) for its batch. */
interface PendingReading extends BatchReading {
  readonly seq: number;
  readonly boot: number;
  /** This boot's uptime when it joined the pending list (-Infinity for readings restored from flash): the batch window starts here. */
  readonly queuedAt: number;
  /** The committed record bytes (put back if publish() refuses the batch). */
  readonly record: Uint8Array;
}

export interface SensorStats {
  readonly reads: number;
  readonly failures: number;
  /** Ticks skipped because the previous read was still running. */
  readonly overruns: number;
  readonly lastError?: string;
}

interface SensorState {
  readonly spec: BoardSensor;
  readonly sensor: Sensor;
  intervalMs: number;
  timer: TimerHandle | undefined;
  nextDue: number;
  /** Set while an asynchronous read runs; bumped to abandon one. */
  readGeneration: number;
  busySince: number | undefined;
  lastReported: (number | undefined)[];
  lastReportedAt: number | undefined;
  pending: PendingReading[];
  windowTimer: TimerHandle | undefined;
  forceNext: boolean;
  reads: number;
  failures: number;
  overruns: number;
  lastError?: string;
}

export class Sampler {
  readonly boot: number;
  private readonly deps: SamplerDeps;
  private readonly options: SamplerOptions;
  private readonly qos: QoS;
  private readonly startedAt: number;
  private readonly states: SensorState[] = [];
  private readonly settings: StoredSettings;
  private nextSeq: number;
  /** The value of smp.seq in the store. */
  private storedSeq: number;
  /** Wall-clock offsets of earlier boots that may still have pending readings, and of this one once set. */
  private readonly offsets: Map<number, number>;
  private readonly pendingMax: number;
  private dropped = 0;
  private online = false;
  private running = false;
  private wasSynced = false;
  private publishFailures = 0;
  /** Commits the store refused; each cost the change it carried (a reading counted in `dropped`). */
  private storeFailures = 0;
  private batchesSent = 0;
  /** Telemetry published with stored: false, by message id: its readings' records stay until delivered or dropped. */
  private readonly awaiting = new Map<number, { boot: number; readings: PendingReading[] }>();
  /**
   * True while sendPending() is inside publish(). A full queue reports the batches it drops (droppedByQueue) from
   * inside that call, below the client's event drain, the firmware and the device; settling them there (deletes and a
   * commit through store, journal and backend) made that the deepest chain of a boot with a full queue, 368 XS slots
   * against the stack guard's 344 (test/xs/stack.xs.test.ts). So their ids are only noted there, in `droppedInPublish`,
   * and sendPending() settles them after publish() returns, in one commit.
   */
  private publishing = false;
  private readonly droppedInPublish: number[] = [];
  private sampleListener: SampleListener | undefined;

  /** Reads boot counter, seq and stored settings, and commits the incremented boot counter. */
  constructor(deps: SamplerDeps, options: SamplerOptions) {
    this.deps = deps;
    this.options = options;
    this.qos = options.config.mqtt_qos;
    this.startedAt = deps.clock.now();
    this.boot = readCounter(deps.store, BOOT_KEY) + 1;
    this.nextSeq = readCounter(deps.store, SEQ_KEY);
    this.storedSeq = this.nextSeq;
    putCounter(deps.store, BOOT_KEY, this.boot);
    this.settings = readSettings(deps.store, (m) => this.warn(m));
    this.offsets = readOffsets(deps.store, (m) => this.warn(m));
    for (const spec of options.board.sensors) {
      const sensor = options.sensors[spec.id];
      if (!sensor) throw new Error(`no sensor instance for board sensor "${spec.id}"`);
      this.states.push({
        spec,
        sensor,
        // readSettings() keeps only whole intervals of 100 ms to a day: a stored one is good to use.
        intervalMs: this.settings.interval?.[spec.id] ?? options.config.interval_ms,
        timer: undefined,
        nextDue: 0,
        readGeneration: 0,
        busySince: undefined,
        lastReported: spec.channels.map(() => undefined),
        lastReportedAt: undefined,
        pending: [],
        windowTimer: undefined,
        forceNext: false,
        reads: 0,
        failures: 0,
        overruns: 0,
      });
    }
    const { presync_max, batch_max } = options.config;
    this.pendingMax = options.pendingMax ?? presync_max + 2 * batch_max * this.states.length;
    this.restorePending();
    this.commit();
  }

  /** Starts every sensor's schedule; the first read of each happens at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const now = this.deps.clock.now();
    for (const state of this.states) {
      state.nextDue = now;
      this.schedule(state);
    }
  }

  /** Stops the schedules; pending readings stay pending (committed; flush() sends them). */
  stop(): void {
    this.running = false;
    for (const state of this.states) {
      if (state.timer !== undefined) this.deps.clock.clearTimeout(state.timer);
      if (state.windowTimer !== undefined) this.deps.clock.clearTimeout(state.windowTimer);
      state.timer = undefined;
      state.windowTimer = undefined;
      state.readGeneration++;
      state.busySince = undefined;
    }
  }

  /** The link state: while offline, readings are packed into full batches instead of waiting for the window. */
  setOnline(online: boolean): void {
    this.online = online;
    if (!online) return;
    // Back online: what piled up goes out now (in batch_max batches), unless it waits for the wall clock.
    for (const state of this.states) {
      if (this.holdForSync()) this.evaluate(state, false);
      else this.sendPending(state, state.pending.length);
    }
  }

  /** Tells the sampler the wall clock was just set (SNTP); held readings are stamped and sent. It also notices by itself at each tick. */
  timeSynced(): void {
    this.checkSync();
  }

  /** Reads `sensorId` (all sensors when absent) now; the reading bypasses the deadband and is published at once. Returns false for an unknown id. */
  readNow(sensorId?: string): boolean {
    const targets = sensorId === undefined ? this.states : this.states.filter((s) => s.spec.id === sensorId);
    if (targets.length === 0) return false;
    for (const state of targets) {
      state.forceNext = true;
      this.read(state);
    }
    return true;
  }

  /** Sends every pending reading now, whatever the window, sync or link state. */
  flush(): void {
    for (const state of this.states) this.sendPending(state, state.pending.length);
  }

  /** One listener (or none): it is told after the sampler has dealt with each good sample; what it throws is logged, never stops sampling. */
  setSampleListener(listener: SampleListener | undefined): void {
    this.sampleListener = listener;
  }

  sensorIds(): string[] {
    return this.states.map((s) => s.spec.id);
  }

  channelIds(): string[] {
    const out: string[] = [];
    for (const s of this.states) for (const c of s.spec.channels) out.push(c.id);
    return out;
  }

  interval(sensorId: string): number | undefined {
    return this.states.find((s) => s.spec.id === sensorId)?.intervalMs;
  }

  /** Sets and persists the interval of one sensor (all when absent); the next read is one interval from now. */
  setInterval(ms: number, sensorId?: string): void {
    const targets = sensorId === undefined ? this.states : this.states.filter((s) => s.spec.id === sensorId);
    const stored = (this.settings.interval ??= {});
    const now = this.deps.clock.now();
    for (const state of targets) {
      state.intervalMs = ms;
      stored[state.spec.id] = ms;
      if (this.running) {
        if (state.timer !== undefined) this.deps.clock.clearTimeout(state.timer);
        state.nextDue = now + ms;
        this.schedule(state);
      }
    }
    this.persistSettings();
  }

  /** The deadband in force for a channel: set by command, else the board's, else config `deadband`. */
  deadband(channelId: string): Deadband {
    for (const text of [this.settings.deadband?.[channelId], this.findChannel(channelId)?.deadband, this.options.config.deadband]) {
      if (text === undefined) continue;
      const parsed = parseDeadband(text);
      if (typeof parsed !== "string") return parsed;
    }
    return NO_DEADBAND;
  }

  /** Sets and persists the deadband text ("0.2" / "1%", already validated) of one channel, or of all when absent. */
  setDeadband(text: string, channelId?: string): void {
    const stored = (this.settings.deadband ??= {});
    for (const id of channelId === undefined ? this.channelIds() : [channelId]) stored[id] = text;
    this.persistSettings();
  }

  heartbeatS(): number {
    return this.settings.heartbeatS ?? this.options.config.heartbeat_s;
  }

  setHeartbeat(seconds: number): void {
    this.settings.heartbeatS = seconds;
    this.persistSettings();
  }

  /** Counters for health telemetry. */
  stats(): {
    uptimeMs: number;
    boot: number;
    nextSeq: number;
    pending: number;
    batches: number;
    publishFailures: number;
    /** Pending readings dropped because pendingMax was reached or the store refused them (each a seq gap). */
    dropped: number;
    storeFailures: number;
    synced: boolean;
    sensors: { [id: string]: SensorStats };
  } {
    const sensors: { [id: string]: SensorStats } = {};
    let pending = 0;
    for (const s of this.states) {
      pending += s.pending.length;
      sensors[s.spec.id] = { reads: s.reads, failures: s.failures, overruns: s.overruns, ...(s.lastError ? { lastError: s.lastError } : {}) };
    }
    return {
      uptimeMs: this.uptime(),
      boot: this.boot,
      nextSeq: this.nextSeq,
      pending,
      batches: this.batchesSent,
      publishFailures: this.publishFailures,
      dropped: this.dropped,
      storeFailures: this.storeFailures,
      synced: this.wall() !== undefined,
      sensors,
    };
  }

  uptime(): number {
    return this.deps.clock.now() - this.startedAt;
  }

  private schedule(state: SensorState): void {
    const delay = Math.max(0, state.nextDue - this.deps.clock.now());
    state.timer = this.deps.clock.setTimeout(() => this.tick(state), delay);
  }

  private tick(state: SensorState): void {
    state.timer = undefined;
    if (!this.running) return;
    // Next due time is fixed by the schedule, not by when this read ends: no drift, and a slow read skips ticks instead of piling up.
    const now = this.deps.clock.now();
    state.nextDue += state.intervalMs;
    if (state.nextDue <= now) state.nextDue = now + state.intervalMs;
    this.schedule(state);
    this.checkSync();
    this.read(state);
  }

  private read(state: SensorState): void {
    const startedAt = this.uptime();
    if (state.busySince !== undefined) {
      // The previous read has taken a whole interval: give up on it (its late result is ignored) and count it.
      state.overruns++;
      this.fail(state, `read started at ${state.busySince} ms still running after ${startedAt - state.busySince} ms; abandoned`);
      state.readGeneration++;
      state.busySince = undefined;
    }
    let result: SensorSample | undefined | Promise<SensorSample | undefined>;
    try {
      result = state.sensor.sample();
    } catch (error) {
      this.fail(state, `sample() threw: ${describeError(error)}`);
      return;
    }
    if (isPromise(result)) {
      const generation = ++state.readGeneration;
      state.busySince = startedAt;
      result.then(
        (sample) => {
          if (generation !== state.readGeneration) return;
          state.busySince = undefined;
          this.accept(state, sample, startedAt);
        },
        (error: unknown) => {
          if (generation !== state.readGeneration) return;
          state.busySince = undefined;
          this.fail(state, `sample() rejected: ${describeError(error)}`);
        },
      );
      return;
    }
    this.accept(state, result, startedAt);
  }

  private accept(state: SensorState, sample: SensorSample | undefined, uptimeMs: number): void {
    state.reads++;
    if (sample === undefined || sample === null || typeof sample !== "object") {
      this.fail(state, "sample() returned no data");
      return;
    }
    const channels = state.spec.channels;
    const values: number[] = [];
    for (const channel of channels) {
      const value = readField(sample, channel.field);
      if (value === undefined) {
        this.fail(state, `sample() has no number at "${channel.field}" (channel ${channel.id})`);
        return;
      }
      values.push(value);
    }
    const forced = state.forceNext;
    state.forceNext = false;
    const heartbeatMs = this.heartbeatS() * 1000;
    const heartbeatDue = heartbeatMs > 0 && state.lastReportedAt !== undefined && uptimeMs - state.lastReportedAt >= heartbeatMs;
    let changed = false;
    for (let c = 0; c < channels.length && !changed; c++) {
      changed = passesDeadband(this.deadband(channels[c].id), state.lastReported[c], values[c]);
    }
    if (forced || heartbeatDue || changed) {
      state.lastReported = values;
      state.lastReportedAt = uptimeMs;
      this.checkSync();
      this.keep(state, uptimeMs, values);
      this.evaluate(state, forced);
    }
    this.tellListener(state.spec.id, values, uptimeMs);
  }

  private tellListener(sensorId: string, values: readonly number[], uptimeMs: number): void {
    if (this.sampleListener === undefined) return;
    try {
      this.sampleListener(sensorId, values, uptimeMs);
    } catch (error) {
      this.warn(`sample listener failed: ${describeError(error)}`);
    }
  }

  /** Gives the reading its seq and commits its record (one commit) before anything else happens. */
  private keep(state: SensorState, uptimeMs: number, values: readonly number[]): void {
    const channels = state.spec.channels;
    const scaled = values.map((v, c) => scaleValue(v, channels[c].decimals));
    const seq = this.nextSeq;
    const record = encodeRecord({ seq, sensor: state.spec.id, boot: this.boot, uptimeMs, scaled });
    const store = this.deps.store;
    this.nextSeq = seq + 1;
    let kept = false;
    try {
      store.put(recordKey(seq), record);
      this.dropOverflow();
      kept = this.commit();
    } catch (error) {
      this.storeFailed(error);
    }
    if (!kept) {
      // Not durable: the reading is lost, counted, and its seq left unused so the gap shows it.
      this.dropped++;
      this.warn(`reading seq ${seq} of ${state.spec.id} dropped: the store refused it`);
      return;
    }
    state.pending.push({ seq, boot: this.boot, uptimeMs, values: scaled.map((v, c) => unscaleValue(v, channels[c].decimals)), queuedAt: this.uptime(), record });
  }

  /** Past pendingMax, stages the delete of the oldest pending reading (the caller commits): a counted, visible loss. */
  private dropOverflow(): void {
    let total = 0;
    for (const s of this.states) total += s.pending.length;
    if (total < this.pendingMax) return;
    let oldest: SensorState | undefined;
    for (const s of this.states) if (s.pending.length > 0 && (oldest === undefined || s.pending[0].seq < oldest.pending[0].seq)) oldest = s;
    if (oldest === undefined) return;
    const victim = oldest.pending.shift() as PendingReading;
    this.deps.store.delete(recordKey(victim.seq));
    this.stageSeqCounter();
    this.dropped++;
    this.warn(`pending readings at their limit (${this.pendingMax}): dropped seq ${victim.seq} of ${oldest.spec.id}`);
  }

  /** Stages smp.seq = next seq when records are deleted, so their numbers are never given again. */
  private stageSeqCounter(): void {
    if (this.storedSeq === this.nextSeq) return;
    putCounter(this.deps.store, SEQ_KEY, this.nextSeq);
    // Committed by the caller in this turn (a failed commit leaves the store unusable until reopened anyway).
    this.storedSeq = this.nextSeq;
  }

  /** Reads every pending record (the caller commits): readings of an earlier boot join their sensor's pending list, due at once. */
  private restorePending(): void {
    const store = this.deps.store;
    const byId = new Map<string, SensorState>();
    for (const state of this.states) byId.set(state.spec.id, state);
    const boots = new Set<number>();
    for (const key of store.list(RECORD_PREFIX)) {
      let record;
      try {
        record = decodeRecord(key, store.get(key) as Uint8Array);
      } catch (error) {
        this.warn(`${describeError(error)}; deleted`);
        store.delete(key);
        continue;
      }
      const state = byId.get(record.sensor);
      const channels = state?.spec.channels;
      if (state === undefined || channels === undefined || channels.length !== record.scaled.length) {
        this.dropped++;
        this.warn(`pending reading seq ${record.seq} is for sensor "${record.sensor}" with ${record.scaled.length} channels, which this board does not have; dropped`);
        store.delete(key);
        if (record.seq >= this.nextSeq) this.nextSeq = record.seq + 1;
        continue;
      }
      if (record.seq >= this.nextSeq) this.nextSeq = record.seq + 1;
      boots.add(record.boot);
      state.pending.push({
        seq: record.seq,
        boot: record.boot,
        uptimeMs: record.uptimeMs,
        values: record.scaled.map((v, c) => unscaleValue(v, channels[c].decimals)),
        queuedAt: -Infinity,
        record: encodeRecord(record),
      });
    }
    this.stageSeqCounter();
    // Offsets of boots with no pending reading left are no use any more.
    let pruned = false;
    for (const boot of [...this.offsets.keys()]) {
      if (!boots.has(boot)) {
        this.offsets.delete(boot);
        pruned = true;
      }
    }
    if (pruned) this.putOffsets();
  }

  private putOffsets(): void {
    if (this.offsets.size === 0) this.deps.store.delete(OFFSETS_KEY);
    else this.deps.store.put(OFFSETS_KEY, encodeOffsets(this.offsets));
  }

  /** Decides whether the sensor's pending readings go out now, wait for the window, or wait for the wall clock. */
  private evaluate(state: SensorState, force: boolean): void {
    if (state.pending.length === 0) return;
    if (force) {
      this.sendPending(state, state.pending.length);
      return;
    }
    const batch_max = this.options.config.batch_max;
    const batch_window_ms = this.batchWindowMs();
    if (this.holdForSync()) return;
    if (state.pending.length >= batch_max) this.sendPending(state, state.pending.length - (state.pending.length % batch_max));
    if (state.pending.length === 0) return;
    if (this.online && batch_window_ms === 0) {
      this.sendPending(state, state.pending.length);
      return;
    }
    if (state.windowTimer === undefined) {
      // Due one window after the batch's first reading joined; when that is already past (back online, clock just set,
      // readings restored after a reboot) it fires at once.
      const due = state.pending[0].queuedAt + batch_window_ms;
      state.windowTimer = this.deps.clock.setTimeout(() => {
        state.windowTimer = undefined;
        this.checkSync();
        // Offline or still waiting for the clock: setOnline(true) or the clock being set evaluates again.
        if (this.online && !this.holdForSync()) this.sendPending(state, state.pending.length);
      }, Math.max(0, due - this.uptime()));
    }
  }

  /**
   * How long a batch may wait while online. With Home Assistant discovery on, 0: its value_template reads only
   * the last reading of a message, so each reading goes out as it is taken; readings queued offline still go
   * out as full batches (Home Assistant then sees the last of each).
   */
  private batchWindowMs(): number {
    return this.options.config.ha_discovery ? 0 : this.options.config.batch_window_ms;
  }

  /** True while the wall clock is unset and fewer than presync_max readings are held for stamping. */
  private holdForSync(): boolean {
    const limit = this.options.config.presync_max;
    if (limit === 0 || this.wall() !== undefined) return false;
    let held = 0;
    for (const s of this.states) held += s.pending.length;
    return held < limit;
  }

  private checkSync(): void {
    const wall = this.wall();
    if (this.wasSynced || wall === undefined) return;
    this.wasSynced = true;
    this.info("wall clock set: stamping held readings");
    // This boot's offset, committed once: its readings still pending after a reboot are stamped from it.
    const offset = wall - this.uptime();
    if (offset >= 0) {
      this.offsets.set(this.boot, offset);
      try {
        this.putOffsets();
        this.commit();
      } catch (error) {
        this.storeFailed(error);
      }
    }
    for (const state of this.states) this.evaluate(state, false);
  }

  /**
   * Publishes the first `count` pending readings in batches of at most batch_max readings of one boot. The records'
   * deletes are staged before publish(), which commits them with the queued message (same store); see the top comment.
   */
  private sendPending(state: SensorState, count: number): void {
    const batchMax = this.options.config.batch_max;
    const store = this.deps.store;
    let left = Math.min(count, state.pending.length);
    while (left > 0) {
      const boot = state.pending[0].boot;
      let n = 1;
      while (n < Math.min(batchMax, left) && state.pending[n].boot === boot) n++;
      const readings = state.pending.splice(0, n);
      left -= n;
      const wallMs = this.wallOf(boot, readings[0].uptimeMs);
      const payload = encodeTelemetry({
        sensor: state.spec.id,
        boot,
        firstSeq: readings[0].seq,
        ...(wallMs !== undefined ? { wallMs } : {}),
        channels: state.spec.channels,
        readings,
      });
      if (this.fromRecords()) {
        // The records stay until the message is delivered or dropped (delivered() / droppedByQueue() delete them).
        try {
          this.publishing = true;
          const id = this.deps.publisher.publish(this.options.topics.telemetry, payload, { qos: this.qos, stored: false });
          this.awaiting.set(id, { boot, readings });
          this.batchesSent++;
        } catch (error) {
          state.pending.unshift(...readings);
          this.publishFailures++;
          this.warn(`telemetry batch seq ${readings[0].seq}-${readings[n - 1].seq} not queued, kept pending: ${describeError(error)}`);
          break;
        } finally {
          this.publishing = false;
          this.settleDroppedInPublish();
        }
        continue;
      }
      try {
        for (const r of readings) store.delete(recordKey(r.seq));
        this.stageSeqCounter();
        this.deps.publisher.publish(this.options.topics.telemetry, payload, { qos: this.qos });
        this.batchesSent++;
      } catch (error) {
        // Not queued: the readings stay pending (records put back) and go with a later batch.
        try {
          for (const r of readings) store.put(recordKey(r.seq), r.record);
        } catch (again) {
          this.storeFailed(again); // their records were never deleted durably: they are still in the store
        }
        state.pending.unshift(...readings);
        this.publishFailures++;
        this.warn(`telemetry batch seq ${readings[0].seq}-${readings[n - 1].seq} not queued, kept pending: ${describeError(error)}`);
        this.commit();
        break;
      }
      this.commit();
      this.pruneOffsets(boot);
    }
    if (state.pending.length === 0 && state.windowTimer !== undefined) {
      this.deps.clock.clearTimeout(state.windowTimer);
      state.windowTimer = undefined;
    }
  }

  /** Wall-clock ms of a reading: this boot's from the live clock, an earlier boot's from its stored offset, else unknown. */
  private wallOf(boot: number, uptimeMs: number): number | undefined {
    if (boot === this.boot) {
      const wall = this.wall();
      return wall === undefined ? undefined : uptimeMs + (wall - this.uptime());
    }
    const offset = this.offsets.get(boot);
    return offset === undefined ? undefined : uptimeMs + offset;
  }

  /** Telemetry published with stored: false was acknowledged: its readings' records go (one commit). */
  delivered(messageId: number): void {
    this.settle(messageId, false);
  }

  /** Telemetry published with stored: false was dropped by the publisher's queue: its readings are lost, counted. */
  droppedByQueue(messageId: number): void {
    if (this.publishing) this.droppedInPublish.push(messageId); // settled when publish() returns (see `publishing`)
    else this.settle(messageId, true);
  }

  /**
   * Settles the batches the last publish() dropped, in one commit. Their records are in the store until then: a cut
   * before this commit keeps those readings, and the next boot sends them (nothing lost).
   */
  private settleDroppedInPublish(): void {
    if (this.droppedInPublish.length === 0) return;
    for (const messageId of this.droppedInPublish.splice(0)) this.settle(messageId, true, false);
    this.commit();
  }

  private fromRecords(): boolean {
    return this.options.telemetryFromRecords === true && this.qos === 1;
  }

  /** Deletes a delivered or dropped batch's records; `commit` false: staged, for the caller's commit. */
  private settle(messageId: number, lost: boolean, commit = true): void {
    const batch = this.awaiting.get(messageId);
    if (batch === undefined) return;
    this.awaiting.delete(messageId);
    const store = this.deps.store;
    for (const r of batch.readings) store.delete(recordKey(r.seq));
    this.stageSeqCounter();
    if (commit) store.commit();
    if (lost) {
      this.dropped += batch.readings.length;
      this.warn(`telemetry batch seq ${batch.readings[0].seq}-${batch.readings[batch.readings.length - 1].seq} dropped by the full queue`);
    }
    this.pruneOffsets(batch.boot, commit);
  }

  /** Forgets an earlier boot's offset once none of its readings is pending or awaiting delivery (`commit` false: staged only). */
  private pruneOffsets(boot: number, commit = true): void {
    if (boot === this.boot || !this.offsets.has(boot)) return;
    for (const s of this.states) for (const r of s.pending) if (r.boot === boot) return;
    for (const batch of this.awaiting.values()) if (batch.boot === boot) return;
    this.offsets.delete(boot);
    try {
      this.putOffsets();
      if (commit) this.commit();
    } catch (error) {
      this.storeFailed(error);
    }
  }

  private wall(): number | undefined {
    const value = this.deps.wallClock?.();
    return typeof value === "number" && Number.isFinite(value) ? value : undefined;
  }

  private fail(state: SensorState, message: string): void {
    state.failures++;
    state.lastError = message;
    this.warn(`sensor ${state.spec.id} (${state.spec.driver}): ${message}`);
  }

  private findChannel(channelId: string): { deadband?: string } | undefined {
    for (const s of this.states) for (const c of s.spec.channels) if (c.id === channelId) return c;
    return undefined;
  }

  private persistSettings(): void {
    try {
      putSettings(this.deps.store, this.settings);
      this.commit();
    } catch (error) {
      this.storeFailed(error); // in force until the next reboot, as a command's setting always is until committed
    }
  }

  /**
   * Commits the store; a store that refuses (full, I/O) is counted, warned about and recovered (its staged changes
   * dropped) instead of throwing: this runs in timers, and a timer must never throw out of the firmware. The client
   * frees room when its own commit fails (it drops the oldest queued messages by its drop policy).
   */
  private commit(): boolean {
    try {
      this.deps.store.commit();
      return true;
    } catch (error) {
      this.storeFailed(error);
      return false;
    }
  }

  private storeFailed(error: unknown): void {
    this.storeFailures++;
    this.warn(`store write failed: ${describeError(error)}`);
    const store = this.deps.store;
    if (!store.recover) throw error;
    try {
      store.recover();
    } catch {
      // Not recoverable (the medium, or the power, is gone): as the client does, the original error goes on up.
      throw error;
    }
  }

  private warn(message: string): void {
    this.deps.logger?.warn(message);
  }

  private info(message: string): void {
    this.deps.logger?.info(message);
  }
}

function isPromise<T>(value: unknown): value is Promise<T> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
