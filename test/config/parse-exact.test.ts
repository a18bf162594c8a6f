// The config parser's exact words and bounds: every integer key at both ends of its range and one past, every text key
// at its longest and one longer, every message as a user reads it at boot (README's "3 bad config keys" example), and
// the defaults against README's table. Fragments (test/config/parse.test.ts) let a changed bound or message through.
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ConfigErrors } from "../../src/config/parse";
import { thrown } from "../support/thrown";

/**
 * The config modules, imported afresh for every test: their tables (the defaults, CHECKS with its bounds, patterns
 * and messages, the build keys) are module-level code, and StrykerJS activates a mutant there only in tests that load
 * the module themselves (a module imported at the top of a file is evaluated before the mutant is switched on).
 */
let m: typeof import("../../src/config/parse") & typeof import("../../src/config/defaults") & Pick<typeof import("../../src/errors"), "ConfigError">;

beforeEach(async () => {
  vi.resetModules();
  const [parse, defaults, errors] = await Promise.all([import("../../src/config/parse"), import("../../src/config/defaults"), import("../../src/errors")]);
  m = { ...parse, ...defaults, ConfigError: errors.ConfigError };
});

/** README.md's configuration table, written out again by hand so a changed default is caught. */
const README_DEFAULTS = {
  ssid: "",
  password: "",
  mqtt_host: "127.0.0.1",
  mqtt_port: 0,
  mqtt_tls: false,
  mqtt_pin_sha256: "",
  mqtt_user: "",
  mqtt_password: "",
  mqtt_keepalive: 60,
  mqtt_qos: 1,
  mqtt_max_packet: 4096,
  device_id: "",
  prefix: "xsms",
  interval_ms: 10_000,
  deadband: "0",
  heartbeat_s: 300,
  batch_max: 10,
  batch_window_ms: 60_000,
  queue_max: 500,
  presync_max: 60,
  health_s: 300,
  ha_discovery: false,
  ha_prefix: "homeassistant",
  board: "",
  sntp: "pool.ntp.org",
  sim_seed: 1,
  web_port: 80,
  web_password: "",
};

/** Every integer key: [min, max, unit words of the message]. */
const INTEGERS: Record<string, [number, number, string]> = {
  mqtt_port: [0, 65535, " (0 = 1883, or 8883 with TLS)"],
  mqtt_keepalive: [0, 65535, " of seconds"],
  mqtt_qos: [0, 2, ""],
  mqtt_max_packet: [1024, 65_536, " of bytes"],
  interval_ms: [100, 86_400_000, " of ms"],
  heartbeat_s: [0, 86_400, " of seconds (0 = off)"],
  batch_max: [1, 100, ""],
  batch_window_ms: [0, 3_600_000, " of ms"],
  queue_max: [1, 100_000, ""],
  presync_max: [0, 10_000, ""],
  health_s: [0, 86_400, " of seconds (0 = off)"],
  sim_seed: [0, 0xffff_ffff, ""],
  web_port: [0, 65535, " (0 = no status page)"],
};

/** Every text key: [longest length, may be empty, a valid value of that length made of `fill`]. */
const TEXTS: Record<string, [number, boolean, string]> = {
  ssid: [32, true, "s"],
  mqtt_host: [253, false, "h"],
  mqtt_user: [128, true, "u"],
  device_id: [64, true, "d"],
  prefix: [64, false, "p"],
  ha_prefix: [64, false, "p"],
  board: [64, true, "b"],
  sntp: [253, false, "n"],
  web_password: [64, true, "w"],
};

/** The one error parseConfig throws for `raw`, with its single message. */
function only(raw: Record<string, unknown>): string {
  const caught: ConfigErrors = thrown(m.ConfigErrors, () => m.parseConfig(raw));
  const errors = caught.errors;
  expect(errors).toHaveLength(1);
  expect(caught.message).toBe(`1 bad config key:\n  ${errors[0].message}`);
  return errors[0].message;
}

describe("config defaults", () => {
  it("are the values README.md documents", () => {
    expect({ ...m.CONFIG_DEFAULTS }).toEqual(README_DEFAULTS);
    expect({ ...m.parseConfig({}) }).toEqual(README_DEFAULTS);
    expect([...m.CONFIG_KEYS]).toEqual(Object.keys(README_DEFAULTS));
  });
});

