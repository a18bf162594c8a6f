// The simulator's command line: parses argv and the --config file into the firmware's flat config keys plus the simulator's own options.
import { closest } from "../../../config/closest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { CONFIG_DEFAULTS, type ConfigKey, type FirmwareConfig } from "../../../config/defaults";
import { ConfigErrors, firmwareKeys, parseConfig } from "../../../config/parse";

export const HELP = `xs-mqtt-sim: the sensor firmware's core (config, simulated sensors, sampler, MQTT client, session store) on Node.

Usage: npm run sim -- [options]        (or: npx xs-mqtt-sim [options])

Broker
  --broker URL          mqtt://[user@]host[:port] or mqtts://... (port defaults to 1883 / 8883).
                        Without it (and without mqtt_host in --config) an embedded broker starts on
                        127.0.0.1:1883 (any free port when 1883 is taken) and every message it carries
                        is printed, with mosquitto_sub/mosquitto_pub lines to paste.
  --password-file FILE  Broker password: the first line of FILE (or set XS_MQTT_SIM_PASSWORD), so it
                        is not on the command line, where ps shows it. The user comes from the URL.
  --ca FILE             PEM CA certificate to trust for mqtts:// (instead of the system's).
Device
  --device-id ID        Client id and topic level (default sim-1; a fleet uses ID-001, ID-002, ...,
                        with ID sim by default).
  --prefix P            First topic level(s) (default xsms): P/ID/telemetry, P/ID/status, P/ID/cmd/...
  --interval-ms N       Sampling interval, 100..86400000 ms (default 1000 in the simulator).
  --qos 0|1|2           QoS of telemetry and status (default 1).
  --seed N              Seed of the simulated sensors (default 1; device k of a fleet uses N+k-1).
  --board FILE          Board file to simulate (the boards/*.json schema, named after its subplatform, e.g.
                        my/esp32/nodemcu.json) instead of boards/<board>.json (config key board, default
                        lin); every sensor in it is simulated with its driver's sample() shape.
  --every-sample        Every sample is a reading: deadband 0 on every channel, over the board's
                        per-channel deadbands and the config key deadband.
  --config FILE|JSON    JSON object of the firmware's config keys, in a file or inline ('{"batch_max":5}').
                        A manifest.json's "config" also works: its lin platform's keys apply, and its
                        broker keys are the firmware defaults, so the embedded broker still starts.
                        Command-line options override it.
  --data-dir DIR        Persistent session, queue, seq counter and settings (default .sim-data/ID).
                        A second run on the same dir resumes them. A fleet keeps one dir per device in DIR
                        (default .sim-data).
  --reset-settings      Forget the settings stored in the data dir by cmd/interval, cmd/deadband and
                        cmd/heartbeat, so the options, --config and the board apply again.
Run
  --samples N           Take N readings (published readings, each with its own seq), then exit 0 once
                        they and everything queued in the data dir from earlier runs are delivered.
  --deadline-ms N       With --samples: exit 1 if not done by then (default 60000 + 3 x N x the time a
                        reading may take with the settings in effect: the interval, or with a deadband
                        the heartbeat plus an interval).
  --devices N           A fleet of N devices in one process (1..2000).
Faults
  --drop-link-every MS  Cut every device's TCP connection every MS ms (the client reconnects).
  --reboot-every MS     Every MS ms, throw away each device's memory without a clean shutdown and boot
                        again from its data dir.
Status page
  --no-web              Serve no status page. By default each device serves one on a free 127.0.0.1 port,
                        printed at start as "status page: http://127.0.0.1:PORT/" (a fleet prints the first
                        3 and writes every address to DIR/status-pages.txt). Config web_password allows
                        settings changes from it.
Output
  --json                One JSON event per line on stdout (see README) instead of text.
  --help                This text.

Without --samples the simulator runs until Ctrl-C (a clean stop: pending readings are sent first), or
until the reader of its output goes away (| head). Settings changed by command (cmd/interval,
cmd/deadband, cmd/heartbeat) are kept in the data dir and win over --interval-ms, --config and the
board on later runs; the boot line names them, and --reset-settings forgets them.
Exit codes: 0 done, 1 deadline missed or runtime failure, 2 bad option or config.
Simulator defaults that differ from the firmware's: interval_ms 1000, batch_window_ms 0, heartbeat_s 2,
health_s 60, device_id sim-1, board lin. Every other key of --config (batch_max, heartbeat_s, deadband, queue_max,
mqtt_keepalive, ha_discovery, ...) means what it means on the device.`;

/** A bad command-line option or config file value; `option` is what the user typed ("--qos", "config file x.json: mqtt_qos"). */
export class UsageError extends Error {
  // A field, not `this.name = ...`: Moddable freezes Error.prototype, so assigning "name" throws there.
  override readonly name: string = "UsageError";
  readonly option: string;
  /** `bare`: the message already names what is wrong (several options at once) and is not prefixed with `option`. */
  constructor(option: string, message: string, bare = false) {
    super(bare ? message : `${option}: ${message}`);
    this.option = option;
  }
}

