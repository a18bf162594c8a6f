// One simulated device: the firmware itself (src/app/firmware: Device and MqttClient) over Node adapters, with reboots and counters.
import { mkdirSync } from "node:fs";
import type { Device } from "../../../app/device";
import { Firmware } from "../../../app/firmware";
import type { MessageHandler, PublishOptions, Publisher } from "../../../mqtt/client-api";
import type { MqttClient } from "../../../mqtt/client";
import type { QoS } from "../../../mqtt/constants";
import { readStoredMessages } from "../../../mqtt/session-records";
import { STATUS_OFFLINE } from "../../../config/device-topics";
import { readSettings, SETTINGS_KEY, type StoredSettings } from "../../../sampler/persist";
import { decodeTelemetry } from "../../../sampler/payload";
import type { Sensor } from "../../../sensors/sensor";
import type { SessionStore } from "../../../store/session-store";
import type { Logger, TransportFactory } from "../../../ports";
import { openFlashFileStore } from "../flash-file";
import { createNodeSensor } from "../sensors";
import type { SimEvent } from "./events";
import { PowerDomain } from "./power";
import { FIRMWARE_VERSION } from "../../../app/version";
import { StatusPage } from "../../../web/status-page";
import { errorResponse, type BodySource, type WebRequest, type WebResponse } from "../../../web/request";

export interface SimDeviceSpec {
  /** Flat firmware config keys of this device (parsed by the firmware's parseConfig inside Device). */
  config: Record<string, unknown>;
  board: unknown;
  boardFile: string;
  dataDir: string;
  /** Opens a connection to the broker (netTransport); every boot wraps it in its own PowerDomain. */
  transport: TransportFactory;
  /** Readings to take in this run, or undefined to sample until stop(). */
  samples?: number;
  /** --reset-settings: delete the settings stored by command before the first boot. */
  resetSettings?: boolean;
  emit(event: SimEvent): void;
  /** Called once when `samples` readings were taken and every queued message is delivered. */
  onFinished(device: SimDevice): void;
  /** The gzipped status page, when this device serves one (each boot builds its StatusPage over its own firmware). */
  webPage?: BodySource;
}

/** What lives only in RAM during one boot; a power cut throws all of it away. */
interface Boot {
  readonly domain: PowerDomain;
  readonly store: SessionStore;
  readonly client: MqttClient;
  readonly device: Device;
  /** Readings carried by each queued telemetry message, by the client's message id. */
  readonly readings: Map<number, number>;
  /** The status page of this boot (its recent-samples ring is RAM: a power cut empties it, as on the board). */
  readonly statusPage?: StatusPage;
  connected: boolean;
}

export class SimDevice {
  id = "";
  delivered = 0;
  droppedReadings = 0;
  droppedMessages = 0;
  reconnects = 0;
  linkDrops = 0;
  reboots = 0;
  firstSeq: number | undefined;
  /** The --samples readings are all taken: sampling stopped, waiting for delivery. */
  samplingDone = false;
  finished = false;
  private current: Boot | undefined;
  /** The counters of the last boot, for the closing status after a power cut or abandon() let it go. */
  private lastQueued = 0;
  private lastNextSeq: number | undefined;
  private everConnected = false;
  /** The telemetry publish() in progress: its reading count, and whether its delivery was reported inside it. */
  private publishing: { readings: number; delivered: boolean } | undefined;

  constructor(private readonly spec: SimDeviceSpec) {}

  get connected(): boolean {
    return this.current?.connected ?? false;
  }

  /** Why the client is not connected (the last refusal or transport failure since its last CONNACK), if it says. */
  get problem(): string | undefined {
    return this.current?.client.problem()?.message;
  }

  /** Readings taken in this run: every seq given since the first boot, whether it waits in an open batch, is queued or was delivered. */
  get taken(): number {
    return this.firstSeq === undefined ? 0 : this.nextSeq - this.firstSeq;
  }

  /** Client messages still queued or in flight (telemetry, status, health); kept from the last boot after a power cut or abandon(). */
  get queued(): number {
    if (this.current) this.lastQueued = this.current.client.queueStats().depth;
    return this.lastQueued;
  }

  get nextSeq(): number {
    if (this.current) this.lastNextSeq = this.current.device.sampler.stats().nextSeq;
    return this.lastNextSeq ?? this.firstSeq ?? 0;
  }

