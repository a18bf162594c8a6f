// The running device: config + board + sensors + sampler + publisher, with every platform dependency passed in.
import { validateBoard } from "../boards/validate";
import type { Board, BoardSensor } from "../boards/schema";
import { clientOptionsFromConfig } from "../config/client-options";
import type { FirmwareConfig } from "../config/defaults";
import { parseConfig } from "../config/parse";
import type { ClientOptions, DeliveredInfo, Publisher } from "../mqtt/client-api";
import type { Clock, Logger, TimerHandle } from "../ports";
import type { Sensor } from "../sensors/sensor";
import type { SessionStore } from "../store/session-store";
import { runCommand, commandName } from "../sampler/commands";
import { deviceTopics, type DeviceTopics, STATUS_ONLINE } from "../config/device-topics";
import { discoveryMessages } from "../sampler/discovery";
import { encodeHealth, healthReport } from "../sampler/health";
import { BOOT_KEY, readCounter } from "../sampler/persist";
import { Sampler, type WallClock } from "../sampler/sampler";
import { encodeUtf8 } from "../mqtt/utf8";

export interface DevicePlatform {
  clock: Clock;
  store: SessionStore;
  /** Wall-clock ms once SNTP (or the desktop) has set it. */
  wallClock?: WallClock;
  /** Free heap bytes where the platform tells. */
  freeHeap?: () => number | undefined;
  logger?: Logger;
  /** Device id used when config.device_id is "" (the Wi-Fi MAC without separators on device). */
  defaultDeviceId: string;
  /** Opens one board sensor: an SDK driver on device, a simulated one on the desktop (seeded per boot: `boot` is this boot's counter). */
  createSensor(spec: BoardSensor, board: Board, config: FirmwareConfig, boot: number): Sensor;
  /** The MQTT client, or a factory given the options this device needs. */
  publisher: Publisher | ((options: ClientOptions) => Publisher);
}

export interface DeviceInput {
  /** mc/config on device, argv/env in the Node simulator; parsed with parseConfig. */
  config: Record<string, unknown>;
  /** `config` already parsed by the caller (the Moddable entry needs it before the Device exists): not parsed twice. */
  parsed?: FirmwareConfig;
  /** The parsed JSON of the board file, and its path for error messages. */
  board: unknown;
  boardFile: string;
}

export class Device {
  readonly config: FirmwareConfig;
  readonly board: Board;
  readonly deviceId: string;
  readonly topics: DeviceTopics;
  readonly clientOptions: ClientOptions;
  readonly publisher: Publisher;
  readonly sampler: Sampler;
  private readonly platform: DevicePlatform;
  private healthTimer: TimerHandle | undefined;
  /** The birth (and discovery) found the queue full: sent once a delivery frees room, never at a reading's expense. */
  private announcePending = false;
  /**
   * Ids of this boot's birth and discovery messages the client still holds. While one is held no other is queued: a
   * link that keeps dying right after CONNACK must not pile up a birth per reconnect (the session resends the held one).
   */
  private readonly announced = new Set<number>();

  /** Throws ConfigErrors / BoardError before touching any sensor or the network. */
  constructor(input: DeviceInput, platform: DevicePlatform) {
    this.platform = platform;
    this.config = input.parsed ?? parseConfig(input.config);
    this.board = validateBoard(input.board, input.boardFile);
    this.deviceId = this.config.device_id !== "" ? this.config.device_id : platform.defaultDeviceId;
    this.topics = deviceTopics(this.config.prefix, this.deviceId);
    this.clientOptions = clientOptionsFromConfig(this.config, this.deviceId);
    this.publisher = typeof platform.publisher === "function" ? platform.publisher(this.clientOptions) : platform.publisher;
    const sensors: { [id: string]: Sensor } = {};
    // The boot the Sampler is about to count (it reads and commits the counter itself, below).
    const boot = readCounter(platform.store, BOOT_KEY) + 1;
    for (const spec of this.board.sensors) sensors[spec.id] = platform.createSensor(spec, this.board, this.config, boot);
    this.sampler = new Sampler(
      { clock: platform.clock, store: platform.store, publisher: this.publisher, wallClock: platform.wallClock, logger: platform.logger },
      { config: this.config, board: this.board, topics: this.topics, sensors },
    );
  }

  /** Subscribes to commands and starts sampling and health telemetry. Call once; the client may connect before or after. */
  start(): void {
    const prefix = this.topics.commandPrefix;
    this.publisher.subscribe(this.topics.commandFilter, this.config.mqtt_qos, (message) => {
      const name = commandName(message, prefix);
      if (name === undefined) return;
      const reply = runCommand({ sampler: this.sampler, publishHealth: () => this.publishHealth() }, name, message.payload);
      if (!reply.ok) this.platform.logger?.warn(`command ${name} refused: ${reply.error}`);
      this.safePublish(this.topics.reply, JSON.stringify(reply), false);
    });
    this.sampler.start();
    this.scheduleHealth();
  }

  /** The platform calls this from the client's onConnect: birth message, discovery, then queued batches go out. */
  onConnect(): void {
    if (this.announced.size === 0) this.announcePending = !this.announce();
    this.sampler.setOnline(true);
  }

  /** The platform calls this from the client's onDelivered: room was freed, so a refused birth can go now. */
  onDelivered(info?: DeliveredInfo): void {
    if (info) this.announced.delete(info.messageId);
    if (this.announcePending) this.announcePending = !this.announce();
  }

  /** The platform calls this from the client's onDropped. */
  onDropped(info: DeliveredInfo): void {
    this.announced.delete(info.messageId);
  }

  /** Queues the retained birth and discovery messages; false when the full queue refused one of them. */
  private announce(): boolean {
    const messages: Array<{ topic: string; payload: string | Uint8Array }> = [{ topic: this.topics.status, payload: STATUS_ONLINE }];
    if (this.config.ha_discovery) messages.push(...discoveryMessages(this.board, this.deviceId, this.topics, this.config.ha_prefix));
    for (const m of messages) {
      const id = this.safePublish(m.topic, m.payload, true);
      if (id === undefined) return false;
      if (this.config.mqtt_qos > 0) this.announced.add(id); // QoS 0 is gone once written
    }
    return true;
  }

  /** The platform calls this from the client's onDisconnect. */
  onDisconnect(): void {
    this.sampler.setOnline(false);
  }

  publishHealth(): void {
    this.safePublish(this.topics.health, encodeHealth(healthReport(this.sampler, this.publisher, this.platform.freeHeap)), false);
  }

  stop(): void {
    this.sampler.stop();
    if (this.healthTimer !== undefined) this.platform.clock.clearTimeout(this.healthTimer);
    this.healthTimer = undefined;
  }

  private scheduleHealth(): void {
    if (this.config.health_s === 0) return;
    this.healthTimer = this.platform.clock.setTimeout(() => {
      this.publishHealth();
      this.scheduleHealth();
    }, this.config.health_s * 1000);
  }

  /**
   * Status, discovery and replies never push queued readings out of a full queue (evict: false): they are refused
   * instead, and the refusal is logged. Returns the queued message's id, or undefined when it was refused.
   */
  private safePublish(topic: string, payload: string | Uint8Array, retain: boolean): number | undefined {
    try {
      return this.publisher.publish(topic, typeof payload === "string" ? encodeUtf8(payload) : payload, { qos: this.config.mqtt_qos, retain, evict: false });
    } catch (error) {
      this.platform.logger?.warn(`publish to ${topic} refused: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }
}
