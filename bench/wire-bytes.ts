// Bytes on the wire per reading: our telemetry payload (batched and not) beside ESPHome's and Tasmota's schemes, all encoded with our codec.
//
// Counted: every MQTT packet a reading causes in both directions (PUBLISH; at QoS 1 also the PUBACK), with a
// batch's single PUBLISH header and topic shared by its readings. Not counted: TCP/IP/TLS framing, CONNECT and
// keepalive (the same for every scheme on one connection).
import { readFileSync } from "node:fs";
import { encode } from "../src/mqtt/codec";
import { PacketType, type QoS } from "../src/mqtt/constants";
import { encodeUtf8 } from "../src/mqtt/utf8";
import { decodeTelemetry, encodeTelemetry, type BatchReading, type ChannelColumn } from "../src/sampler/payload";
import { deviceTopics } from "../src/config/device-topics";
import { CONFIG_DEFAULTS } from "../src/config/defaults";
import { createSimulatedSensor } from "../src/sensors/simulated";

/** A 10-character node name (ESPHome/Tasmota "topic"), also our device id, so every scheme carries the same name. */
const NODE = "env-a4cf12";
const INTERVAL_MS = 10_000;
const FIRST_SEQ = 120;
const BOOT = 3;
const FIRST_UPTIME_MS = 5_000;
const FIRST_WALL_MS = Date.UTC(2024, 5, 10, 12, 0, 0);

interface Message {
  topic: string;
  payload: Uint8Array;
}

interface Reading {
  uptimeMs: number;
  wallMs: number;
  /** °C, %, Pa. */
  temperature: number;
  humidity: number;
  pressure: number;
}

export interface WireBytesRow {
  case: string;
  scheme: string;
  readings: number;
  publishes: number;
  qos0Bytes: number;
  qos1Bytes: number;
  qos0PerReading: number;
  qos1PerReading: number;
  /** Per-reading bytes as a fraction of ESPHome's for the same readings (QoS 0, QoS 1). */
  vsEsphome0: number;
  vsEsphome1: number;
  seq: boolean;
  timestamps: boolean;
}

/** MQTT bytes both ways for these messages at `qos`: PUBLISH, plus the 4-byte PUBACK at QoS 1. */
function wireBytes(messages: readonly Message[], qos: QoS): number {
  let total = 0;
  messages.forEach((message, i) => {
    total += encode({ type: PacketType.PUBLISH, topic: message.topic, payload: message.payload, qos, retain: false, dup: false, packetId: qos > 0 ? i + 1 : undefined }).length;
    if (qos === 1) total += encode({ type: PacketType.PUBACK, packetId: i + 1 }).length;
  });
  return total;
}

/** The desktop board's first sensor (boards/lin.json): the channel ids and decimals the device really sends. */
function boardChannels(): ChannelColumn[] {
  const board = JSON.parse(readFileSync(new URL("../boards/lin.json", import.meta.url), "utf8")) as {
    sensors: Array<{ channels: Array<{ id: string; decimals: number }> }>;
  };
  return board.sensors[0].channels.map(({ id, decimals }) => ({ id, decimals }));
}

/** `count` readings of the seeded simulated BME68x, 10 s apart. */
function readings(count: number): Reading[] {
  const sensor = createSimulatedSensor("bme68x", 1, "env");
  const out: Reading[] = [];
  for (let k = 0; k < count; k++) {
    const s = sensor.sample() as { thermometer: { temperature: number }; hygrometer: { humidity: number }; barometer: { pressure: number } };
    out.push({
      uptimeMs: FIRST_UPTIME_MS + k * INTERVAL_MS,
      wallMs: FIRST_WALL_MS + k * INTERVAL_MS,
      temperature: s.thermometer.temperature,
      humidity: s.hygrometer.humidity,
      pressure: s.barometer.pressure,
    });
  }
  return out;
}

/** Ours: one PUBLISH per `batch` readings on <prefix>/<id>/telemetry, the columnar payload (sampler/payload). */
function ours(list: readonly Reading[], batch: number): Message[] {
  const topic = deviceTopics(CONFIG_DEFAULTS.prefix, NODE).telemetry;
  const channels = boardChannels();
  const messages: Message[] = [];
  for (let start = 0; start < list.length; start += batch) {
    const part = list.slice(start, start + batch);
    const batchReadings: BatchReading[] = part.map((r) => ({ uptimeMs: r.uptimeMs, values: [r.temperature, r.humidity, r.pressure] }));
    const payload = encodeTelemetry({ sensor: "env", boot: BOOT, firstSeq: FIRST_SEQ + start, wallMs: part[0].wallMs, channels, readings: batchReadings });
    // The bench's claim "seq and timestamps kept" is checked, not assumed.
    const decoded = decodeTelemetry(payload);
    decoded.readings.forEach((reading, k) => {
      if (reading.seq !== FIRST_SEQ + start + k || reading.wallMs !== part[k].wallMs || reading.uptimeMs !== part[k].uptimeMs) {
        throw new Error(`payload lost seq or time of reading ${start + k}`);
      }
    });
    messages.push({ topic, payload });
  }
  return messages;
}