  get boot(): number {
    return this.current?.device.sampler.boot ?? 0;
  }

  /** Boots from the data dir. Throws ConfigErrors / BoardError / StorageError before anything is connected. */
  powerOn(): void {
    mkdirSync(this.spec.dataDir, { recursive: true, mode: 0o700 });
    // The board's flash log over an image in the data dir. fsync off: a commit survives the process being killed (the
    // kernel holds the writes), which is the fault simulated here. An old-format dir is migrated, and said so.
    const store = openFlashFileStore(this.spec.dataDir, {
      fsync: false,
      onMigrated: (values) => this.spec.emit({ event: "info", device: this.id || undefined, message: `data dir ${this.spec.dataDir}: migrated ${values} value(s) from the old one-file-per-key format into flash.img` }),
      onRetire: (block, reason) => this.spec.emit({ event: "warning", device: this.id || undefined, message: `flash image block ${block} retired: ${reason}` }),
    });
    const firstBoot = this.firstSeq === undefined;
    if (firstBoot && this.spec.resetSettings && store.get(SETTINGS_KEY) !== undefined) {
      store.delete(SETTINGS_KEY);
      store.commit();
      this.spec.emit({ event: "info", message: `settings stored by command deleted from ${this.spec.dataDir} (--reset-settings)` });
    }
    const stored = readSettings(store, () => {});
    const domain = new PowerDomain(this.spec.transport);
    const readings = queuedReadings(store);
    let boot: Boot | undefined;
    const logger: Logger = {
      info: (message) => this.spec.emit({ event: "info", device: this.id || undefined, message }),
      warn: (message) => this.spec.emit({ event: "warning", device: this.id || undefined, message }),
    };
    const firmware = new Firmware(
      { config: this.spec.config, board: this.spec.board, boardFile: this.spec.boardFile },
      {
        clock: domain.clock,
        store,
        wallClock: () => Date.now(),
        logger,
        defaultDeviceId: "sim",
        createSensor: (sensorSpec, board, config, bootCount) => this.watchSensor(createNodeSensor(sensorSpec, board, config, bootCount)),
        transport: domain.transport,
        random: Math.random,
        decoratePublisher: (client) => this.countingPublisher(client, () => boot),
      },
      {
        onConnect: ({ sessionPresent }) => this.onConnect(boot, sessionPresent),
        onDisconnect: ({ reason, error, willReconnectInMs }) => this.onDisconnect(boot, error ? `${reason}: ${error.message}` : reason, willReconnectInMs),
        onDelivered: (info) => {
          if (!boot || this.current !== boot) return;
          let count = boot.readings.get(info.messageId) ?? 0;
          if (this.publishing && !boot.readings.has(info.messageId)) {
            count = this.publishing.readings;
            this.publishing.delivered = true;
          }
          boot.readings.delete(info.messageId);
          this.delivered += count;
          this.spec.emit({ event: "delivered", device: this.id, topic: info.topic, qos: info.qos, readings: count });
          this.checkFinished();
        },
        onDropped: (info) => {
          if (!boot || this.current !== boot) return;
          const count = boot.readings.get(info.messageId) ?? 0;
          boot.readings.delete(info.messageId);
          this.droppedMessages++;
          this.droppedReadings += count;
          this.spec.emit({ event: "dropped", device: this.id, topic: info.topic, readings: count });
        },
        onError: (error) => logger.warn(`MQTT: ${error.message}`),
      },
    );
    const { device, client } = firmware;
    const statusPage = this.spec.webPage
      ? new StatusPage({
        firmware,
        page: this.spec.webPage,
        password: device.config.web_password,
        // The wear figures come from this boot's store at each request: nothing is copied.
        extras: { version: FIRMWARE_VERSION, storeWear: () => store.stats() },
        logger,
      })
      : undefined;
    boot = { domain, store, client, device, readings, statusPage, connected: false };
    this.current = boot;
    this.id = device.deviceId;
    const stats = device.sampler.stats();
    if (this.firstSeq === undefined) this.firstSeq = stats.nextSeq;
    this.lastNextSeq = stats.nextSeq;
    // Readings from before: those inside queued telemetry messages, and those whose records the sampler restored as
    // pending (QoS 1 telemetry is published with stored: false, so until acknowledged its readings live only there).
    let queuedReadingCount = stats.pending;
    for (const n of readings.values()) queuedReadingCount += n;
    this.spec.emit({
      event: "boot", device: this.id, boot: device.sampler.boot, nextSeq: stats.nextSeq,
      queuedMessages: client.queueStats().depth, queuedReadings: queuedReadingCount, dataDir: this.spec.dataDir,
    });
    if (firstBoot) this.sayStoredSettings(device, stored);
    if (!this.samplingDone) device.start();
    client.start();
    this.checkTarget();
  }

