// Runs the simulator: broker (embedded or given), N devices, fault timers, status, the --samples finish line and the deadline.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { decodeUtf8 } from "../../../mqtt/utf8";
import type { TransportFactory } from "../../../ports";
import { netTransport } from "../net-transport";
import { startEmbeddedBroker, type EmbeddedBroker } from "./embedded-broker";
import type { SimStatus } from "./events";
import { deviceConfigRaw, PASSWORD_ENV, UsageError, type SimOptions } from "./options";
import type { Reporter } from "./output";
import { SimDevice } from "./sim-device";

/** Where boards/<name>.json live: the repository's boards directory. */
export const BOARDS_DIR = fileURLToPath(new URL("../../../../boards/", import.meta.url));

export interface RunControl {
  /** Resolves with the exit code. */
  readonly done: Promise<number>;
  /** Clean stop (SIGINT/SIGTERM): pending readings are queued and sent, then the run ends with 0, after `graceMs` at most. */
  stop(graceMs?: number): void;
}

export async function startRun(options: SimOptions, sink: Reporter): Promise<RunControl> {
  const loaded = loadBoard(options.boardFile ?? path.join(BOARDS_DIR, `${options.config.board}.json`), options.boardFile ? "--board" : `config "board"`);
  const board = options.everySample ? { ...loaded, json: withoutChannelDeadbands(loaded.json) } : loaded;
  // `exit` is the last event: whatever happens after it (a will the closing broker publishes) is not reported.
  let exited = false;
  const reporter: Reporter = {
    emit(event) {
      if (!exited) sink.emit(event);
    },
    status(s) {
      if (!exited) sink.status(s);
    },
    close: (s) => sink.close(s),
  };
  let broker: EmbeddedBroker | undefined;
  let transport: TransportFactory;
  const hints = (host: string, port: number) => pasteLines(options, host, port);
  if (options.broker) {
    transport = netTransport({ host: options.broker.host, port: options.broker.port, tls: options.broker.tls, ca: options.broker.ca });
    reporter.emit({ event: "broker", url: `${options.broker.tls ? "mqtts" : "mqtt"}://${options.broker.host}:${options.broker.port}`, embedded: false, ...hints(options.broker.host, options.broker.port) });
  } else {
    broker = await startEmbeddedBroker((m) =>
      reporter.emit({ event: "broker-message", client: m.client, topic: m.topic, qos: m.qos, retain: m.retain, payload: decodeUtf8Lossy(m.payload) }),
    EMBEDDED_PORT);
    transport = netTransport({ host: broker.host, port: broker.port });
    reporter.emit({ event: "broker", url: broker.url, embedded: true, ...hints(broker.host, broker.port) });
  }
  for (const message of options.warnings) reporter.emit({ event: "warning", message });

  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  const timers: Array<ReturnType<typeof setInterval>> = [];
  let ended = false;
  let finishedCount = 0;

  const devices: SimDevice[] = [];
  for (let index = 1; index <= options.devices; index++) {
    const config = deviceConfigRaw(options, index);
    const dataDir = options.devices === 1 ? options.dataDir : path.join(options.dataDir, String(config.device_id));
    devices.push(
      new SimDevice({
        config,
        board: board.json,
        boardFile: board.file,
        dataDir,
        transport,
        samples: options.samples,
        resetSettings: options.resetSettings,
        emit: (event) => reporter.emit(event),
        onFinished: () => {
          finishedCount++;
          if (finishedCount === devices.length) void finish(0, `done: every device took its ${options.samples} reading(s) and everything queued was delivered`);
        },
      }),
    );
  }

  const status = (): SimStatus => {
    const s: SimStatus = { devices: devices.length, connected: 0, taken: 0, delivered: 0, queued: 0, dropped: 0, reconnects: 0, linkDrops: 0, reboots: 0, finished: 0 };
    for (const d of devices) {
      if (d.connected) s.connected++;
      s.taken += d.taken;
      s.delivered += d.delivered;
      s.queued += d.queued;
      s.dropped += d.droppedMessages;
      s.reconnects += d.reconnects;
      s.linkDrops += d.linkDrops;
      s.reboots += d.reboots;
      if (d.finished) s.finished++;
    }
    return s;
  };

  async function finish(code: number, message: string): Promise<void> {
    if (ended) return;
    ended = true;
    for (const t of timers) clearInterval(t);
    // Counted before the devices let go of their boots: what is still queued (offline, deadline) shows in the last status.
    const last = status();
    for (const d of devices) d.abandon();
    // The broker goes first, so its last messages (a will for an abandoned device) come before `exit`, never after.
    if (broker) await broker.close();
    reporter.close(last);
    reporter.emit({ event: "exit", code, message });
    exited = true;
    resolveDone(code);
  }

  // Boot every device; a bad config (e.g. a fleet id too long) or a corrupt store stops the run before any traffic.
  try {
    for (const d of devices) d.powerOn();
  } catch (error) {
    for (const d of devices) d.abandon();
    if (broker) await broker.close();
    throw error;
  }

  timers.push(setInterval(() => reporter.status(status()), 100));
  if (options.dropLinkEveryMs !== undefined) staggered(options.dropLinkEveryMs, (d) => d.dropLink());
  if (options.rebootEveryMs !== undefined) staggered(options.rebootEveryMs, (d) => d.reboot());

  /** Every `period` ms for each device, device k shifted by k/N of a period so a fleet is not hit all at once. */
  function staggered(period: number, action: (device: SimDevice) => void): void {
    devices.forEach((device, k) => {
      const first = setTimeout(() => {
        if (ended) return;
        action(device);
        timers.push(setInterval(() => !ended && !device.finished && action(device), period));
      }, period + Math.floor((period * k) / devices.length));
      timers.push(first as unknown as ReturnType<typeof setInterval>);
    });
  }

  if (options.samples !== undefined) {
    // From the settings in effect (a stored cmd/interval, the deadbands, the heartbeat), not only from the options.
    const gap = devices[0].readingGapMs();
    if (gap === undefined && options.deadlineMs === undefined) {
      reporter.emit({ event: "warning", message: "a deadband holds readings back and the heartbeat is off: readings come only on change, so the default deadline assumes one per interval (set --deadline-ms, --every-sample or heartbeat_s)" });
    }
    const deadline = options.deadlineMs ?? 60_000 + 3 * options.samples * (gap ?? options.config.interval_ms);
    if (options.deadlineMs === undefined) {
      reporter.emit({ event: "info", message: `deadline ${deadline} ms for ${options.samples} reading(s): up to ${gap ?? options.config.interval_ms} ms per reading with the settings in effect (--deadline-ms sets it)` });
    }
    timers.push(
      setTimeout(() => {
        const lagging = devices.filter((d) => !d.finished);
        const detail = lagging
          .slice(0, 5)
          .map((d) => `${d.id}: taken ${d.taken}/${options.samples}, delivered ${d.delivered}, ${d.queued} message(s) queued, ${d.connected ? "connected" : d.problem ? `not connected (${d.problem})` : "not connected"}`)
          .join("; ");
        void finish(1, `deadline: ${lagging.length} of ${devices.length} device(s) not done after ${deadline} ms (--deadline-ms): ${detail}${lagging.length > 5 ? "; ..." : ""}`);
      }, deadline) as unknown as ReturnType<typeof setInterval>,
    );
  }

  return {
    done,
    stop(graceMs = 5000) {
      if (ended) return;
      let left = devices.length;
      const stopped = () => {
        if (--left === 0) void finish(0, "stopped: pending readings were queued; anything undelivered stays in the data dir for the next run");
      };
      // end() waits for in-flight messages; do not make Ctrl-C wait long for a broker that is away.
      timers.push(setTimeout(() => void finish(0, `stopped (${graceMs / 1000} s grace over): undelivered messages stay in the data dir for the next run`), graceMs) as unknown as ReturnType<typeof setInterval>);
      for (const d of devices) d.stop(stopped);
    },
  };
}