/** The environment variable that may hold the broker password (see --password-file). */
export const PASSWORD_ENV = "XS_MQTT_SIM_PASSWORD";

export interface BrokerTarget {
  host: string;
  port: number;
  tls: boolean;
  ca?: string;
}

export interface SimOptions {
  help: boolean;
  json: boolean;
  /** Raw flat config keys (sim defaults < config file < command line), parsed per device. */
  configRaw: Record<string, unknown>;
  /** The parsed config of the first device (validated here so errors come before anything starts). */
  config: FirmwareConfig;
  /** External broker, or undefined for the embedded one. */
  broker?: BrokerTarget;
  /** --board: a board file path used instead of boards/<config.board>.json. */
  boardFile?: string;
  devices: number;
  /** Fleet ids are <fleetBase>-001, -002, ...: --device-id when given, else "sim". */
  fleetBase: string;
  dataDir: string;
  samples?: number;
  deadlineMs?: number;
  dropLinkEveryMs?: number;
  rebootEveryMs?: number;
  /** --every-sample: the board's channel deadbands are ignored and config deadband is "0". */
  everySample: boolean;
  /** --reset-settings: settings stored by command are deleted from the data dir at the first boot. */
  resetSettings: boolean;
  /** Said once the run starts (the reporter is not there yet while parsing), e.g. a password on the command line. */
  warnings: string[];
  /** Serve a status page per device (--no-web, or config web_port 0, turns it off). */
  web: boolean;
}

/** Simulator defaults layered under the config file: readings every second, sent at once, so a first run shows them flowing. */
export const SIM_CONFIG_DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze({
  device_id: "sim-1",
  interval_ms: 1000,
  batch_window_ms: 0,
  // The lin board's deadbands pass about one sample in eight of the slow simulated walk; a short heartbeat keeps readings visible.
  heartbeat_s: 2,
  health_s: 60,
  board: "lin",
});

/** Options that set a config key, and the key. */
const CONFIG_OPTIONS: { readonly [option: string]: ConfigKey } = {
  "--device-id": "device_id",
  "--prefix": "prefix",
  "--interval-ms": "interval_ms",
  "--qos": "mqtt_qos",
  "--seed": "sim_seed",
};

const VALUE_OPTIONS = [
  "--broker", "--password-file", "--ca", "--board", "--device-id", "--prefix", "--interval-ms", "--qos", "--seed", "--config", "--data-dir",
  "--samples", "--deadline-ms", "--devices", "--drop-link-every", "--reboot-every",
];
const FLAG_OPTIONS = ["--json", "--help", "-h", "--every-sample", "--reset-settings", "--no-web"];

