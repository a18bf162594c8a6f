// Maps the firmware config to the MQTT client's options: client id, keep-alive, credentials and the "offline" will.
import type { ClientOptions } from "../mqtt/client-api";
import { deviceTopics, STATUS_OFFLINE } from "./device-topics";
import type { FirmwareConfig } from "./defaults";

/**
 * `deviceId` is config.device_id, or the platform's id (MAC) when that is empty.
 * The session is persistent (cleanSession false) so queued QoS 1/2 telemetry survives a reconnect;
 * the will is a retained "offline" on the status topic, matching the retained "online" birth.
 */
export function clientOptionsFromConfig(config: FirmwareConfig, deviceId: string): ClientOptions {
  const options: ClientOptions = {
    clientId: deviceId,
    cleanSession: false,
    keepAliveSeconds: config.mqtt_keepalive,
    queueMaxMessages: config.queue_max,
    maxPacketSize: config.mqtt_max_packet,
    will: {
      topic: deviceTopics(config.prefix, deviceId).status,
      payload: STATUS_OFFLINE,
      qos: config.mqtt_qos,
      retain: true,
    },
  };
  if (config.mqtt_user !== "") options.username = config.mqtt_user;
  if (config.mqtt_password !== "") options.password = config.mqtt_password;
  return options;
}
