// The board file (boards/<subplatform>.json): which Moddable subplatform it is, its pins, and the sensors attached.
import type { SensorBus } from "../sensors/drivers";

/** Pins the firmware uses; each is a GPIO number of the board's SoC. Absent when the board has none. */
export interface BoardPins {
  readonly i2c_sda?: number;
  readonly i2c_scl?: number;
  /** Status LED; `led_kind` says how to drive it. */
  readonly led?: number;
  readonly button?: number;
  /** ADC input for analog sensors. */
  readonly analog?: number;
  /** One-wire data line. */
  readonly onewire?: number;
}

export const PIN_NAMES: readonly (keyof BoardPins)[] = ["i2c_sda", "i2c_scl", "led", "button", "analog", "onewire"];

/** Pins that must be able to drive an output. */
export const OUTPUT_PINS: readonly (keyof BoardPins)[] = ["i2c_sda", "i2c_scl", "led", "onewire"];

export interface BoardChannel {
  /** Short id used in the payload and in Home Assistant unique ids: [a-z0-9_]{1,8}, unique on the board. */
  readonly id: string;
  /** Path into the driver's sample() object, e.g. "thermometer.temperature". */
  readonly field: string;
  /** The driver's unit for that field (checked against the driver table). */
  readonly unit: string;
  /** Decimal places kept in the payload (values are sent as scaled integers). */
  readonly decimals: number;
  /** Deadband for this channel ("0.1" or "1%"); the config's `deadband` when absent. */
  readonly deadband?: string;
  /** Friendly name for Home Assistant. */
  readonly name?: string;
}

export interface BoardSensor {
  /** Sensor id, unique on the board: [a-z0-9_]{1,16}. */
  readonly id: string;
  /** SDK driver directory name under modules/drivers/sensors (see sensors/drivers). */
  readonly driver: string;
  readonly bus: SensorBus;
  /** I2C address; absent for analog and simulated sensors. */
  readonly address?: number;
  readonly channels: readonly BoardChannel[];
}

export interface Board {
  /** Moddable subplatform: "esp32/nodemcu", or "lin" for the desktop simulator. */
  readonly subplatform: string;
  readonly name: string;
  /** Key of SOCS. */
  readonly soc: string;
  /** Where the pins were taken from (SDK commit and files, vendor pinout). */
  readonly source: string;
  readonly pins: BoardPins;
  readonly led_kind?: "gpio" | "neopixel";
  readonly sensors: readonly BoardSensor[];
}