/** `env` is consulted for PASSWORD_ENV only. */
export function parseArgs(argv: readonly string[], env: { readonly [name: string]: string | undefined } = {}): SimOptions {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (FLAG_OPTIONS.includes(name)) {
      if (eq !== -1) throw new UsageError(name, "takes no value");
      flags.add(name === "-h" ? "--help" : name);
      continue;
    }
    if (!VALUE_OPTIONS.includes(name)) {
      if (!name.startsWith("-")) throw new UsageError(`"${name}"`, "unexpected argument: every option starts with --, and a value follows its option");
      const near = nearest(name);
      throw new UsageError(name, `unknown option${near ? `; did you mean ${near}?` : ""}`);
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || (value.startsWith("--") && value.length > 2)) throw new UsageError(name, "needs a value");
      i++;
    }
    if (values.has(name)) throw new UsageError(name, "given twice");
    values.set(name, value);
  }

  const help = flags.has("--help");
  const json = flags.has("--json");
  const everySample = flags.has("--every-sample");
  const warnings: string[] = [];

  // Config: simulator defaults, then the file, then the command line; remember who set each key for errors.
  const raw: Record<string, unknown> = { ...SIM_CONFIG_DEFAULTS };
  const origin = new Map<string, string>();
  const configFile = values.get("--config");
  if (configFile !== undefined) {
    const inline = isInlineJson(configFile);
    for (const [key, value] of Object.entries(readConfigFile(configFile, warnings))) {
      raw[key] = value;
      origin.set(key, inline ? `--config "${key}"` : `--config ${configFile}: "${key}"`);
    }
  }
  for (const [option, key] of Object.entries(CONFIG_OPTIONS)) {
    const value = values.get(option);
    if (value === undefined) continue;
    raw[key] = value;
    origin.set(key, option);
  }
  if (everySample) {
    raw.deadband = "0";
    origin.set("deadband", "--every-sample");
  }

  let broker: BrokerTarget | undefined;
  const url = values.get("--broker");
  if (url !== undefined) {
    const target = parseBrokerUrl(url);
    raw.mqtt_host = target.host;
    raw.mqtt_port = target.port;
    raw.mqtt_tls = target.tls;
    for (const key of ["mqtt_host", "mqtt_port", "mqtt_tls"]) origin.set(key, "--broker");
    if (target.user !== undefined) {
      raw.mqtt_user = target.user;
      origin.set("mqtt_user", "--broker");
    }
    if (target.password !== undefined) {
      raw.mqtt_password = target.password;
      origin.set("mqtt_password", "--broker");
      warnings.push(`the broker password is on the command line (--broker), where any user of this machine can read it with ps; use --password-file FILE or ${PASSWORD_ENV} instead`);
    }
  }
  const password = readPassword(values.get("--password-file"), env[PASSWORD_ENV], origin.get("mqtt_password") === "--broker");
  if (password !== undefined) {
    raw.mqtt_password = password.value;
    origin.set("mqtt_password", password.origin);
  }

  let config: FirmwareConfig;
  try {
    config = parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigErrors) {
      const where = (key: string) => origin.get(key) ?? `config "${key}"`;
      const reason = (e: { message: string }) => e.message.replace(/^config "[^"]*": /, "");
      const first = error.errors[0];
      if (error.errors.length === 1) throw new UsageError(where(first.key), reason(first));
      throw new UsageError(where(first.key), `${error.errors.length} bad values:\n` + error.errors.map((e) => `  ${where(e.key)}: ${reason(e)}`).join("\n"), true);
    }
    throw error;
  }

  if (origin.has("mqtt_host")) {
    broker = { host: stripBrackets(config.mqtt_host), port: config.mqtt_port !== 0 ? config.mqtt_port : config.mqtt_tls ? 8883 : 1883, tls: config.mqtt_tls };
  }
  const caFile = values.get("--ca");
  if (caFile !== undefined) {
    if (!broker?.tls) throw new UsageError("--ca", "only applies to an mqtts:// broker");
    try {
      broker.ca = readFileSync(caFile, "utf8");
    } catch (error) {
      throw new UsageError("--ca", `cannot read ${caFile}: ${(error as Error).message}`);
    }
  }

  const devices = intOption(values, "--devices", 1, 2000) ?? 1;
  const samples = intOption(values, "--samples", 1, 100_000_000);
  const deadlineMs = intOption(values, "--deadline-ms", 1, 2_000_000_000);
  if (deadlineMs !== undefined && samples === undefined) throw new UsageError("--deadline-ms", "only applies with --samples");
  const dropLinkEveryMs = intOption(values, "--drop-link-every", 50, 2_000_000_000);
  const rebootEveryMs = intOption(values, "--reboot-every", 100, 2_000_000_000);
  const fleetBase = origin.has("device_id") ? config.device_id : "sim";
  const dataDir = values.get("--data-dir") ?? (devices === 1 ? path.join(".sim-data", config.device_id) : ".sim-data");
  if (dataDir === "") throw new UsageError("--data-dir", "must not be empty");

  const web = !flags.has("--no-web") && config.web_port !== 0;
  return {
    help, json, configRaw: raw, config, broker, boardFile: values.get("--board"), devices, fleetBase, dataDir, samples, deadlineMs, dropLinkEveryMs, rebootEveryMs,
    everySample, resetSettings: flags.has("--reset-settings"), warnings, web,
  };
}