  /** Answers a status page request with the current boot's page (503 while powered off). */
  handleWeb(request: WebRequest): WebResponse {
    const page = this.current?.statusPage;
    return page ? page.handle(request) : errorResponse(503, "the device is powered off");
  }

  /** Settings changed by command live in the data dir and win over options, --config and the board: say which, once per run. */
  private sayStoredSettings(device: Device, stored: StoredSettings): void {
    const config = device.config;
    const parts: string[] = [];
    for (const [sensor, ms] of Object.entries(stored.interval ?? {})) {
      if (ms !== config.interval_ms) parts.push(`interval of ${sensor} ${ms} ms (options/config: ${config.interval_ms} ms)`);
    }
    for (const [channel, text] of Object.entries(stored.deadband ?? {})) {
      const board = device.board.sensors.flatMap((s) => s.channels).find((c) => c.id === channel)?.deadband;
      const fallback = board !== undefined ? `board: ${board}` : `config: ${config.deadband}`;
      if (text !== board && !(board === undefined && text === config.deadband)) parts.push(`deadband of ${channel} ${text} (${fallback})`);
    }
    if (stored.heartbeatS !== undefined && stored.heartbeatS !== config.heartbeat_s) parts.push(`heartbeat ${stored.heartbeatS} s (config: ${config.heartbeat_s} s)`);
    if (parts.length === 0) return;
    this.spec.emit({
      event: "warning", device: this.id,
      message: `settings stored by earlier commands override the options: ${parts.join(", ")}; --reset-settings goes back to the options`,
    });
  }

  /**
   * The longest a reading can take with the settings in effect: the fastest sensor's interval when one of its
   * channels reports every sample, else (a deadband may hold every sample back) the heartbeat rounded up to
   * that sensor's interval, plus one interval; undefined when a deadband with no heartbeat may hold readings forever.
   */
  readingGapMs(): number | undefined {
    const boot = this.current;
    if (!boot) return undefined;
    const sampler = boot.device.sampler;
    const heartbeatMs = sampler.heartbeatS() * 1000;
    let best: number | undefined;
    for (const sensor of boot.device.board.sensors) {
      const interval = sampler.interval(sensor.id) ?? boot.device.config.interval_ms;
      const everySample = sensor.channels.some((c) => sampler.deadband(c.id).value === 0);
      const gap = everySample ? interval : heartbeatMs > 0 ? Math.ceil(heartbeatMs / interval) * interval + interval : undefined;
      if (gap !== undefined && (best === undefined || gap < best)) best = gap;
    }
    return best;
  }

  /** Power cut and boot again: RAM state (timers, socket) is lost; the data dir, pending readings included, is kept. */
  reboot(): void {
    if (this.finished || !this.current) return;
    this.current.domain.powerOff();
    this.current = undefined;
    this.reboots++;
    this.spec.emit({ event: "reboot", device: this.id });
    this.powerOn();
  }

  /** Network loss: the client sees its connection close and reconnects. */
  dropLink(): void {
    if (this.finished || !this.current) return;
    if (this.current.domain.dropLinks("link cut by --drop-link-every") > 0) {
      this.linkDrops++;
      this.spec.emit({ event: "link-drop", device: this.id });
    }
  }

  /** Clean stop (Ctrl-C): stop sampling, queue what is pending, then end() the client; `done` runs when it has. */
  stop(done: () => void): void {
    const boot = this.current;
    if (!boot || this.finished) {
      done();
      return;
    }
    this.samplingDone = true;
    boot.device.stop();
    boot.device.sampler.flush();
    boot.client.end(done);
  }

  /** Throws away the boot without a word (used when the process exits anyway); a finished device has already said goodbye. */
  abandon(): void {
    if (this.finished) return;
    this.current?.domain.powerOff();
    this.current = undefined;
  }

