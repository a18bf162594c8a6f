// The ECMA-419 sensor shape the sampler reads: sample() returns the driver's object, e.g. SHT3x {hygrometer:{humidity}, thermometer:{temperature}}.

/** What a driver's sample() returns: nested objects of numbers, as in the SDK's modules/drivers/sensors. */
export interface SensorSample {
  readonly [key: string]: unknown;
}

/**
 * An ECMA-419 sensor instance. SDK drivers are synchronous; a platform may wrap a slow bus in a
 * Promise, which the sampler awaits without blocking the other sensors or the MQTT client.
 * `undefined` means "no data yet" (BME68x before its first measurement) and counts as a failed read.
 */
export interface Sensor {
  sample(): SensorSample | undefined | Promise<SensorSample | undefined>;
  close?(): void;
}

/** Reads `path` ("thermometer.temperature", or "temperature" for TMP117) from a sample; undefined unless a finite number. */
export function readField(sample: SensorSample, path: string): number | undefined {
  let node: unknown = sample;
  let start = 0;
  for (;;) {
    const dot = path.indexOf(".", start);
    const part = dot === -1 ? path.slice(start) : path.slice(start, dot);
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
    if (dot === -1) break;
    start = dot + 1;
  }
  return typeof node === "number" && Number.isFinite(node) ? node : undefined;
}