function intOption(values: Map<string, string>, option: string, min: number, max: number): number | undefined {
  const text = values.get(option);
  if (text === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(text)) throw new UsageError(option, `expected a whole number from ${min} to ${max}, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(option, `expected a whole number from ${min} to ${max}, got ${n}`);
  return n;
}

/** The password from --password-file or the environment (the file wins); undefined when neither gives one. */
function readPassword(file: string | undefined, fromEnv: string | undefined, inUrl: boolean): { value: string; origin: string } | undefined {
  if (file !== undefined) {
    if (inUrl) throw new UsageError("--password-file", "the --broker URL has a password too; keep it only in the file");
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new UsageError("--password-file", `cannot read ${file}: ${(error as Error).message}`);
    }
    const value = text.split(/\r?\n/)[0];
    if (value === "") throw new UsageError("--password-file", `${file} is empty: its first line is the password`);
    return { value, origin: `--password-file ${file}` };
  }
  if (fromEnv !== undefined && fromEnv !== "" && !inUrl) return { value: fromEnv, origin: PASSWORD_ENV };
  return undefined;
}

/** Keys of a manifest's "config" that are the firmware's broker defaults, not a choice of broker: the simulator's embedded one stays. */
const MANIFEST_BROKER_KEYS = ["mqtt_host", "mqtt_port", "mqtt_tls"] as const;

/** `--config '{"deadband":"0"}'`: a JSON object on the command line instead of a file name. */
function isInlineJson(value: string): boolean {
  return value.trimStart().startsWith("{");
}

function readConfigFile(file: string, warnings: string[]): Record<string, unknown> {
  const inline = isInlineJson(file);
  const what = inline ? "the JSON given" : file;
  let text: string;
  try {
    text = inline ? file : readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError("--config", `cannot read ${file}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError("--config", `${what} is not JSON: ${(error as Error).message}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new UsageError("--config", `${what} must hold a JSON object of config keys`);
  const o = data as Record<string, unknown>;
  // A manifest.json: its "config" section, with the lin platform's (what the simulator simulates) on top.
  if (isObject(o.config) && (o.include !== undefined || o.modules !== undefined)) {
    const platforms = isObject(o.platforms) ? o.platforms : {};
    const lin = isObject(platforms.lin) && isObject(platforms.lin.config) ? platforms.lin.config : {};
    // The SDK's own settings in it (the `tls` object) are left out, as the firmware leaves them out of mc/config.
    const config: Record<string, unknown> = firmwareKeys({ ...o.config, ...lin });
    // "" means "the platform's": on this platform, the simulator's own defaults (sim-1, lin).
    if (config.board === "") delete config.board;
    if (config.device_id === "") delete config.device_id;
    for (const key of MANIFEST_BROKER_KEYS) {
      if (key in config && config[key] === CONFIG_DEFAULTS[key]) delete config[key];
    }
    if (MANIFEST_BROKER_KEYS.some((key) => key in config)) warnings.push(`${file} names a broker (${MANIFEST_BROKER_KEYS.filter((k) => k in config).map((k) => `${k} ${String(config[k])}`).join(", ")}): the simulator connects there`);
    return config;
  }
  return o;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

interface ParsedUrl {
  host: string;
  port: number;
  tls: boolean;
  user?: string;
  password?: string;
}

/** Parses --broker. No message ever repeats the password: the URL is shown with it replaced by "***". */
export function parseBrokerUrl(text: string): ParsedUrl {
  const shown = redactUrl(text);
  // The port is checked before URL() sees it, which would call 99999 "not a URL".
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]/]*\]|[^:/?#]*)(?::([^/?#]*))?/.exec(text);
  const portText = authority?.[1];
  if (portText !== undefined && portText !== "") {
    if (!/^\d+$/.test(portText)) throw new UsageError("--broker", `"${shown}": the port must be a number from 1 to 65535, got "${portText}"`);
    const n = Number(portText);
    if (n < 1 || n > 65535) throw new UsageError("--broker", `"${shown}": port ${n} is out of range (1 to 65535)`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError("--broker", `"${shown}" is not a URL; expected mqtt://host:port or mqtts://host:port`);
  }
  const tls = url.protocol === "mqtts:";
  if (!tls && url.protocol !== "mqtt:") throw new UsageError("--broker", `scheme "${url.protocol}" is not supported; use mqtt:// or mqtts://`);
  if (url.hostname === "") throw new UsageError("--broker", `"${shown}" has no host`);
  if (url.pathname !== "" && url.pathname !== "/") throw new UsageError("--broker", `"${shown}" has a path; MQTT brokers take none`);
  const port = url.port === "" ? (tls ? 8883 : 1883) : Number(url.port);
  const out: ParsedUrl = { host: url.hostname, port, tls };
  try {
    if (url.username !== "") out.user = decodeURIComponent(url.username);
    if (url.password !== "") out.password = decodeURIComponent(url.password);
  } catch {
    throw new UsageError("--broker", `"${shown}": the user name or password has a bad %-escape (write a literal % as %25)`);
  }
  return out;
}

/** `text` with the password of its user info ("user:password@", after the last "/" before the first "@") replaced by "***", for messages. */
export function redactUrl(text: string): string {
  const at = text.indexOf("@");
  if (at === -1) return text;
  const start = text.lastIndexOf("/", at) + 1;
  const colon = text.indexOf(":", start);
  if (colon === -1 || colon > at) return text;
  return `${text.slice(0, colon)}:***${text.slice(at)}`;
}

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function nearest(option: string): string | undefined {
  return closest(option, [...VALUE_OPTIONS, ...FLAG_OPTIONS], 3);
}

/** Config for device `index` (1-based) of a fleet: its own id and seed. */
export function deviceConfigRaw(options: SimOptions, index: number): Record<string, unknown> {
  if (options.devices === 1) return options.configRaw;
  const id = `${options.fleetBase}-${String(index).padStart(Math.max(3, String(options.devices).length), "0")}`;
  return { ...options.configRaw, device_id: id, sim_seed: (options.config.sim_seed + index - 1) >>> 0 };
}
