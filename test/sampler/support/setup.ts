// Builds a sampler over a fake clock, a MemoryStore that survives "reboots", simulated sensors and a recording publisher.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Board } from "../../../src/boards/schema";
import { validateBoard } from "../../../src/boards/validate";
import type { FirmwareConfig } from "../../../src/config/defaults";
import { parseConfig } from "../../../src/config/parse";
import type { Sensor } from "../../../src/sensors/sensor";
import { createSimulatedSensor } from "../../../src/sensors/simulated";
import { deviceTopics } from "../../../src/config/device-topics";
import { Sampler } from "../../../src/sampler/sampler";
import { decodeTelemetry, type DecodedReading } from "../../../src/sampler/payload";
import { MemoryStore } from "../../../src/store/memory-store";
import type { SessionStore } from "../../../src/store/session-store";
import { FakeClock } from "../../support/fake-clock";
import { RecordingPublisher } from "./recording-publisher";

export function loadBoard(name: string): Board {
  const file = `boards/${name}.json`;
  return validateBoard(JSON.parse(readFileSync(join(__dirname, "..", "..", "..", file), "utf8")), file);
}

/** The board with channel deadbands removed, so config.deadband applies to every channel. */
export function withoutChannelDeadbands(board: Board): Board {
  return { ...board, sensors: board.sensors.map((s) => ({ ...s, channels: s.channels.map(({ deadband: _, ...c }) => c) })) };
}

export interface Rig {
  clock: FakeClock;
  store: SessionStore;
  flash: Map<string, Uint8Array>;
  publisher: RecordingPublisher;
  sampler: Sampler;
  config: FirmwareConfig;
  board: Board;
  wall: { value: number | undefined };
  warnings: string[];
  infos: string[];
}

export interface RigOptions {
  config?: Record<string, unknown>;
  board?: Board;
  sensors?: { [id: string]: Sensor };
  /** Survives a reboot: pass the previous rig's flash. */
  flash?: Map<string, Uint8Array>;
  wall?: number;
  online?: boolean;
  /** The store the sampler (and a durable publisher) use; default a MemoryStore on `flash`. */
  store?: (flash: Map<string, Uint8Array>) => SessionStore;
  /** Makes the publisher queue telemetry durably in the sampler's store (tagged), as the real client does. */
  durablePublisher?: string;
  pendingMax?: number;
  /** The firmware's QoS 1 mode: telemetry published with stored: false, records deleted on delivered()/droppedByQueue(). */
  telemetryFromRecords?: boolean;
}

export const TOPICS = deviceTopics("xsms", "dev1");

export function makeRig(options: RigOptions = {}): Rig {
  const clock = new FakeClock(1_000);
  const flash = options.flash ?? new Map<string, Uint8Array>();
  const store = options.store ? options.store(flash) : new MemoryStore(flash);
  const publisher = new RecordingPublisher(options.durablePublisher !== undefined ? { store, tag: options.durablePublisher } : undefined);
  const config = parseConfig({ presync_max: 0, ...options.config });
  const board = options.board ?? withoutChannelDeadbands(loadBoard("lin"));
  const sensors: { [id: string]: Sensor } = {};
  for (const s of board.sensors) sensors[s.id] = options.sensors?.[s.id] ?? createSimulatedSensor(s.driver, config.sim_seed, s.id);
  const wall = { value: options.wall };
  const warnings: string[] = [];
  const infos: string[] = [];
  const sampler = new Sampler(
    { clock, store, publisher, wallClock: () => wall.value, logger: { info: (m) => infos.push(m), warn: (m) => warnings.push(m) } },
    {
      config, board, topics: TOPICS, sensors,
      ...(options.pendingMax !== undefined ? { pendingMax: options.pendingMax } : {}),
      ...(options.telemetryFromRecords !== undefined ? { telemetryFromRecords: options.telemetryFromRecords } : {}),
    },
  );
  if (options.online !== false) sampler.setOnline(true);
  return { clock, store, flash, publisher, sampler, config, board, wall, warnings, infos };
}

/** Every reading published on the telemetry topic, decoded. */
export function readings(rig: Rig): DecodedReading[] {
  return rig.publisher.on(TOPICS.telemetry).flatMap((p) => decodeTelemetry(p.payload).readings);
}

/** A sensor whose sample() returns the next queued value object (or throws / returns a promise). */
export class ScriptedSensor implements Sensor {
  readonly queue: (() => unknown)[] = [];
  calls = 0;
  constructor(private readonly fallback: () => unknown) {}
  sample(): ReturnType<Sensor["sample"]> {
    this.calls++;
    const next = this.queue.shift();
    return (next ? next() : this.fallback()) as ReturnType<Sensor["sample"]>;
  }
}

/** A sample of the lin board's env sensor (bme68x): temperature, humidity, pressure. */
export function envSample(t: number, h = 45, p = 101_325): object {
  return { thermometer: { temperature: t }, hygrometer: { humidity: h }, barometer: { pressure: p } };
}

/** An env sensor that always reads 20 °C. */
export function steadySensor(): ScriptedSensor {
  return new ScriptedSensor(() => envSample(20));
}

/** Config: a reading every second, every sample reported, one reading per batch, no heartbeat. */
export const EVERY_SAMPLE = { deadband: "0", batch_max: 1, interval_ms: 1000, heartbeat_s: 0 };

/** Samples of esp32s3's two sensors: sht (t, h) and baro (p). */
export const shtSample = (): object => ({ thermometer: { temperature: 20 }, hygrometer: { humidity: 40 } });
export const baroSample = (): object => ({ barometer: { pressure: 100_000 } });

/** A rig on esp32s3's two sensors (channel deadbands removed), scripted; `config` defaults to EVERY_SAMPLE. */
export function twoSensorRig(sensors: { sht?: ScriptedSensor; baro?: ScriptedSensor }, options: RigOptions = {}): Rig {
  const sht = sensors.sht ?? new ScriptedSensor(shtSample);
  const baro = sensors.baro ?? new ScriptedSensor(baroSample);
  return makeRig({ config: EVERY_SAMPLE, ...options, board: withoutChannelDeadbands(loadBoard("esp32/esp32s3")), sensors: { sht, baro } });
}
