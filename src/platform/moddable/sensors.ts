// Opens one board sensor on Moddable: the SDK's ECMA-419 driver on the board file's I2C or analog pins, or the simulated one on the desktop.
import Modules from "modules";
import type { Board, BoardSensor } from "../../boards/schema";
import type { FirmwareConfig } from "../../config/defaults";
import { driverInfo } from "../../sensors/drivers";
import type { Sensor, SensorSample } from "../../sensors/sensor";
import { createSimulatedSensor } from "../../sensors/simulated";
import type { Logger } from "../../ports";

/** The ECMA-419 sensor constructor shape: `new Driver({sensor: {io, ...pins, address}, onError})`. */
type SensorConstructor = new (options: { sensor: Record<string, unknown>; onError?: (message: string) => void }) => Sensor;
type IoConstructor = new (options: Record<string, unknown>) => unknown;

/** A module the manifest was supposed to include, by specifier; names the manifest entry when it is missing. */
function requireModule<T>(specifier: string, why: string): T {
  if (!Modules.has(specifier)) {
    throw new Error(`module "${specifier}" is not in this build (${why}): add its manifest to this board's platforms entry in manifest.json`);
  }
  return Modules.importNow(specifier) as T;
}

function openDriver(spec: BoardSensor, board: Board, logger: Logger | undefined): Sensor {
  const info = driverInfo(spec.driver);
  if (info === undefined) throw new Error(`unknown sensor driver "${spec.driver}"`);
  const Driver = requireModule<SensorConstructor>(info.module, `driver ${spec.driver}`);
  const onError = (message: string) => logger?.warn(`sensor ${spec.id} (${spec.driver}): ${message}`);
  if (spec.bus === "i2c") {
    const I2C = requireModule<IoConstructor>("embedded:io/i2c", "ECMA-419 I2C");
    return new Driver({ sensor: { io: I2C, data: board.pins.i2c_sda, clock: board.pins.i2c_scl, address: spec.address }, onError });
  }
  const Analog = requireModule<IoConstructor>("embedded:io/analog", "ECMA-419 analog input");
  return new Driver({ sensor: { io: Analog, pin: board.pins.analog }, onError });
}

/**
 * A driver whose constructor failed (nothing answers at the address: unplugged, miswired) is retried at each
 * sample, which reads as "no data" until it succeeds; the device keeps publishing its other sensors and its health.
 * A driver that throws from sample() is closed and reopened the same way.
 */
class RetryingSensor implements Sensor {
  #sensor: Sensor | undefined;
  #lastError = "";

  constructor(private readonly open: () => Sensor, private readonly label: string, private readonly logger: Logger | undefined) {
    this.#sensor = this.#tryOpen();
  }

  sample(): SensorSample | undefined {
    const sensor = this.#sensor ?? (this.#sensor = this.#tryOpen());
    if (sensor === undefined) return undefined;
    try {
      return sensor.sample() as SensorSample | undefined;
    } catch (error) {
      this.#report(error);
      this.close();
      return undefined;
    }
  }

  close(): void {
    const sensor = this.#sensor;
    this.#sensor = undefined;
    try {
      sensor?.close?.();
    } catch (error) {
      this.#report(error);
    }
  }

  #tryOpen(): Sensor | undefined {
    try {
      const sensor = this.open();
      if (this.#lastError !== "") this.logger?.info(`sensor ${this.label}: working again`);
      this.#lastError = "";
      return sensor;
    } catch (error) {
      this.#report(error);
      return undefined;
    }
  }

  /** Logs a failure once until it changes, so a missing sensor does not flood the console every interval. */
  #report(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (message !== this.#lastError) this.logger?.warn(`sensor ${this.label}: ${message}`);
    this.#lastError = message;
  }
}

/** DevicePlatform.createSensor on Moddable. */
export function createModdableSensor(spec: BoardSensor, board: Board, config: FirmwareConfig, boot: number, logger?: Logger): Sensor {
  if (spec.bus === "sim") return createSimulatedSensor(spec.driver, config.sim_seed, spec.id, boot);
  return new RetryingSensor(() => openDriver(spec, board, logger), `${spec.id} (${spec.driver})`, logger);
}
