// Validates a parsed board file and narrows it to Board, naming the file and field of every problem found.
import { DRIVERS, driverInfo } from "../sensors/drivers";
import { parseDeadband } from "../config/deadband";
import { OUTPUT_PINS, PIN_NAMES, type Board, type BoardChannel, type BoardPins, type BoardSensor } from "./schema";
import { SOCS } from "./soc";

/** One problem in a board file: `field` is a path such as "sensors[1].address". */
export interface BoardProblem {
  readonly field: string;
  readonly message: string;
}

/** A board file failed validation; the message lists every problem as "<file>: <field>: <message>". */
export class BoardError extends Error {
  // A field, not `this.name = ...`: Moddable freezes Error.prototype, so assigning "name" throws there.
  override readonly name: string = "BoardError";
  readonly file: string;
  readonly problems: readonly BoardProblem[];
  constructor(file: string, problems: readonly BoardProblem[]) {
    super(`board file ${file} is invalid:\n` + problems.map((p) => `  ${file}: ${p.field}: ${p.message}`).join("\n"));
    this.file = file;
    this.problems = problems;
  }
}

const TOP_KEYS = ["$comment", "subplatform", "name", "soc", "source", "pins", "led_kind", "sensors"];
const SENSOR_KEYS = ["id", "driver", "bus", "address", "channels"];
const CHANNEL_KEYS = ["id", "field", "unit", "decimals", "deadband", "name"];

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks `data` (the parsed JSON of `file`) and returns it as a Board with addresses as numbers.
 * `file` should be the path relative to the repo ("boards/esp32/nodemcu.json"): its name must match the subplatform.
 */
export function validateBoard(data: unknown, file: string): Board {
  const problems: BoardProblem[] = [];
  const report = (field: string, message: string): void => {
    problems.push({ field, message });
  };
  if (!isObject(data)) throw new BoardError(file, [{ field: "(root)", message: "expected a JSON object" }]);
  unknownKeys(data, TOP_KEYS, "", report);

  const subplatform = requireString(data, "subplatform", "", report);
  if (subplatform !== undefined) {
    if (!/^(lin|esp32\/[a-z0-9_]+)$/.test(subplatform)) report("subplatform", `expected "lin" or "esp32/<target>", got "${subplatform}"`);
    else if (!file.replace(/\\/g, "/").endsWith(`${subplatform}.json`)) report("subplatform", `"${subplatform}" does not match the file name; the file must end in ${subplatform}.json (boards/${subplatform}.json in this repository, any folder for the simulator's --board)`);
  }
  const name = requireString(data, "name", "", report);
  const source = requireString(data, "source", "", report);
  const soc = requireString(data, "soc", "", report);
  const socInfo = soc !== undefined ? SOCS[soc] : undefined;
  if (soc !== undefined && !socInfo) report("soc", `unknown SoC "${soc}"; expected one of ${Object.keys(SOCS).join(", ")}`);
  if (soc !== undefined && subplatform !== undefined && (soc === "host") !== (subplatform === "lin")) {
    report("soc", `"${soc}" does not fit subplatform "${subplatform}" ("host" is for lin only)`);
  }

  const pins: Record<string, number> = {};
  if (!isObject(data.pins)) report("pins", "expected an object of GPIO numbers (use {} when the board has none)");
  else {
    unknownKeys(data.pins, PIN_NAMES, "pins.", report);
    const used = new Map<number, string>();
    for (const pinName of PIN_NAMES) {
      const value = data.pins[pinName];
      if (value === undefined) continue;
      const field = `pins.${pinName}`;
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
        report(field, `expected a GPIO number, got ${JSON.stringify(value)}`);
        continue;
      }
      if (socInfo && value >= socInfo.gpioCount) {
        report(field, socInfo.gpioCount === 0 ? `the ${soc} has no GPIO` : `GPIO ${value} does not exist on the ${soc} (0-${socInfo.gpioCount - 1})`);
        continue;
      }
      if (socInfo && OUTPUT_PINS.indexOf(pinName) !== -1 && socInfo.inputOnly.indexOf(value) !== -1) {
        report(field, `GPIO ${value} is input-only on the ${soc} and cannot drive ${pinName}`);
      }
      const other = used.get(value);
      if (other !== undefined) report(field, `pin conflict: GPIO ${value} is also pins.${other}`);
      else used.set(value, pinName);
      pins[pinName] = value;
    }
    if ((pins.i2c_sda === undefined) !== (pins.i2c_scl === undefined)) report("pins", "i2c_sda and i2c_scl go together");
  }
  if (data.led_kind !== undefined && data.led_kind !== "gpio" && data.led_kind !== "neopixel") {
    report("led_kind", `expected "gpio" or "neopixel", got ${JSON.stringify(data.led_kind)}`);
  }
  if (data.led_kind !== undefined && pins.led === undefined) report("led_kind", "given without pins.led");

  const sensors: BoardSensor[] = [];
  if (!Array.isArray(data.sensors)) report("sensors", "expected an array of sensors");
  else {
    const sensorIds = new Set<string>();
    const channelIds = new Map<string, string>();
    const addresses = new Map<number, string>();
    data.sensors.forEach((raw, index) => {
      const at = `sensors[${index}]`;
      const sensor = checkSensor(raw, at, soc, pins, report);
      if (!sensor) return;
      if (sensorIds.has(sensor.id)) report(`${at}.id`, `duplicate sensor id "${sensor.id}"`);
      sensorIds.add(sensor.id);
      if (sensor.address !== undefined) {
        const other = addresses.get(sensor.address);
        if (other !== undefined) report(`${at}.address`, `address conflict: 0x${sensor.address.toString(16)} is also used by ${other} on the same I2C bus`);
        else addresses.set(sensor.address, at);
      }
      sensor.channels.forEach((channel, c) => {
        const other = channelIds.get(channel.id);
        if (other !== undefined) report(`${at}.channels[${c}].id`, `duplicate channel id "${channel.id}" (also ${other})`);
        else channelIds.set(channel.id, `${at}.channels[${c}]`);
      });
      sensors.push(sensor);
    });
  }

  if (problems.length > 0) throw new BoardError(file, problems);
  const board: Board = {
    subplatform: subplatform as string,
    name: name as string,
    soc: soc as string,
    source: source as string,
    pins: pins as BoardPins,
    sensors,
  };
  return data.led_kind === undefined ? board : { ...board, led_kind: data.led_kind as "gpio" | "neopixel" };
}

