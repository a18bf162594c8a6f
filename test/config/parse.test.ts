import { describe, expect, it } from "vitest";
import { clientOptionsFromConfig } from "../../src/config/client-options";
import { CONFIG_DEFAULTS, CONFIG_KEYS } from "../../src/config/defaults";
import { ConfigErrors, brokerPort, parseConfig } from "../../src/config/parse";
import { ConfigError } from "../../src/errors";

/** A valid mcconfig-style value (string) and its parsed form for every key. */
const GOOD: Record<string, [string, unknown]> = {
  ssid: ["home", "home"],
  password: ["secret", "secret"],
  mqtt_host: ["broker.local", "broker.local"],
  mqtt_port: ["8883", 8883],
  mqtt_tls: ["true", true],
  mqtt_pin_sha256: [` ${"aB".repeat(32)},sha256//${"A".repeat(43)}= `, `${"aB".repeat(32)},sha256//${"A".repeat(43)}=`],
  mqtt_user: ["dev", "dev"],
  mqtt_password: ["pw", "pw"],
  mqtt_keepalive: ["30", 30],
  mqtt_qos: ["2", 2],
  device_id: ["kitchen-1", "kitchen-1"],
  prefix: ["home/sensors", "home/sensors"],
  interval_ms: ["5000", 5000],
  deadband: ["1.5%", "1.5%"],
  heartbeat_s: ["600", 600],
  batch_max: ["20", 20],
  batch_window_ms: ["0", 0],
  queue_max: ["1000", 1000],
  mqtt_max_packet: ["2048", 2048],
  presync_max: ["0", 0],
  health_s: ["0", 0],
  ha_discovery: ["1", true],
  ha_prefix: ["ha", "ha"],
  board: ["esp32/m5stack", "esp32/m5stack"],
  sntp: ["time.google.com", "time.google.com"],
  sim_seed: ["42", 42],
  web_port: ["8080", 8080],
  web_password: ["let me in", "let me in"],
};

/** A bad value for every key, and a fragment of the expected explanation. */
const BAD: Record<string, [unknown, string]> = {
  ssid: ["x".repeat(33), "at most 32"],
  password: [5, "expected a string"],
  mqtt_host: ["bad host!", "host name"],
  mqtt_port: ["80a", "integer"],
  mqtt_tls: ["maybe", "true or false"],
  mqtt_pin_sha256: ["a".repeat(63), "64 hex digits or 44 base64"],
  mqtt_user: [true, "expected a string"],
  mqtt_password: [{}, "expected a string"],
  mqtt_keepalive: ["70000", "from 0 to 65535"],
  mqtt_qos: ["3", "from 0 to 2"],
  device_id: ["a/b", "letters, digits"],
  prefix: ["a/#", "without wildcards"],
  interval_ms: ["10", "from 100"],
  deadband: ["-1", "non-negative"],
  heartbeat_s: ["1.5", "integer"],
  batch_max: ["0", "from 1 to 100"],
  batch_window_ms: ["-5", "from 0"],
  queue_max: ["0", "from 1"],
  mqtt_max_packet: ["100", "from 1024"],
  presync_max: ["x", "integer"],
  health_s: ["day", "integer"],
  ha_discovery: ["2", "true or false"],
  ha_prefix: ["", "must not be empty"],
  board: ["ESP32 NodeMCU", "board name"],
  sntp: ["", "must not be empty"],
  sim_seed: ["-1", "integer"],
  web_port: ["65536", "from 0 to 65535"],
  web_password: ["caf\u00e9", "printable ASCII"],
};

