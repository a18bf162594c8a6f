// Parses and validates the flat firmware config (strings from mcconfig or typed values), reporting every bad key at once.
import { closest } from "./closest";
import { ConfigError } from "../errors";
import { parseDeadband } from "./deadband";
import { parsePins } from "../tls/pins";
import { utf8Length } from "../mqtt/utf8";
import { CONFIG_DEFAULTS, CONFIG_KEYS, MQTT_PORT, MQTT_TLS_PORT, type ConfigKey, type FirmwareConfig } from "./defaults";

/** Several config keys are bad; `errors` has one ConfigError per key, and the message lists them all. */
export class ConfigErrors extends ConfigError {
  // A field, not `this.name = ...`: Moddable freezes Error.prototype, so assigning "name" throws there.
  override readonly name: string = "ConfigErrors";
  readonly errors: readonly ConfigError[];
  constructor(errors: readonly ConfigError[]) {
    super(errors[0].key, "");
    this.errors = errors;
    this.message = `${errors.length} bad config key${errors.length === 1 ? "" : "s"}:\n` + errors.map((e) => `  ${e.message}`).join("\n");
  }
}

type Check = (value: unknown) => unknown | Invalid;

/** A check's verdict that the value is bad, with what was expected. */
class Invalid {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}

function describe(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : String(value);
}

function integer(min: number, max: number, unit = ""): Check {
  return (value) => {
    const n = typeof value === "string" && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isInteger(n)) return new Invalid(`expected an integer${unit} from ${min} to ${max}, got ${describe(value)}`);
    if (n < min || n > max) return new Invalid(`expected an integer${unit} from ${min} to ${max}, got ${n}`);
    return n;
  };
}

function boolean(): Check {
  return (value) => {
    if (typeof value === "boolean") return value;
    if (value === 1 || value === 0) return value === 1;
    if (typeof value === "string") {
      const v = value.trim().toLowerCase();
      if (v === "true" || v === "1" || v === "yes" || v === "on") return true;
      if (v === "false" || v === "0" || v === "no" || v === "off" || v === "") return false;
    }
    return new Invalid(`expected true or false (also 1/0, yes/no, on/off), got ${describe(value)}`);
  };
}

function text(maxLength: number, pattern?: RegExp, what?: string, allowEmpty = true): Check {
  return (value) => {
    if (typeof value !== "string") return new Invalid(`expected a string, got ${describe(value)}`);
    if (value.length === 0 && !allowEmpty) return new Invalid("must not be empty");
    if (value.length > maxLength) return new Invalid(`must be at most ${maxLength} characters, got ${value.length}`);
    if (pattern && value.length > 0 && !pattern.test(value)) return new Invalid(`expected ${what}, got ${describe(value)}`);
    return value;
  };
}

/** A password: like text(), but no message ever shows the value (a log or a terminal is no place for it). */
function secret(maxLength: number): Check {
  return (value) => {
    if (typeof value !== "string") return new Invalid(`expected a string (put it in quotes), got a ${value === null ? "null" : typeof value}; the value is not shown`);
    if (value.length > maxLength) return new Invalid(`must be at most ${maxLength} characters, got ${value.length}`);
    return value;
  };
}

/**
 * Wi-Fi limits count UTF-8 bytes, not characters (802.11's 32-byte SSID, WPA's 64-byte passphrase): the ESP32 driver
 * refuses longer ones at every connect, so "café-…" must fail here, at boot, with the key named.
 */
function utf8Bytes(check: Check, maxBytes: number): Check {
  return (value) => {
    const result = check(value);
    if (typeof result !== "string") return result;
    const bytes = utf8Length(result);
    if (bytes > maxBytes) return new Invalid(`must be at most ${maxBytes} bytes as UTF-8 (the Wi-Fi limit), got ${bytes}`);
    return result;
  };
}

const TOPIC_LEVELS = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$/;

