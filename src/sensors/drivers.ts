// The SDK's ECMA-419 sensor drivers a board file may name, with the shape of their sample() (read from the SDK sources).
// Source: Moddable SDK modules/drivers/sensors/<driver>/<driver>.js, sample() and the constructor's default address.

export type SensorBus = "i2c" | "analog" | "sim";

export interface DriverField {
  /** Path into sample()'s object. */
  readonly path: string;
  /** Unit of the value the driver returns (the ECMA-419 sensor class's unit). */
  readonly unit: string;
  /** Home Assistant device_class, when there is one. */
  readonly deviceClass?: string;
}

export interface DriverInfo {
  /** The module specifier the driver's manifest maps (embedded:sensor/...). */
  readonly module: string;
  /** The manifest to include from the SDK. */
  readonly manifest: string;
  readonly bus: "i2c" | "analog";
  /** Addresses the part can be strapped to; the first is the driver's default. */
  readonly addresses: readonly number[];
  readonly fields: readonly DriverField[];
}

const TEMPERATURE: DriverField = { path: "thermometer.temperature", unit: "°C", deviceClass: "temperature" };
const HUMIDITY: DriverField = { path: "hygrometer.humidity", unit: "%", deviceClass: "humidity" };
const PRESSURE: DriverField = { path: "barometer.pressure", unit: "Pa", deviceClass: "pressure" };

function axes(group: string, unit: string): DriverField[] {
  return ["x", "y", "z"].map((axis) => ({ path: `${group}.${axis}`, unit }));
}

export const DRIVERS: { readonly [name: string]: DriverInfo } = Object.freeze({
  sht3x: {
    module: "embedded:sensor/Humidity-Temperature/SHT3x",
    manifest: "$(MODULES)/drivers/sensors/sht3x/manifest.json",
    bus: "i2c",
    addresses: [0x44, 0x45],
    fields: [TEMPERATURE, HUMIDITY],
  },
  shtc3: {
    module: "embedded:sensor/Humidity-Temperature/SHTC3",
    manifest: "$(MODULES)/drivers/sensors/shtc3/manifest.json",
    bus: "i2c",
    addresses: [0x70],
    fields: [TEMPERATURE, HUMIDITY],
  },
  aht10: {
    module: "embedded:sensor/Humidity-Temperature/AHT10",
    manifest: "$(MODULES)/drivers/sensors/aht10/manifest.json",
    bus: "i2c",
    addresses: [0x38, 0x39],
    fields: [TEMPERATURE, HUMIDITY],
  },
  bmp280: {
    module: "embedded:sensor/Barometer-Temperature/BMP280",
    manifest: "$(MODULES)/drivers/sensors/bmp280/manifest.json",
    bus: "i2c",
    addresses: [0x76, 0x77],
    fields: [PRESSURE, TEMPERATURE],
  },
  bme68x: {
    module: "embedded:sensor/Barometer-Humidity-Temperature/BME68x",
    manifest: "$(MODULES)/drivers/sensors/bme68x/manifest.json",
    bus: "i2c",
    addresses: [0x77, 0x76],
    fields: [TEMPERATURE, HUMIDITY, PRESSURE],
  },
  tmp117: {
    module: "embedded:sensor/Temperature/TMP117",
    manifest: "$(MODULES)/drivers/sensors/tmp117/manifest.json",
    bus: "i2c",
    addresses: [0x48, 0x49, 0x4a, 0x4b],
    fields: [{ path: "temperature", unit: "°C", deviceClass: "temperature" }],
  },
  mpu6886: {
    module: "embedded:sensor/Accelerometer-Gyroscope/MPU6886",
    manifest: "$(MODULES)/drivers/sensors/mpu6886/manifest.json",
    bus: "i2c",
    addresses: [0x68],
    fields: [...axes("accelerometer", "g"), ...axes("gyroscope", "°/s"), TEMPERATURE],
  },
  ntcThermistor: {
    module: "embedded:sensor/Temperature/NTC_Thermistor",
    manifest: "$(MODULES)/drivers/sensors/ntcThermistor/manifest.json",
    bus: "analog",
    addresses: [],
    fields: [{ path: "temperature", unit: "°C", deviceClass: "temperature" }],
  },
});

export function driverInfo(name: string): DriverInfo | undefined {
  return Object.prototype.hasOwnProperty.call(DRIVERS, name) ? DRIVERS[name] : undefined;
}