describe("integer keys", () => {
  for (const [key, [min, max, unit]] of Object.entries(INTEGERS)) {
    it(`${key} takes ${min} and ${max} and refuses one past either end`, () => {
      const extra = key === "mqtt_pin_sha256" ? {} : {};
      expect(m.parseConfig({ ...extra, [key]: String(min) })[key as keyof typeof README_DEFAULTS]).toBe(min);
      expect(m.parseConfig({ ...extra, [key]: String(max) })[key as keyof typeof README_DEFAULTS]).toBe(max);
      expect(m.parseConfig({ [key]: max })[key as keyof typeof README_DEFAULTS]).toBe(max);
      expect(only({ [key]: String(min - 1) })).toBe(`config "${key}": expected an integer${unit} from ${min} to ${max}, got ${min - 1}`);
      expect(only({ [key]: String(max + 1) })).toBe(`config "${key}": expected an integer${unit} from ${min} to ${max}, got ${max + 1}`);
      expect(only({ [key]: max + 1 })).toBe(`config "${key}": expected an integer${unit} from ${min} to ${max}, got ${max + 1}`);
    });
  }

  it("reads decimal digits with a sign and blanks around them, and nothing else", () => {
    expect(m.parseConfig({ mqtt_keepalive: " 42 " }).mqtt_keepalive).toBe(42);
    expect(m.parseConfig({ mqtt_keepalive: "\t7\n" }).mqtt_keepalive).toBe(7);
    expect(m.parseConfig({ mqtt_keepalive: "0042" }).mqtt_keepalive).toBe(42);
    expect(only({ batch_window_ms: " -5 " })).toBe('config "batch_window_ms": expected an integer of ms from 0 to 3600000, got -5');
    const notInteger = (value: unknown, shown: string) =>
      expect(only({ mqtt_keepalive: value })).toBe(`config "mqtt_keepalive": expected an integer of seconds from 0 to 65535, got ${shown}`);
    notInteger("", '""');
    notInteger(" ", '" "');
    notInteger("1e3", '"1e3"');
    notInteger("0x10", '"0x10"');
    notInteger("+5", '"+5"');
    notInteger("4 2", '"4 2"');
    notInteger("--4", '"--4"');
    notInteger("12a", '"12a"');
    notInteger("a12", '"a12"');
    notInteger("1.5", '"1.5"');
    notInteger(1.5, "1.5");
    notInteger(true, "true");
    notInteger(null, "null");
    notInteger(Number.NaN, "NaN");
    notInteger({}, "[object Object]");
  });
});

describe("boolean keys", () => {
  it("take true/false, 1/0, yes/no, on/off in any case and blanks, and empty as false", () => {
    for (const yes of [true, 1, "true", "1", "yes", "on", " TRUE ", "Yes", "ON"]) expect(m.parseConfig({ mqtt_tls: yes }).mqtt_tls).toBe(true);
    for (const no of [false, 0, "false", "0", "no", "off", "", "  ", " FALSE ", "No", "Off"]) expect(m.parseConfig({ mqtt_tls: no }).mqtt_tls).toBe(false);
  });

  it("refuse anything else, showing it", () => {
    const refused = (value: unknown, shown: string) =>
      expect(only({ ha_discovery: value })).toBe(`config "ha_discovery": expected true or false (also 1/0, yes/no, on/off), got ${shown}`);
    refused(2, "2");
    refused(-1, "-1");
    refused("2", '"2"');
    refused("y", '"y"');
    refused("truth", '"truth"');
    refused(null, "null");
  });
});