/** ESPHome: one retained-less PUBLISH per sensor on <node>/sensor/<object_id>/state, the value as text (its default accuracy_decimals). */
function esphome(list: readonly Reading[]): Message[] {
  return list.flatMap((r) => [
    { topic: `${NODE}/sensor/temperature/state`, payload: encodeUtf8(r.temperature.toFixed(1)) },
    { topic: `${NODE}/sensor/humidity/state`, payload: encodeUtf8(r.humidity.toFixed(1)) },
    { topic: `${NODE}/sensor/pressure/state`, payload: encodeUtf8((r.pressure / 100).toFixed(1)) },
  ]);
}

/** Tasmota: one JSON per teleperiod on tele/<topic>/SENSOR; `units` adds PressureUnit/TempUnit as Tasmota does by default. */
function tasmota(list: readonly Reading[], units: boolean): Message[] {
  return list.map((r) => {
    const time = new Date(r.wallMs).toISOString().slice(0, 19);
    const bme = `{"Temperature":${r.temperature.toFixed(1)},"Humidity":${r.humidity.toFixed(1)},"Pressure":${(r.pressure / 100).toFixed(1)}}`;
    const json = `{"Time":"${time}","BME280":${bme}${units ? `,"PressureUnit":"hPa","TempUnit":"C"` : ""}}`;
    return { topic: `tele/${NODE}/SENSOR`, payload: encodeUtf8(json) };
  });
}

function rows(caseName: string, count: number): WireBytesRow[] {
  const list = readings(count);
  const schemes: Array<{ scheme: string; messages: Message[]; seq: boolean; timestamps: boolean }> = [
    { scheme: "ESPHome (topic per sensor)", messages: esphome(list), seq: false, timestamps: false },
    { scheme: "Tasmota (tele/…/SENSOR, with units)", messages: tasmota(list, true), seq: false, timestamps: true },
    { scheme: "Tasmota (no unit keys)", messages: tasmota(list, false), seq: false, timestamps: true },
    { scheme: "ours, batching off (batch_max=1)", messages: ours(list, 1), seq: true, timestamps: true },
  ];
  if (count > 1) schemes.push({ scheme: `ours, batched ${count} per PUBLISH`, messages: ours(list, count), seq: true, timestamps: true });
  const esphome0 = wireBytes(schemes[0].messages, 0) / count;
  const esphome1 = wireBytes(schemes[0].messages, 1) / count;
  return schemes.map(({ scheme, messages, seq, timestamps }) => {
    const qos0Bytes = wireBytes(messages, 0);
    const qos1Bytes = wireBytes(messages, 1);
    return {
      case: caseName, scheme, readings: count, publishes: messages.length, qos0Bytes, qos1Bytes,
      qos0PerReading: qos0Bytes / count, qos1PerReading: qos1Bytes / count,
      vsEsphome0: qos0Bytes / count / esphome0, vsEsphome1: qos1Bytes / count / esphome1, seq, timestamps,
    };
  });
}

/** Computes, prints a table, checks the issue's goal (batched ≤ 1/3 of ESPHome per reading) and returns the rows. */
export async function benchWireBytes(): Promise<WireBytesRow[]> {
  const all = [...rows("1 reading", 1), ...rows("10 readings", 10)];
  const pad = (text: string | number, width: number) => String(text).padStart(width);
  console.log(`node/device id "${NODE}", 3 channels (temperature, humidity, pressure), readings ${INTERVAL_MS / 1000} s apart; MQTT bytes both directions`);
  console.log(`${"case".padEnd(12)}${"scheme".padEnd(38)}${pad("PUBLISH", 8)}${pad("QoS0 B", 8)}${pad("QoS1 B", 8)}${pad("B/rdg q0", 10)}${pad("B/rdg q1", 10)}${pad("vs ESPHome", 12)}  seq time`);
  for (const r of all) {
    const ratio = `${(r.vsEsphome0 * 100).toFixed(0)}%/${(r.vsEsphome1 * 100).toFixed(0)}%`;
    console.log(
      `${r.case.padEnd(12)}${r.scheme.padEnd(38)}${pad(r.publishes, 8)}${pad(r.qos0Bytes, 8)}${pad(r.qos1Bytes, 8)}` +
        `${pad(r.qos0PerReading.toFixed(1), 10)}${pad(r.qos1PerReading.toFixed(1), 10)}${pad(ratio, 12)}  ${r.seq ? "yes" : "no "} ${r.timestamps ? "yes" : "no"}`,
    );
  }
  const batched = all.find((r) => r.case === "10 readings" && r.scheme.startsWith("ours, batched"));
  if (batched) {
    const met = batched.vsEsphome0 <= 1 / 3 && batched.vsEsphome1 <= 1 / 3;
    console.log(`goal (batched ≤ 1/3 of ESPHome per reading, seq and time kept): ${met ? "met" : "NOT met"} (${(batched.vsEsphome0 * 100).toFixed(0)}% at QoS 0, ${(batched.vsEsphome1 * 100).toFixed(0)}% at QoS 1)`);
  }
  return all;
}