  private onConnect(boot: Boot | undefined, sessionPresent: boolean): void {
    if (!boot || this.current !== boot) return;
    boot.connected = true;
    if (this.everConnected) this.reconnects++;
    this.everConnected = true;
    this.spec.emit({ event: "connected", device: this.id, sessionPresent });
    this.checkFinished();
  }

  private onDisconnect(boot: Boot | undefined, reason: string, retryInMs: number | undefined): void {
    if (!boot || this.current !== boot) return;
    boot.connected = false;
    this.spec.emit({ event: "disconnected", device: this.id, reason, ...(retryInMs !== undefined ? { retryInMs: Math.round(retryInMs) } : {}) });
  }

  /** Counts the readings of every telemetry batch the sampler publishes (each carries consecutive seqs). */
  private countingPublisher(client: Publisher, currentBoot: () => Boot | undefined): Publisher {
    return {
      publish: (topic: string, payload: Uint8Array | string, options?: PublishOptions): number => {
        const boot = currentBoot();
        const batch = boot && topic === boot.device.topics.telemetry && typeof payload !== "string" ? decodeTelemetry(payload) : undefined;
        // At QoS 0 on a live link the client reports the delivery from inside publish(), before its id is known here.
        this.publishing = { readings: batch?.readings.length ?? 0, delivered: false };
        let messageId: number;
        try {
          messageId = client.publish(topic, payload, options);
        } finally {
          const publishing = this.publishing;
          this.publishing = undefined;
          if (boot && batch) {
            if (!publishing.delivered) boot.readings.set(messageId!, batch.readings.length);
            const first = batch.readings[0];
            const last = batch.readings[batch.readings.length - 1];
            this.spec.emit({ event: "reading", device: this.id, sensor: batch.sensor, first: first.seq, last: last.seq, values: last.values });
          }
        }
        return messageId;
      },
      subscribe: (filter: string, qos: QoS, handler: MessageHandler) => client.subscribe(filter, qos, handler),
      get counters() {
        return client.counters;
      },
      queueStats: () => client.queueStats(),
    };
  }

  /** Wraps a sensor so the --samples target is checked right after each read has been filtered and batched. */
  private watchSensor(sensor: Sensor): Sensor {
    return {
      sample: () => {
        const result = sensor.sample();
        queueMicrotask(() => this.checkTarget());
        return result;
      },
      close: sensor.close ? () => sensor.close?.() : undefined,
    };
  }

  /** Once taken + pending readings reach --samples: stop sampling and send what is pending, so exactly N get seqs. */
  private checkTarget(): void {
    const boot = this.current;
    if (this.spec.samples === undefined || this.samplingDone || !boot) return;
    if (this.taken < this.spec.samples) return;
    this.samplingDone = true;
    boot.device.stop();
    boot.device.sampler.flush();
    this.checkFinished();
  }

  private checkFinished(): void {
    const boot = this.current;
    if (!this.samplingDone || this.finished || !boot || this.spec.samples === undefined) return;
    if (!boot.connected || boot.client.queueStats().depth > 0) return;
    this.finished = true;
    this.spec.emit({ event: "finished", device: this.id, boot: boot.device.sampler.boot, firstSeq: this.firstSeq ?? 0, nextSeq: this.nextSeq, taken: this.taken });
    // A clean exit: the retained status says "offline" (a DISCONNECT suppresses the will), then DISCONNECT.
    try {
      boot.client.publish(boot.device.topics.status, STATUS_OFFLINE, { qos: boot.device.config.mqtt_qos, retain: true });
    } catch (error) {
      this.spec.emit({ event: "warning", device: this.id, message: `offline status not queued: ${(error as Error).message}` });
    }
    boot.client.end(() => this.spec.onFinished(this));
  }
}

/** Readings per queued telemetry message left in the store by an earlier boot (read-only look at the session records). */
function queuedReadings(store: SessionStore): Map<number, number> {
  const out = new Map<number, number>();
  for (const message of readStoredMessages(store)) {
    if (!message.topic.endsWith("/telemetry")) continue;
    try {
      out.set(message.messageId, decodeTelemetry(message.payload).readings.length);
    } catch {
      // Not a telemetry batch of ours: it is delivered like any message and counts no reading.
      out.set(message.messageId, 0);
    }
  }
  return out;
}
