// Simulated sensors with the SDK drivers' sample() shapes, for mcsim (no I2C on the desktop) and the Node simulator.
// Values follow a slow mean-reverting random walk from a seed, so deadband filtering sees both small and large changes.
import type { RandomSource } from "../ports";
import { DRIVERS, driverInfo } from "./drivers";
import { deriveSeed, seededRandom } from "./prng";
import type { Sensor, SensorSample } from "./sensor";

/** A quantity that wanders around `mean` by at most about `step` per sample and stays within [min, max]. */
interface Walk {
  readonly mean: number;
  readonly step: number;
  readonly min: number;
  readonly max: number;
}

/** Plausible indoor values per field path; unknown paths (IMU axes) wander around 0. */
const WALKS: { readonly [path: string]: Walk } = {
  "thermometer.temperature": { mean: 21.5, step: 0.05, min: -10, max: 45 },
  temperature: { mean: 21.5, step: 0.05, min: -10, max: 45 },
  "hygrometer.humidity": { mean: 45, step: 0.2, min: 5, max: 95 },
  "barometer.pressure": { mean: 101_325, step: 4, min: 95_000, max: 106_000 },
};
const AXIS_WALK: Walk = { mean: 0, step: 0.01, min: -2, max: 2 };

class SimulatedSensor implements Sensor {
  private readonly random: RandomSource;
  private readonly paths: readonly string[];
  private readonly values: number[];

  constructor(driver: string, seed: number) {
    const info = driverInfo(driver);
    if (!info) throw new Error(`no simulated sensor for driver "${driver}"; known: ${Object.keys(DRIVERS).join(", ")}`);
    this.random = seededRandom(seed);
    this.paths = info.fields.map((f) => f.path);
    this.values = this.paths.map((path) => {
      const walk = walkFor(path);
      return walk.mean + (this.random() - 0.5) * walk.step * 20;
    });
  }

  sample(): SensorSample {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < this.paths.length; i++) {
      const walk = walkFor(this.paths[i]);
      // Random step plus a 2% pull back to the mean: drifts for a while, never runs away.
      const next = this.values[i] + (this.random() * 2 - 1) * walk.step + (walk.mean - this.values[i]) * 0.02;
      this.values[i] = Math.min(walk.max, Math.max(walk.min, next));
      setPath(out, this.paths[i], this.values[i]);
    }
    return out;
  }
}

function walkFor(path: string): Walk {
  return Object.prototype.hasOwnProperty.call(WALKS, path) ? WALKS[path] : AXIS_WALK;
}

function setPath(target: Record<string, unknown>, path: string, value: number): void {
  const dot = path.indexOf(".");
  if (dot === -1) {
    target[path] = value;
    return;
  }
  const group = path.slice(0, dot);
  const inner = (target[group] ??= {}) as Record<string, unknown>;
  setPath(inner, path.slice(dot + 1), value);
}

/**
 * A simulated `driver` sensor; sensors with the same seed, id and boot produce the same series. Each boot
 * (the device's boot counter) gets its own stream, so the first reading after a reboot is not a repeat of the
 * first boot's; boot 1 (and a caller that gives none) keeps the series of the seed and id alone.
 */
export function createSimulatedSensor(driver: string, seed: number, sensorId = driver, boot = 1): Sensor {
  return new SimulatedSensor(driver, deriveSeed(seed, boot <= 1 ? sensorId : `${sensorId}#${boot}`));
}
