// GET /status.json: the live state of the running firmware (device, broker link, queue, counters, settings, channels
// and their recent samples), read from the firmware's own objects at each request; nothing is copied or cached.
//
// Secrets never appear: the broker's user name and password and the Wi-Fi password are not read here at all.
import type { Firmware } from "../app/firmware";
import { brokerPort } from "../config/parse";
import { formatDeadband } from "../config/deadband";
import { storeHealth, type StoreHealth, type WearFigures } from "../store/wear";
import type { RecentReadings } from "./recent";

/** What the platform knows and the firmware does not. */
export interface StatusExtras {
  /** Firmware version (src/app/version). */
  readonly version: string;
  /** Wi-Fi signal in dBm, on a board with Wi-Fi up. */
  wifiRssi?(): number | undefined;
  /** Free heap bytes, where the platform tells. */
  freeHeap?(): number | undefined;
  /** XS memory in use where the build is instrumented: slot and chunk heaps, and the stack's peak since last read. */
  xsMemory?(): XsMemory | undefined;
  /**
   * The session store's wear figures when it is the flash log (FlashLogStore.stats(), read at each request from the
   * store itself); absent for any other store (memory, NVS), and the report's `store` is then null.
   */
  storeWear?(): WearFigures | undefined;
  /** Whether settings may be changed here (config web_password is set). */
  readonly settingsWritable: boolean;
}

export interface XsMemory {
  slotBytes: number;
  chunkBytes: number;
  stackPeakBytes: number;
}

export interface ChannelStatus {
  id: string;
  sensor: string;
  name: string;
  unit: string;
  decimals: number;
  deadband: string;
  value?: number;
  /** ms since boot of that value. */
  at?: number;
}

export interface RecentStatus {
  /** Serials above `after` only (the poller's `since`). */
  after: number;
  /** Per sensor: ms since boot of each sample, and per channel id the values, oldest first. */
  sensors: { [sensor: string]: { t: number[]; c: { [channel: string]: number[] } } };
}

export interface StatusReport {
  v: 1;
  device: { id: string; board: string; firmware: string; uptimeMs: number; boot: number; rssi?: number; heap?: number; xs?: XsMemory; wallClockSet: boolean };
  broker: { host: string; port: number; tls: boolean; state: string; connected: boolean; changedMsAgo?: number; lastError?: string; reconnects: number };
  queue: { messages: number; bytes: number; oldestAgeMs: number; pendingReadings: number };
  counters: { sampled: number; readFailures: number; nextSeq: number; sent: number; acked: number; retried: number; dropped: number; publishFailures: number };
  settings: { intervalMs: { [sensor: string]: number }; heartbeatS: number; writable: boolean };
  /** The flash store's health (store/wear), or null when the session store is not the flash log. */
  store: StoreHealth | null;
  channels: ChannelStatus[];
  /** The newest serial in the ring: poll again with ?since=<this>. */
  serial: number;
  recent: RecentStatus;
}

/** Builds the report; `since` = 0 returns every kept sample, otherwise only newer ones (a since above the newest serial, e.g. after a reboot, returns everything too). */
export function statusReport(firmware: Firmware, recent: RecentReadings, extras: StatusExtras, since: number): StatusReport {
  const device = firmware.device;
  const sampler = device.sampler;
  const client = firmware.client;
  const config = device.config;
  const stats = sampler.stats();
  const queue = client.queueStats();
  const now = sampler.uptime();

  let sampled = 0;
  let readFailures = 0;
  for (const id of Object.keys(stats.sensors)) {
    sampled += stats.sensors[id].reads - stats.sensors[id].failures;
    readFailures += stats.sensors[id].failures;
  }

  const intervalMs: { [sensor: string]: number } = {};
  const channels: ChannelStatus[] = [];
  const after = since > recent.lastSerial ? 0 : since;
  const sensors: RecentStatus["sensors"] = {};
  for (const sensor of device.board.sensors) {
    intervalMs[sensor.id] = sampler.interval(sensor.id) ?? config.interval_ms;
    const latest = recent.latest(sensor.id);
    const slice = recent.since(sensor.id, after);
    const c: { [channel: string]: number[] } = {};
    sensor.channels.forEach((channel, k) => {
      const entry: ChannelStatus = {
        id: channel.id,
        sensor: sensor.id,
        name: channel.name ?? channel.id,
        unit: channel.unit,
        decimals: channel.decimals,
        deadband: formatDeadband(sampler.deadband(channel.id)),
      };
      if (latest !== undefined) {
        entry.value = round(latest.values[k], channel.decimals);
        entry.at = Math.round(latest.uptimeMs);
      }
      channels.push(entry);
      c[channel.id] = (slice.values[k] ?? []).map((v) => round(v, channel.decimals));
    });
    sensors[sensor.id] = { t: slice.times.map((t) => Math.round(t)), c };
  }

  const wear = extras.storeWear?.();
  const report: StatusReport = {
    v: 1,
    device: { id: device.deviceId, board: device.board.name, firmware: extras.version, uptimeMs: Math.round(now), boot: stats.boot, wallClockSet: stats.synced },
    broker: {
      host: config.mqtt_host,
      port: brokerPort(config),
      tls: config.mqtt_tls,
      state: client.state,
      connected: client.state === "connected",
      reconnects: client.counters.reconnects,
    },
    queue: { messages: queue.depth, bytes: queue.bytes, oldestAgeMs: Math.round(queue.oldestAgeMs), pendingReadings: stats.pending },
    counters: {
      sampled,
      readFailures,
      nextSeq: stats.nextSeq,
      sent: client.counters.sent,
      acked: client.counters.acked,
      retried: client.counters.retried,
      dropped: client.counters.dropped + stats.dropped,
      publishFailures: stats.publishFailures,
    },
    settings: { intervalMs, heartbeatS: sampler.heartbeatS(), writable: extras.settingsWritable },
    store: wear === undefined ? null : storeHealth(wear, now),
    channels,
    serial: recent.lastSerial,
    recent: { after, sensors },
  };
  const link = firmware.link;
  if (link.changedAt !== undefined) report.broker.changedMsAgo = Math.max(0, Math.round(firmware.clock.now() - link.changedAt));
  if (link.lastError !== undefined) report.broker.lastError = link.lastError;
  const rssi = extras.wifiRssi?.();
  if (typeof rssi === "number") report.device.rssi = rssi;
  const heap = extras.freeHeap?.();
  if (typeof heap === "number") report.device.heap = heap;
  const xs = extras.xsMemory?.();
  if (xs !== undefined) report.device.xs = xs;
  return report;
}

function round(value: number, decimals: number): number {
  const f = Math.pow(10, decimals);
  return Math.round(value * f) / f;
}