/** The embedded broker's port when it is free: MQTT's own, so mosquitto_sub and the README's lines work without -p. */
const EMBEDDED_PORT = 1883;

/** Ready-to-paste mosquitto_sub / mosquitto_pub lines for the broker the devices use (never with a password). */
function pasteLines(options: SimOptions, host: string, port: number): { subscribe: string; publish: string } {
  const config = options.config;
  const id = options.devices === 1 ? config.device_id || "sim" : `${options.fleetBase}-${"1".padStart(Math.max(3, String(options.devices).length), "0")}`;
  let args = `-h ${host} -p ${port}`;
  if (options.broker?.tls) args += options.broker.ca !== undefined ? " --cafile <the --ca file>" : " --tls-use-os-certs";
  if (config.mqtt_user !== "") args += ` -u ${shellWord(config.mqtt_user)}${config.mqtt_password !== "" ? ` -P "$${PASSWORD_ENV}"` : ""}`;
  const watch = options.devices === 1 ? `${config.prefix}/${id}/#` : `${config.prefix}/#`;
  return {
    subscribe: `mosquitto_sub ${args} -v -t '${watch}'`,
    publish: `mosquitto_pub ${args} -t ${config.prefix}/${id}/cmd/interval -m '{"ms": 5000}'`,
  };
}

function shellWord(text: string): string {
  return /^[A-Za-z0-9_.@%+=:,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** --every-sample: the board with its per-channel deadbands removed, so config deadband ("0") applies to every channel. */
function withoutChannelDeadbands(json: unknown): unknown {
  if (typeof json !== "object" || json === null || !Array.isArray((json as { sensors?: unknown }).sensors)) return json;
  const board = json as { sensors: unknown[] };
  return {
    ...board,
    sensors: board.sensors.map((sensor) => {
      if (typeof sensor !== "object" || sensor === null || !Array.isArray((sensor as { channels?: unknown }).channels)) return sensor;
      const s = sensor as { channels: unknown[] };
      return {
        ...s,
        channels: s.channels.map((channel) => {
          if (typeof channel !== "object" || channel === null) return channel;
          const { deadband: _ignored, ...rest } = channel as { deadband?: unknown };
          return rest;
        }),
      };
    }),
  };
}

function loadBoard(file: string, option: string): { json: unknown; file: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(option, `cannot read board file ${file}: ${(error as Error).message}`);
  }
  try {
    return { json: JSON.parse(text), file };
  } catch (error) {
    throw new UsageError(option, `${file} is not JSON: ${(error as Error).message}`);
  }
}

function decodeUtf8Lossy(bytes: Uint8Array): string {
  try {
    return decodeUtf8(bytes);
  } catch {
    // A payload that is not UTF-8 (not one of ours) is shown as hex.
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
}
