// The sampling loop: per-sensor schedules on the injected clock, deadband + heartbeat, seq and time stamps, batching into telemetry PUBLISHes.
import type { Board, BoardSensor } from "../boards/schema";
import type { FirmwareConfig } from "../config/defaults";
import type { QoS } from "../mqtt/constants";
import type { Publisher } from "../mqtt/client-api";
import type { Clock, Logger, TimerHandle } from "../platform/ports";
import type { Sensor, SensorSample } from "../sensors/sensor";
import { readField } from "../sensors/sensor";
import type { SessionStore } from "../store/session-store";
import { type Deadband, NO_DEADBAND, parseDeadband, passesDeadband } from "./deadband";
import type { DeviceTopics } from "./device-topics";
import { type BatchReading, encodeTelemetry } from "./payload";
import { BOOT_KEY, SEQ_KEY, type StoredSettings, putCounter, putSettings, readCounter, readSettings } from "./persist";

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

export interface SamplerOptions {
  config: FirmwareConfig;
  board: Board;
  topics: DeviceTopics;
  /** One sensor instance per board sensor id. */
  sensors: { readonly [sensorId: string]: Sensor };
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
  pending: BatchReading[];
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
  private online = false;
  private running = false;
  private wasSynced = false;
  private publishFailures = 0;
  private batchesSent = 0;

  /** Reads boot counter, seq and stored settings, and commits the incremented boot counter. */
  constructor(deps: SamplerDeps, options: SamplerOptions) {
    this.deps = deps;
    this.options = options;
    this.qos = options.config.mqtt_qos;
    this.startedAt = deps.clock.now();
    this.boot = readCounter(deps.store, BOOT_KEY) + 1;
    this.nextSeq = readCounter(deps.store, SEQ_KEY);
    putCounter(deps.store, BOOT_KEY, this.boot);
    deps.store.commit();
    this.settings = readSettings(deps.store, (m) => this.warn(m));
    for (const spec of options.board.sensors) {
      const sensor = options.sensors[spec.id];
      if (!sensor) throw new Error(`no sensor instance for board sensor "${spec.id}"`);
      const stored = this.settings.interval?.[spec.id];
      this.states.push({
        spec,
        sensor,
        intervalMs: stored !== undefined && stored >= 100 ? stored : options.config.interval_ms,
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

  /** Stops the schedules; pending readings stay in RAM (flush() sends them). */
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
    if (!forced && !heartbeatDue && !changed) return;
    state.lastReported = values;
    state.lastReportedAt = uptimeMs;
    state.pending.push({ uptimeMs, values });
    this.evaluate(state, forced);
  }

  /** Decides whether the sensor's pending readings go out now, wait for the window, or wait for the wall clock. */
  private evaluate(state: SensorState, force: boolean): void {
    if (state.pending.length === 0) return;
    if (force) {
      this.sendPending(state, state.pending.length);
      return;
    }
    const { batch_max, batch_window_ms } = this.options.config;
    if (this.holdForSync()) return;
    if (state.pending.length >= batch_max) this.sendPending(state, state.pending.length - (state.pending.length % batch_max));
    if (state.pending.length === 0) return;
    if (this.online && batch_window_ms === 0) {
      this.sendPending(state, state.pending.length);
      return;
    }
    if (state.windowTimer === undefined) {
      // Due one window after the batch's first reading; when that is already past (back online, clock just set) it fires at once.
      const due = state.pending[0].uptimeMs + batch_window_ms;
      state.windowTimer = this.deps.clock.setTimeout(() => {
        state.windowTimer = undefined;
        this.checkSync();
        // Offline or still waiting for the clock: setOnline(true) or the clock being set evaluates again.
        if (this.online && !this.holdForSync()) this.sendPending(state, state.pending.length);
      }, Math.max(0, due - this.uptime()));
    }
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
    if (this.wasSynced || this.wall() === undefined) return;
    this.wasSynced = true;
    this.info("wall clock set: stamping held readings");
    for (const state of this.states) this.evaluate(state, false);
  }

  /** Publishes the first `count` pending readings in batches of batch_max, assigning and committing seqs first (see persist.ts). */
  private sendPending(state: SensorState, count: number): void {
    const batchMax = this.options.config.batch_max;
    while (count > 0) {
      const readings = state.pending.splice(0, Math.min(batchMax, count));
      count -= readings.length;
      const firstSeq = this.nextSeq;
      this.nextSeq += readings.length;
      putCounter(this.deps.store, SEQ_KEY, this.nextSeq);
      this.deps.store.commit();
      const wall = this.wall();
      const payload = encodeTelemetry({
        sensor: state.spec.id,
        boot: this.boot,
        firstSeq,
        ...(wall !== undefined ? { wallMs: readings[0].uptimeMs + (wall - this.uptime()) } : {}),
        channels: state.spec.channels,
        readings,
      });
      try {
        this.deps.publisher.publish(this.options.topics.telemetry, payload, { qos: this.qos });
        this.batchesSent++;
      } catch (error) {
        // The seqs are committed: subscribers see a gap for these readings, which were really lost.
        this.publishFailures++;
        this.warn(`telemetry batch seq ${firstSeq}-${firstSeq + readings.length - 1} not queued: ${describeError(error)}`);
      }
    }
    if (state.pending.length === 0 && state.windowTimer !== undefined) {
      this.deps.clock.clearTimeout(state.windowTimer);
      state.windowTimer = undefined;
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
    putSettings(this.deps.store, this.settings);
    this.deps.store.commit();
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