describe("text keys", () => {
  for (const [key, [longest, mayBeEmpty, fill]] of Object.entries(TEXTS)) {
    it(`${key} takes ${longest} characters and refuses ${longest + 1}`, () => {
      const value = fill.repeat(longest);
      expect(m.parseConfig({ [key]: value })[key as keyof typeof README_DEFAULTS]).toBe(value);
      expect(only({ [key]: value + fill })).toBe(`config "${key}": must be at most ${longest} characters, got ${longest + 1}`);
      expect(only({ [key]: 5 })).toBe(`config "${key}": expected a string, got 5`);
      if (mayBeEmpty) expect(m.parseConfig({ [key]: "" })[key as keyof typeof README_DEFAULTS]).toBe("");
      else expect(only({ [key]: "" })).toBe(`config "${key}": must not be empty`);
    });
  }

  it("name what each pattern expects, showing the value", () => {
    expect(only({ mqtt_host: "bad host" })).toBe('config "mqtt_host": expected a host name or IP address such as broker.local or 192.168.1.10, got "bad host"');
    expect(only({ sntp: "ntp_server" })).toBe('config "sntp": expected a host name such as pool.ntp.org, got "ntp_server"');
    expect(only({ device_id: "a.b" })).toBe(`config "device_id": expected letters, digits, '-' or '_' (it is a topic level and the client id), got "a.b"`);
    expect(only({ prefix: "a/+" })).toBe(
      `config "prefix": expected topic levels of letters, digits, '.', '-', '_' separated by '/', without wildcards or leading/trailing '/', got "a/+"`,
    );
    expect(only({ ha_prefix: "home assistant" })).toBe('config "ha_prefix": expected topic levels such as homeassistant, got "home assistant"');
    expect(only({ board: "esp32/NodeMCU" })).toBe('config "board": expected a board name such as esp32/nodemcu or lin, got "esp32/NodeMCU"');
    expect(only({ web_password: "tab\there" })).toBe('config "web_password": expected printable ASCII characters, got "tab\there"');
  });

  it("host names: letters, digits, '.' and '-' inside, or an IPv6 literal in brackets", () => {
    for (const good of ["a", "7", "ab", "a-b", "a.b.c", "192.168.1.10", "x--y", "A9", "[::1]", "[fe80::1]", "[::ffff:1.2.3.4]", "[ABCD::]"]) {
      expect(m.parseConfig({ mqtt_host: good }).mqtt_host).toBe(good);
    }
    for (const bad of ["-a", "a-", ".a", "a.", "a_b", "a b", "[::1", "::1]", "[]", "[::g]", "x[::1]", "[::1]x", "a/b", "é"]) {
      expect(only({ mqtt_host: bad })).toContain(`got "${bad}"`);
    }
  });

  it("topic prefixes: levels of letters, digits, '.', '-', '_' separated by single '/'", () => {
    for (const good of ["a", "a/b", "A.b-c_d/e9", "x/y/z", "_", "-/."]) expect(m.parseConfig({ prefix: good }).prefix).toBe(good);
    for (const bad of ["/a", "a/", "a//b", "/", "a b", "a/#", "+", "a$", "a/b/"]) expect(only({ prefix: bad })).toContain(`got "${bad}"`);
  });

  it("device ids, boards and web passwords by their own patterns", () => {
    for (const good of ["a", "A-9_z", "--"]) expect(m.parseConfig({ device_id: good }).device_id).toBe(good);
    for (const bad of ["a b", "a/b", "a+", "é"]) expect(only({ device_id: bad })).toContain(`got "${bad}"`);
    for (const good of ["lin", "esp32/nodemcu", "a_1/b_2", "9"]) expect(m.parseConfig({ board: good }).board).toBe(good);
    for (const bad of ["Lin", "a/b/c", "/a", "a/", "a-b", "a b"]) expect(only({ board: bad })).toContain(`got "${bad}"`);
    for (const good of [" ", "~", "a b!", "x".repeat(64)]) expect(m.parseConfig({ web_password: good }).web_password).toBe(good);
    for (const bad of ["\x1f", "\x7f", "a\nb"]) expect(only({ web_password: bad })).toContain("expected printable ASCII characters");
  });
});