describe("parseConfig", () => {
  it("tests cover every key", () => {
    expect(Object.keys(GOOD).sort()).toEqual([...CONFIG_KEYS].sort());
    expect(Object.keys(BAD).sort()).toEqual([...CONFIG_KEYS].sort());
  });

  it("returns the frozen defaults for an empty config", () => {
    const config = parseConfig({});
    expect(config).toEqual(CONFIG_DEFAULTS);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(CONFIG_DEFAULTS)).toBe(true);
  });

  for (const key of Object.keys(GOOD)) {
    it(`parses ${key} from its mcconfig string`, () => {
      const raw: Record<string, unknown> = { [key]: GOOD[key][0] };
      if (key === "mqtt_password") raw.mqtt_user = "u";
      if (key === "password") raw.ssid = "net";
      if (key === "mqtt_pin_sha256") raw.mqtt_tls = "true";
      expect(parseConfig(raw)[key as keyof typeof CONFIG_DEFAULTS]).toEqual(GOOD[key][1]);
    });
    it(`rejects a bad ${key}, naming the key`, () => {
      const error = captureConfigError({ [key]: BAD[key][0] });
      expect(error.errors).toHaveLength(1);
      expect(error.errors[0].key).toBe(key);
      expect(error.errors[0].message).toContain(`config "${key}"`);
      expect(error.errors[0].message).toContain(BAD[key][1]);
    });
  }

  it("counts the Wi-Fi limits in UTF-8 bytes, as the ESP32 driver does, and never shows the password", () => {
    expect(parseConfig({ ssid: "\u00e9".repeat(16) }).ssid).toBe("\u00e9".repeat(16)); // 32 bytes: the limit
    const ssid = captureConfigError({ ssid: "\u00e9".repeat(17) }); // 17 characters, 34 bytes
    expect(ssid.errors.map((e) => [e.key, e.message])).toEqual([["ssid", expect.stringContaining("at most 32 bytes as UTF-8 (the Wi-Fi limit), got 34")]]);
    expect(parseConfig({ ssid: "n", password: "\u{1f511}".repeat(16) }).password).toBe("\u{1f511}".repeat(16)); // 64 bytes
    const password = captureConfigError({ ssid: "n", password: "p\u{1f511}".repeat(13) }); // 26 characters, 65 bytes
    expect(password.errors.map((e) => [e.key, e.message])).toEqual([["password", expect.stringContaining("at most 64 bytes as UTF-8 (the Wi-Fi limit), got 65")]]);
    expect(password.errors[0].message).not.toContain("\u{1f511}");
  });

  it("accepts typed values as well as strings", () => {
    const config = parseConfig({ mqtt_port: 1884, mqtt_tls: false, deadband: 0.25, ha_discovery: true });
    expect(config.mqtt_port).toBe(1884);
    expect(config.deadband).toBe("0.25");
  });

  it("reports every bad key at once in one error", () => {
    const error = captureConfigError({ mqtt_port: "x", mqtt_qos: "9", interval_ms: "1" });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.errors.map((e) => e.key)).toEqual(["mqtt_port", "mqtt_qos", "interval_ms"]);
    expect(error.message).toMatch(/3 bad config keys[\s\S]*mqtt_port[\s\S]*mqtt_qos[\s\S]*interval_ms/);
  });

  it("rejects unknown keys with a did-you-mean", () => {
    const error = captureConfigError({ mqtt_hots: "x", "mqtt.port": "1", zzzzzzzz: "1" });
    expect(error.errors[0].message).toContain('did you mean "mqtt_host"');
    expect(error.errors[1].message).toContain('did you mean "mqtt_port"');
    expect(error.errors[2].message).not.toContain("did you mean");
    expect(error.errors[2].message).toContain("unknown key");
  });

  it("ignores keys the Moddable build adds to mc/config", () => {
    expect(() => parseConfig({ screen: "", touch: "", led: { pin: 0 } })).not.toThrow();
  });

  it("refuses a password without a user name (MQTT-3.1.2-22)", () => {
    const error = captureConfigError({ mqtt_password: "pw" });
    expect(error.errors[0].key).toBe("mqtt_password");
    expect(error.message).toContain("MQTT-3.1.2-22");
  });

  it("refuses a key pin without TLS, and a pin list over 400 characters", () => {
    const alone = captureConfigError({ mqtt_pin_sha256: "ab".repeat(32) });
    expect(alone.errors[0].key).toBe("mqtt_pin_sha256");
    expect(alone.message).toContain("mqtt_tls=true");
    const long = captureConfigError({ mqtt_tls: "true", mqtt_pin_sha256: Array.from({ length: 7 }, () => "ab".repeat(32)).join(",") });
    expect(long.message).toContain("at most 400");
  });

  it("picks the well-known port from mqtt_tls when mqtt_port is 0", () => {
    expect(brokerPort(parseConfig({}))).toBe(1883);
    expect(brokerPort(parseConfig({ mqtt_tls: "true" }))).toBe(8883);
    expect(brokerPort(parseConfig({ mqtt_tls: "true", mqtt_port: "9000" }))).toBe(9000);
  });
});

describe("clientOptionsFromConfig", () => {
  it("builds a persistent session with a retained offline will on the status topic", () => {
    const options = clientOptionsFromConfig(parseConfig({ prefix: "home", mqtt_user: "u", mqtt_password: "p", mqtt_keepalive: "45", mqtt_qos: "1", queue_max: "77" }), "dev1");
    expect(options).toEqual({
      clientId: "dev1",
      cleanSession: false,
      keepAliveSeconds: 45,
      maxPacketSize: 4096,
      queueMaxMessages: 77,
      username: "u",
      password: "p",
      will: { topic: "home/dev1/status", payload: "offline", qos: 1, retain: true },
    });
  });

  it("sends no credentials when none are configured", () => {
    const options = clientOptionsFromConfig(parseConfig({}), "d");
    expect(options.username).toBeUndefined();
    expect(options.password).toBeUndefined();
  });
});

function captureConfigError(raw: Record<string, unknown>): ConfigErrors {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigErrors);
    return error as ConfigErrors;
  }
  throw new Error("parseConfig accepted a bad config");
}
