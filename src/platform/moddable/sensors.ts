// Builds the board's sensors on Moddable: the SDK's ECMA-419 drivers on I2C or analog pins from the board file, or the simulated ones on the desktop.
import Modules from "modules";
import type { Board, BoardSensor } from "../../boards/schema";
import { driverInfo } from "../../sensors/drivers";
import type { Sensor } from "../../sensors/sensor";
import { createSimulatedSensor } from "../../sensors/simulated";

export interface BoardSensorInstance {
  readonly id: string;
  readonly sensor: Sensor;
}

/** The ECMA-419 sensor constructor shape: `new Driver({sensor: {io, ...pins, address}})`. */
type SensorConstructor = new (options: { sensor: Record<string, unknown>; onError?: (message: string) => void }) => Sensor;
type IoConstructor = new (options: Record<string, unknown>) => unknown;

/** A module the manifest was supposed to include, by specifier; names the manifest entry when it is missing. */
function requireModule<T>(specifier: string, why: string): T {
  if (!Modules.has(specifier)) {
    throw new Error(`module "${specifier}" is not in this build (${why}); add its manifest to this board's platforms entry in manifest.json`);
  }
  return Modules.importNow(specifier) as T;
}

/**
 * One instance per sensor in the board file. The driver modules are looked up by the specifier the SDK's
 * driver manifest maps (sensors/drivers), so adding a sensor to a board needs only its manifest include.
 * A sensor whose constructor throws (not wired, wrong address) is reported and left out: the device still
 * publishes the others and its status.
 */
export function createBoardSensors(board: Board, seed: number, onError: (sensorId: string, error: Error) => void): BoardSensorInstance[] {
  const out: BoardSensorInstance[] = [];
  for (const spec of board.sensors) {
    try {
      out.push({ id: spec.id, sensor: createSensor(board, spec, seed, onError) });
    } catch (error) {
      onError(spec.id, error instanceof Error ? error : new Error(String(error)));
    }
  }
  return out;
}

function createSensor(board: Board, spec: BoardSensor, seed: number, onError: (sensorId: string, error: Error) => void): Sensor {
  if (spec.bus === "sim") return createSimulatedSensor(spec.driver, seed, spec.id);
  const info = driverInfo(spec.driver);
  if (info === undefined) throw new Error(`unknown sensor driver "${spec.driver}"`);
  const Driver = requireModule<SensorConstructor>(info.module, `driver ${spec.driver}`);
  const report = (message: string) => onError(spec.id, new Error(`${spec.driver}: ${message}`));
  if (spec.bus === "i2c") {
    const I2C = requireModule<IoConstructor>("embedded:io/i2c", "ECMA-419 I2C");
    return new Driver({
      sensor: { io: I2C, data: board.pins.i2c_sda, clock: board.pins.i2c_scl, address: spec.address },
      onError: report,
    });
  }
  const Analog = requireModule<IoConstructor>("embedded:io/analog", "ECMA-419 analog input");
  return new Driver({ sensor: { io: Analog, pin: board.pins.analog }, onError: report });
}