/** One validator per key. Topic parts allow only characters that need no escaping anywhere (HA ids, file names). */
const CHECKS: { readonly [K in ConfigKey]: Check } = {
  ssid: utf8Bytes(text(32), 32),
  password: utf8Bytes(secret(64), 64),
  mqtt_host: text(253, HOST, "a host name or IP address such as broker.local or 192.168.1.10", false),
  mqtt_port: integer(0, 65535, " (0 = 1883, or 8883 with TLS)"),
  mqtt_tls: boolean(),
  mqtt_pin_sha256: (value) => {
    if (typeof value !== "string") return new Invalid(`expected a string of hex or base64 SHA-256 digests, got ${describe(value)}`);
    if (value.length > 400) return new Invalid(`must be at most 400 characters, got ${value.length}`);
    const pins = parsePins(value);
    return typeof pins === "string" ? new Invalid(pins) : value.trim();
  },
  mqtt_user: text(128),
  mqtt_password: secret(128),
  mqtt_keepalive: integer(0, 65535, " of seconds"),
  mqtt_qos: integer(0, 2),
  mqtt_max_packet: integer(1024, 65_536, " of bytes"),
  device_id: text(64, /^[A-Za-z0-9_-]+$/, "letters, digits, '-' or '_' (it is a topic level and the client id)"),
  prefix: text(64, TOPIC_LEVELS, "topic levels of letters, digits, '.', '-', '_' separated by '/', without wildcards or leading/trailing '/'", false),
  interval_ms: integer(100, 86_400_000, " of ms"),
  deadband: (value) => {
    const textValue = typeof value === "number" ? String(value) : value;
    if (typeof textValue !== "string") return new Invalid(`expected "0.2" (absolute) or "1%" (percent), got ${describe(value)}`);
    const parsed = parseDeadband(textValue);
    return typeof parsed === "string" ? new Invalid(parsed) : textValue.trim();
  },
  heartbeat_s: integer(0, 86_400, " of seconds (0 = off)"),
  batch_max: integer(1, 100),
  batch_window_ms: integer(0, 3_600_000, " of ms"),
  queue_max: integer(1, 100_000),
  presync_max: integer(0, 10_000),
  health_s: integer(0, 86_400, " of seconds (0 = off)"),
  ha_discovery: boolean(),
  ha_prefix: text(64, TOPIC_LEVELS, "topic levels such as homeassistant", false),
  board: text(64, /^[a-z0-9_]+(\/[a-z0-9_]+)?$/, "a board name such as esp32/nodemcu or lin"),
  sntp: text(253, HOST, "a host name such as pool.ntp.org", false),
  sim_seed: integer(0, 0xffff_ffff),
  web_port: integer(0, 65535, " (0 = no status page)"),
  // Printable ASCII: a browser's Basic-auth encoding of anything else varies.
  web_password: text(64, /^[\x20-\x7e]+$/, "printable ASCII characters"),
};

/** Keys the Moddable build system itself puts into mc/config; accepted and ignored. */
const BUILD_KEYS: readonly string[] = ["screen", "touch", "driverRotation", "rotation", "startupSound", "led"];

/**
 * mc/config also carries keys the SDK's own manifests set: objects (`file`, `tls`) and, on the desktop, the
 * screen `format`. Those are left out; every other key goes to the parser, so a mistyped key is still reported.
 * The firmware (main) and the simulator's reading of manifest.json leave out the same keys.
 */
const SDK_SCALAR_KEYS: readonly string[] = ["format"];

/** The keys of a manifest's config (mc/config) that are the firmware's to parse. */
export function firmwareKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    if (typeof value === "object" || SDK_SCALAR_KEYS.indexOf(key) !== -1) continue;
    out[key] = value;
  }
  return out;
}

/**
 * Parses `raw` (mc/config on device, argv/env in the Node simulator): every key is optional and
 * defaults from CONFIG_DEFAULTS. Throws ConfigErrors naming every bad or unknown key.
 */
export function parseConfig(raw: Record<string, unknown>): FirmwareConfig {
  const errors: ConfigError[] = [];
  const out: Record<string, unknown> = { ...CONFIG_DEFAULTS };
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    if (!isConfigKey(key)) {
      if (BUILD_KEYS.indexOf(key) !== -1) continue;
      const near = nearestKey(key);
      errors.push(new ConfigError(key, `unknown key${near ? `; did you mean "${near}"?` : ""} (known keys: ${CONFIG_KEYS.join(", ")})`));
      continue;
    }
    if (value === undefined) continue;
    const result = CHECKS[key](value);
    if (result instanceof Invalid) errors.push(new ConfigError(key, result.reason));
    else out[key] = result;
  }
  const config = out as unknown as FirmwareConfig;
  if (config.mqtt_password !== "" && config.mqtt_user === "" && !hasError(errors, "mqtt_password")) {
    errors.push(new ConfigError("mqtt_password", "needs mqtt_user: MQTT 3.1.1 sends no password without a user name [MQTT-3.1.2-22]"));
  }
  if (config.mqtt_pin_sha256 !== "" && !config.mqtt_tls && !hasError(errors, "mqtt_pin_sha256")) {
    errors.push(new ConfigError("mqtt_pin_sha256", "a key pin only applies to TLS: set mqtt_tls=true too"));
  }
  if (config.password !== "" && config.ssid === "" && !hasError(errors, "password")) {
    errors.push(new ConfigError("password", "a Wi-Fi password was given without ssid"));
  }
  if (errors.length > 0) throw new ConfigErrors(errors);
  return Object.freeze(config);
}

/** The broker port to dial: mqtt_port, or the well-known port for the transport when it is 0. */
export function brokerPort(config: FirmwareConfig): number {
  if (config.mqtt_port !== 0) return config.mqtt_port;
  return config.mqtt_tls ? MQTT_TLS_PORT : MQTT_PORT;
}

function hasError(errors: readonly ConfigError[], key: string): boolean {
  return errors.some((e) => e.key === key);
}

function isConfigKey(key: string): key is ConfigKey {
  return Object.prototype.hasOwnProperty.call(CHECKS, key);
}

/** The known key closest to a typo (ignoring case and '.'/'-' vs '_'). */
function nearestKey(key: string): string | undefined {
  return closest(key.toLowerCase().replace(/[.-]/g, "_"), CONFIG_KEYS, Math.max(2, Math.floor(key.length / 3)));
}