describe("secrets", () => {
  it("take up to their longest and never show the value", () => {
    expect(m.parseConfig({ ssid: "n", password: "p".repeat(64) }).password).toBe("p".repeat(64));
    expect(m.parseConfig({ mqtt_user: "u", mqtt_password: "p".repeat(128) }).mqtt_password).toBe("p".repeat(128));
    const long = only({ ssid: "n", password: "hunter2".repeat(10) });
    expect(long).toBe('config "password": must be at most 64 characters, got 70');
    expect(long).not.toContain("hunter2");
    expect(only({ mqtt_user: "u", mqtt_password: "q".repeat(129) })).toBe('config "mqtt_password": must be at most 128 characters, got 129');
    expect(only({ ssid: "n", password: 12345678 })).toBe('config "password": expected a string (put it in quotes), got a number; the value is not shown');
    expect(only({ mqtt_user: "u", mqtt_password: null })).toBe('config "mqtt_password": expected a string (put it in quotes), got a null; the value is not shown');
    expect(only({ mqtt_user: "u", mqtt_password: true })).toBe('config "mqtt_password": expected a string (put it in quotes), got a boolean; the value is not shown');
  });

  it("an empty Wi-Fi password needs no ssid, an empty MQTT password no user", () => {
    expect(m.parseConfig({ password: "" }).password).toBe("");
    expect(m.parseConfig({ mqtt_password: "" }).mqtt_password).toBe("");
  });
});

describe("mqtt_pin_sha256 and deadband", () => {
  const hexPin = Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).padStart(2, "0")).join(":");

  it("pins: up to 400 characters, trimmed; the parser's own reason otherwise", () => {
    const list = [hexPin, hexPin, hexPin, hexPin].join(",");
    expect(list.length).toBeLessThan(400);
    const at400 = ` ${list}`.padEnd(400, " ");
    expect(m.parseConfig({ mqtt_tls: "1", mqtt_pin_sha256: at400 }).mqtt_pin_sha256).toBe(list);
    expect(only({ mqtt_tls: "1", mqtt_pin_sha256: `${at400} ` })).toBe('config "mqtt_pin_sha256": must be at most 400 characters, got 401');
    expect(only({ mqtt_tls: "1", mqtt_pin_sha256: 7 })).toBe('config "mqtt_pin_sha256": expected a string of hex or base64 SHA-256 digests, got 7');
    expect(only({ mqtt_tls: "1", mqtt_pin_sha256: "xyz" })).toBe(
      `config "mqtt_pin_sha256": expected SHA-256 digests of the broker's public key (64 hex digits or 44 base64 characters, comma separated), got "xyz"`,
    );
    expect(m.parseConfig({ mqtt_pin_sha256: "" }).mqtt_pin_sha256).toBe("");
  });

  it("deadband: a number or text, stored trimmed; the parser's own reason otherwise", () => {
    expect(m.parseConfig({ deadband: " 2 % " }).deadband).toBe("2 %");
    expect(m.parseConfig({ deadband: 0 }).deadband).toBe("0");
    expect(m.parseConfig({ deadband: 1.5 }).deadband).toBe("1.5");
    expect(only({ deadband: true })).toBe('config "deadband": expected "0.2" (absolute) or "1%" (percent), got true');
    expect(only({ deadband: "150%" })).toBe('config "deadband": a percentage deadband must be at most 100%, got "150%"');
  });
});

describe("keys that depend on others", () => {
  it("say exactly what is missing", () => {
    expect(only({ mqtt_password: "pw" })).toBe('config "mqtt_password": needs mqtt_user: MQTT 3.1.1 sends no password without a user name [MQTT-3.1.2-22]');
    expect(only({ mqtt_pin_sha256: hexPinText() })).toBe('config "mqtt_pin_sha256": a key pin only applies to TLS: set mqtt_tls=true too');
    expect(only({ password: "pw" })).toBe('config "password": a Wi-Fi password was given without ssid');
    expect(only({ mqtt_tls: "0", mqtt_pin_sha256: hexPinText() })).toContain("set mqtt_tls=true too");
  });

  it("report a bad value once, not again as a missing partner", () => {
    expect(only({ mqtt_password: 5 })).toContain("expected a string");
    expect(only({ password: 5 })).toContain("expected a string");
    expect(only({ mqtt_pin_sha256: "zz" })).toContain("expected SHA-256 digests");
  });

  it("are checked when other keys are bad too, each reported once", () => {
    const keysOf = (raw: Record<string, unknown>) => {
      try {
        m.parseConfig(raw);
      } catch (error) {
        return (error as ConfigErrors).errors.map((e) => e.key);
      }
      return [];
    };
    expect(keysOf({ mqtt_port: "x", mqtt_password: "pw" })).toEqual(["mqtt_port", "mqtt_password"]);
    expect(keysOf({ mqtt_qos: "7", mqtt_pin_sha256: hexPinText() })).toEqual(["mqtt_qos", "mqtt_pin_sha256"]);
    expect(keysOf({ sntp: "", password: "pw" })).toEqual(["sntp", "password"]);
  });

  it("are satisfied by their partner", () => {
    expect(m.parseConfig({ mqtt_user: "u", mqtt_password: "p" }).mqtt_password).toBe("p");
    expect(m.parseConfig({ ssid: "n", password: "p" }).password).toBe("p");
    expect(m.parseConfig({ mqtt_tls: "yes", mqtt_pin_sha256: hexPinText() }).mqtt_pin_sha256).toBe(hexPinText());
  });
});