function checkSensor(raw: unknown, at: string, soc: string | undefined, pins: Record<string, number>, report: (f: string, m: string) => void): BoardSensor | undefined {
  if (!isObject(raw)) {
    report(at, "expected a sensor object");
    return undefined;
  }
  unknownKeys(raw, SENSOR_KEYS, `${at}.`, report);
  const id = requireString(raw, "id", `${at}.`, report);
  if (id !== undefined && !/^[a-z0-9_]{1,16}$/.test(id)) report(`${at}.id`, `expected 1-16 of a-z, 0-9, _; got "${id}"`);
  const driverName = requireString(raw, "driver", `${at}.`, report);
  const driver = driverName !== undefined ? driverInfo(driverName) : undefined;
  if (driverName !== undefined && !driver) {
    report(`${at}.driver`, `unknown sensor driver "${driverName}"; known: ${Object.keys(DRIVERS).join(", ")}`);
  }
  const bus = requireString(raw, "bus", `${at}.`, report);
  let address: number | undefined;
  if (bus !== undefined) {
    if (bus !== "i2c" && bus !== "analog" && bus !== "sim") report(`${at}.bus`, `expected "i2c", "analog" or "sim", got "${bus}"`);
    else if (bus === "sim" && soc !== undefined && soc !== "host") report(`${at}.bus`, `"sim" sensors belong on the desktop board (soc "host") only`);
    else if (bus !== "sim" && soc === "host") report(`${at}.bus`, `the desktop has no ${bus} bus; use "sim"`);
    else if (driver && bus !== "sim" && bus !== driver.bus) report(`${at}.bus`, `driver ${driverName} is on the ${driver.bus} bus, not ${bus}`);
    else if (bus === "i2c" && pins.i2c_sda === undefined && soc !== undefined) report(`${at}.bus`, "i2c sensor on a board without pins.i2c_sda/i2c_scl");
    else if (bus === "analog" && pins.analog === undefined && soc !== undefined) report(`${at}.bus`, "analog sensor on a board without pins.analog");
  }
  if (bus === "i2c") {
    address = parseAddress(raw.address);
    if (address === undefined) report(`${at}.address`, `expected a 7-bit I2C address such as "0x44", got ${JSON.stringify(raw.address)}`);
    else if (driver && driver.addresses.indexOf(address) === -1) {
      report(`${at}.address`, `${driverName} answers only at ${driver.addresses.map((a) => `0x${a.toString(16)}`).join(" or ")}, not 0x${address.toString(16)}`);
    }
  } else if (raw.address !== undefined) report(`${at}.address`, `only i2c sensors have an address (bus is ${String(bus)})`);

  const channels: BoardChannel[] = [];
  if (!Array.isArray(raw.channels) || raw.channels.length === 0) report(`${at}.channels`, "expected a non-empty array of channels");
  else {
    raw.channels.forEach((c, i) => {
      const channel = checkChannel(c, `${at}.channels[${i}]`, driverName, driver?.fields, report);
      if (channel) channels.push(channel);
    });
  }
  if (id === undefined || driverName === undefined || bus === undefined) return undefined;
  const sensor: BoardSensor = { id, driver: driverName, bus: bus as BoardSensor["bus"], channels };
  return address === undefined ? sensor : { ...sensor, address };
}

