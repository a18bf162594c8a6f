// Firmware entry on Moddable: reads mc/config, validates it, builds the platform and runs the device.
import config from "mc/config";
import { clientOptionsFromConfig } from "config/client-options";
import { parseConfig } from "config/parse";
import { MqttClient } from "mqtt/client";
import { readField } from "sensors/sensor";
import { deviceTopics, STATUS_ONLINE } from "sampler/device-topics";
import { createModdablePlatform, traceLogger } from "platform/moddable/platform";

/**
 * mc/config also carries keys the SDK's own manifests set: objects (`file`, `tls`) and, on the desktop, the
 * screen `format`. Those are left out; every other key goes to the parser, so a mistyped key is still reported.
 */
const SDK_SCALAR_KEYS: readonly string[] = ["format"];

function firmwareKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    if (typeof value === "object" || SDK_SCALAR_KEYS.indexOf(key) !== -1) continue;
    out[key] = value;
  }
  return out;
}

function main(): void {
  const settings = parseConfig(firmwareKeys(config as Record<string, unknown>));
  const platform = createModdablePlatform(settings, {
    onTimeSynced: (unixMs) => traceLogger.info(`wall clock set: ${new Date(unixMs).toISOString()}`),
    // The client retries on its own after a loss; it only needs the network once to begin.
    onNetworkUp: () => client.start(),
  });
  const topics = deviceTopics(settings.prefix, platform.deviceId);
  traceLogger.info(`device ${platform.deviceId} on ${platform.board.name}: broker ${settings.mqtt_host}, ${platform.sensors.length} sensor(s)`);

  const client = new MqttClient(
    clientOptionsFromConfig(settings, platform.deviceId),
    { transport: platform.transport, clock: platform.clock, store: platform.store, random: platform.random, logger: platform.logger },
    {
      onConnect: ({ sessionPresent }) => {
        traceLogger.info(`MQTT connected (session present: ${sessionPresent})`);
        client.publish(topics.status, STATUS_ONLINE, { qos: settings.mqtt_qos, retain: true });
      },
      onDisconnect: ({ reason, willReconnectInMs }) => traceLogger.warn(`MQTT disconnected: ${reason}; retry in ${willReconnectInMs ?? "-"} ms`),
      onError: (error) => traceLogger.warn(`MQTT: ${error.message}`),
    },
  );

  let seq = 0;
  const sample = () => {
    for (const { id, sensor } of platform.sensors) {
      const reading = sensor.sample();
      if (reading === undefined || reading instanceof Promise) continue;
      const values: Record<string, number | undefined> = {};
      for (const spec of platform.board.sensors) {
        if (spec.id !== id) continue;
        for (const channel of spec.channels) values[channel.id] = readField(reading, channel.field);
      }
      client.publish(topics.telemetry, JSON.stringify({ seq: seq++, sensor: id, t: platform.wallClock.now(), up: platform.clock.now(), ...values }), { qos: settings.mqtt_qos });
    }
    platform.clock.setTimeout(sample, settings.interval_ms);
  };

  platform.network.start();
  sample();
}

try {
  main();
} catch (error) {
  // A bad config key, board file or corrupt store stops the device here with the message that says what to fix.
  trace(`fatal: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
}