describe("ConfigErrors", () => {
  it("counts, names and lists every bad key", () => {
    const errors: ConfigErrors = thrown(m.ConfigErrors, () => m.parseConfig({ mqtt_qos: "3", sntp: "" }));
    expect(errors).toBeInstanceOf(m.ConfigError);
    expect(errors.name).toBe("ConfigErrors");
    expect(errors.key).toBe("mqtt_qos");
    expect(errors.message).toBe('2 bad config keys:\n  config "mqtt_qos": expected an integer from 0 to 2, got 3\n  config "sntp": must not be empty');
    expect(errors.errors.map((e) => e.name)).toEqual(["ConfigError", "ConfigError"]);
  });

  it("lists every known key for an unknown one, and the nearest when it is near", () => {
    const known = Object.keys(README_DEFAULTS).join(", ");
    expect(only({ zzzzzzzz: "1" })).toBe(`config "zzzzzzzz": unknown key (known keys: ${known})`);
    expect(only({ mqtt_hots: "1" })).toBe(`config "mqtt_hots": unknown key; did you mean "mqtt_host"? (known keys: ${known})`);
  });

  it("suggests within a third of the key's length, at least 2 edits, ignoring case and '.'/'-'", () => {
    const suggestion = (key: string) => /did you mean "([a-z_0-9]+)"/.exec(only({ [key]: "1" }))?.[1];
    expect(suggestion("ssdi")).toBe("ssid"); // 2 edits in 4 characters: the floor of 2
    expect(suggestion("zzzd")).toBeUndefined(); // 3 edits
    expect(suggestion("mqtt_keepalivexxx")).toBe("mqtt_keepalive"); // 3 edits in 17 characters: 17/3 = 5
    expect(suggestion("mqtt_kXXXXlive")).toBe("mqtt_keepalive"); // 4 edits in 14 characters: 14/3 = 4
    expect(suggestion("mqtt_kXXXXXive")).toBeUndefined(); // 5 edits
    expect(suggestion("MQTT.QOS")).toBe("mqtt_qos");
    expect(suggestion("mqt.qs")).toBe("mqtt_qos"); // 2 edits once '.' reads as '_' (3 if it were dropped)
    expect(suggestion("Web-Port")).toBe("web_port");
  });

  it("skips undefined values and the keys the Moddable build adds", () => {
    expect(m.parseConfig({ mqtt_port: undefined, interval_ms: undefined }).mqtt_port).toBe(0);
    for (const key of ["screen", "touch", "driverRotation", "rotation", "startupSound", "led"]) {
      expect({ ...m.parseConfig({ [key]: "anything" }) }).toEqual(README_DEFAULTS);
    }
    expect(only({ format: "rgb565le" })).toContain('config "format": unknown key');
  });
});

describe("firmwareKeys", () => {
  it("drops the SDK's objects and its screen format, keeps every other key for the parser to judge", () => {
    const raw = { file: { root: "/" }, tls: { ca: "x" }, nothing: null, format: "rgb565le", mqtt_port: "1884", mistyped: "1", deadband: 0.5 };
    expect(m.firmwareKeys(raw)).toEqual({ mqtt_port: "1884", mistyped: "1", deadband: 0.5 });
    expect(m.firmwareKeys({})).toEqual({});
  });
});

function hexPinText(): string {
  return "ab".repeat(32);
}