function checkChannel(
  raw: unknown,
  at: string,
  driverName: string | undefined,
  fields: readonly { path: string; unit: string }[] | undefined,
  report: (f: string, m: string) => void,
): BoardChannel | undefined {
  if (!isObject(raw)) {
    report(at, "expected a channel object");
    return undefined;
  }
  unknownKeys(raw, CHANNEL_KEYS, `${at}.`, report);
  const id = requireString(raw, "id", `${at}.`, report);
  if (id !== undefined && !/^[a-z0-9_]{1,8}$/.test(id)) report(`${at}.id`, `expected 1-8 of a-z, 0-9, _; got "${id}"`);
  const field = requireString(raw, "field", `${at}.`, report);
  const unit = requireString(raw, "unit", `${at}.`, report);
  const known = fields && field !== undefined ? fields.find((f) => f.path === field) : undefined;
  if (fields && field !== undefined && !known) {
    report(`${at}.field`, `${driverName}'s sample() has no "${field}"; it has ${fields.map((f) => f.path).join(", ")}`);
  }
  if (known && unit !== undefined && unit !== known.unit) report(`${at}.unit`, `${driverName} reports ${field} in ${known.unit}, not ${unit}`);
  const decimals = raw.decimals;
  if (typeof decimals !== "number" || !Number.isInteger(decimals) || decimals < 0 || decimals > 6) {
    report(`${at}.decimals`, `expected an integer from 0 to 6, got ${JSON.stringify(decimals)}`);
  }
  if (raw.deadband !== undefined) {
    const parsed = typeof raw.deadband === "string" ? parseDeadband(raw.deadband) : "expected a string such as \"0.1\" or \"1%\"";
    if (typeof parsed === "string") report(`${at}.deadband`, parsed);
  }
  if (raw.name !== undefined && typeof raw.name !== "string") report(`${at}.name`, "expected a string");
  if (id === undefined || field === undefined || unit === undefined || typeof decimals !== "number") return undefined;
  const channel: { -readonly [K in keyof BoardChannel]: BoardChannel[K] } = { id, field, unit, decimals };
  if (typeof raw.deadband === "string") channel.deadband = raw.deadband;
  if (typeof raw.name === "string") channel.name = raw.name;
  return channel;
}

function parseAddress(value: unknown): number | undefined {
  let n: number | undefined;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && /^0x[0-9a-fA-F]{1,2}$/.test(value)) n = parseInt(value.slice(2), 16);
  // 7-bit addresses outside the reserved blocks 0x00-0x07 and 0x78-0x7F.
  return n !== undefined && Number.isInteger(n) && n >= 0x08 && n <= 0x77 ? n : undefined;
}

function requireString(obj: Json, key: string, prefix: string, report: (f: string, m: string) => void): string | undefined {
  const value = obj[key];
  if (typeof value === "string" && value.length > 0) return value;
  report(`${prefix}${key}`, value === undefined ? "missing" : `expected a non-empty string, got ${JSON.stringify(value)}`);
  return undefined;
}

function unknownKeys(obj: Json, known: readonly string[], prefix: string, report: (f: string, m: string) => void): void {
  for (const key of Object.keys(obj)) {
    if (known.indexOf(key) === -1) report(`${prefix}${key}`, `unknown field; expected one of ${known.join(", ")}`);
  }
}
