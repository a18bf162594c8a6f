// The whole firmware from one place: our MQTT client and the Device, wired together. The Moddable entry (src/main.ts)
// and the Node simulator both build it, so the desktop runs exactly the composition the board runs.
import { MqttClient } from "../mqtt/client";
import type { ClientEvents, Publisher } from "../mqtt/client-api";
import type { RandomSource, TransportFactory } from "../ports";
import { STATUS_OFFLINE } from "../config/device-topics";
import { Device, type DeviceInput, type DevicePlatform } from "./device";
import { repairStoredState } from "./store-recovery";

export interface FirmwarePlatform extends Omit<DevicePlatform, "publisher"> {
  /** Opens a connection to the configured broker (TCP or TLS). */
  transport: TransportFactory;
  random: RandomSource;
  /** Lets a host observe what the device publishes (the Node simulator counts readings per message). */
  decoratePublisher?: (client: Publisher) => Publisher;
}

export class Firmware {
  readonly device: Device;
  readonly client: MqttClient;
  private readonly logger: FirmwarePlatform["logger"];

  /**
   * Parses config and board, opens the session store and the sensors; throws ConfigErrors, BoardError or
   * StorageError (with what to fix) before anything touches the network. `observers` see every client event
   * after the firmware has handled it (the simulator's progress display, the device's log).
   */
  constructor(input: DeviceInput, platform: FirmwarePlatform, observers: ClientEvents = {}) {
    this.logger = platform.logger;
    let client: MqttClient | undefined;
    // Whatever the store holds, the device boots: a record that fails its checks is deleted (said so) before anything is built.
    repairStoredState(platform.store, platform.logger);
    this.device = new Device(input, {
      ...platform,
      publisher: (options) => {
        client = new MqttClient(options, platform, {
          onConnect: (info) => {
            this.device.onConnect();
            observers.onConnect?.(info);
          },
          onDisconnect: (info) => {
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
          onError: observers.onError,
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
