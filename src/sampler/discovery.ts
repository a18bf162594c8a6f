// Home Assistant MQTT discovery: one retained config per channel under <ha_prefix>/sensor/<deviceId>_<channel>/config.
import type { Board } from "../boards/schema";
import { driverInfo } from "../sensors/drivers";
import { type DeviceTopics, STATUS_OFFLINE, STATUS_ONLINE } from "../config/device-topics";

export interface DiscoveryMessage {
  readonly topic: string;
  /** JSON text; publish retained. */
  readonly payload: string;
}

/**
 * The telemetry payload is a batch (sampler/payload): a channel's latest value is the sum of its
 * array from index 1 over 10^decimals. Batches of other sensors keep the entity's state.
 */
export function discoveryMessages(board: Board, deviceId: string, topics: DeviceTopics, haPrefix: string): DiscoveryMessage[] {
  const messages: DiscoveryMessage[] = [];
  const device = {
    identifiers: [`xsms_${deviceId}`],
    name: deviceId,
    model: board.name,
    manufacturer: "xs-mqtt-sensor",
  };
  for (const sensor of board.sensors) {
    const driver = driverInfo(sensor.driver);
    for (const channel of sensor.channels) {
      const uniqueId = `${deviceId}_${channel.id}`;
      const column = `value_json.c.${channel.id}`;
      const config: Record<string, unknown> = {
        name: channel.name ?? channel.id,
        unique_id: uniqueId,
        state_topic: topics.telemetry,
        // A batch of another sensor keeps this entity's state (`this` is the entity's own state in MQTT templates);
        // "None" (unknown) rather than a non-numeric state, which a measurement sensor refuses.
        value_template:
          `{% if value_json.n == '${sensor.id}' %}` +
          `{{ ((${column}[1:] | sum) / 10 ** ${column}[0]) | round(${channel.decimals}) }}` +
          `{% elif is_number(this.state) %}{{ this.state }}{% else %}None{% endif %}`,
        unit_of_measurement: channel.unit,
        suggested_display_precision: channel.decimals,
        state_class: "measurement",
        availability_topic: topics.status,
        payload_available: STATUS_ONLINE,
        payload_not_available: STATUS_OFFLINE,
        device,
      };
      const deviceClass = driver?.fields.find((f) => f.path === channel.field)?.deviceClass;
      if (deviceClass) config.device_class = deviceClass;
      messages.push({ topic: `${haPrefix}/sensor/${uniqueId}/config`, payload: JSON.stringify(config) });
    }
  }
  return messages;
}
