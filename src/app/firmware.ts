// The whole firmware from one place: our MQTT client and the Device, wired together. The Moddable entry (src/main.ts)
// and the Node simulator both build it, so the desktop runs exactly the composition the board runs.
import { MqttClient } from "../mqtt/client";
import type { ClientEvents, Publisher } from "../mqtt/client-api";
import type { Clock, RandomSource, TransportFactory } from "../ports";
import { STATUS_OFFLINE } from "../config/device-topics";
import { Device, type DeviceInput, type DevicePlatform } from "./device";
import { repairStoredState } from "./store-recovery";

export interface FirmwarePlatform extends Omit<DevicePlatform, "publisher"> {
  /** Opens a connection to the configured broker (TCP or TLS). */
  transport: TransportFactory;
  random: RandomSource;
  /** Lets a host observe what the device publishes (the Node simulator counts readings per message). */
  decoratePublisher?: (client: Publisher) => Publisher;
  /** Default true: QoS 1 telemetry is rebuilt from the reading records, not stored again (false: as before, for the bench). */
  telemetryFromRecords?: boolean;
}

/** The broker link as the firmware last saw it (from the client's own events), for the status page. */
export interface LinkStatus {
  /** Monotonic ms of the last connect or disconnect; undefined before the first. */
  changedAt?: number;
  /** Why the last connection ended or failed (the client's reason and error), until the next one succeeds. */
  lastError?: string;
}

export class Firmware {
  readonly device: Device;
  readonly client: MqttClient;
  readonly link: LinkStatus = {};
  /** The monotonic clock the firmware runs on (link.changedAt is on it). */
  readonly clock: Clock;
  private readonly logger: FirmwarePlatform["logger"];

  /**
   * Parses config and board, opens the session store and the sensors; throws ConfigErrors, BoardError or
   * StorageError (with what to fix) before anything touches the network. `observers` see every client event
   * after the firmware has handled it (the simulator's progress display, the device's log).
   */
  constructor(input: DeviceInput, platform: FirmwarePlatform, observers: ClientEvents = {}) {
    this.logger = platform.logger;
    this.clock = platform.clock;
    let client: MqttClient | undefined;
    // Whatever the store holds, the device boots: a record that fails its checks is deleted (said so) before anything is built.
    repairStoredState(platform.store, platform.logger);
    this.device = new Device(input, {
      ...platform,
      // The readings are stored once: QoS 1 telemetry is not stored again inside its message (docs/flash-log.md).
      telemetryFromRecords: platform.telemetryFromRecords ?? true,
      publisher: (options) => {
        client = new MqttClient(options, platform, {
          onConnect: (info) => {
            this.link.changedAt = platform.clock.now();
            this.link.lastError = undefined;
            this.device.onConnect();
            observers.onConnect?.(info);
          },
          onDisconnect: (info) => {
            this.link.changedAt = platform.clock.now();
            this.link.lastError = info.error ? `${info.reason}: ${info.error.message}` : info.reason;
            this.device.onDisconnect();
            observers.onDisconnect?.(info);
          },
          onMessage: observers.onMessage,
          onDelivered: (info) => {
            this.device.onDelivered(info);
            observers.onDelivered?.(info);
          },
          onDropped: (info) => {
            this.device.onDropped(info);
            observers.onDropped?.(info);
          },
          onError: (error) => {
            this.link.lastError = error.message;
            observers.onError?.(error);
          },
        });
        return platform.decoratePublisher ? platform.decoratePublisher(client) : client;
      },
    });
    this.client = client as unknown as MqttClient;
  }

  /** Starts sampling and connecting. Readings taken before the link is up are queued durably. */
  start(): void {
    this.device.start();
    this.client.start();
  }

  /**
   * Clean shutdown: sends what is pending, says "offline" itself (a clean DISCONNECT suppresses the will),
   * waits for every queued message to be acknowledged (bounded by the client's endTimeoutMs), then disconnects.
   */
  stop(onStopped?: () => void): void {
    this.device.stop();
    this.device.sampler.flush();
    try {
      this.client.publish(this.device.topics.status, STATUS_OFFLINE, { qos: this.device.config.mqtt_qos, retain: true });
    } catch (error) {
      // The queue refused it (reject-new policy, full): say so; subscribers still see the will if the end is unclean.
      this.logger?.warn(`offline status not queued: ${(error as Error).message}`);
    }
    this.client.end(onStopped);
  }
}
