// The simulator's option parser on its own (no child process): messages, secrets, --config manifest.json, password sources.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseArgs, PASSWORD_ENV, redactUrl, UsageError } from "../../src/platform/node/sim/options";

const dir = mkdtempSync(path.join(os.tmpdir(), "sim-options-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function usageMessage(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseArgs(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`parseArgs(${JSON.stringify(argv)}) accepted it`);
}

describe("simulator options: messages", () => {
  it("an unknown option is named once, without its own (see --help) (the caller adds one)", () => {
    const message = usageMessage(["--bogus"]);
    expect(message).toMatch(/^--bogus: unknown option/);
    expect(message).not.toContain("see --help");
  });

  it("a bare word is an unexpected argument, not a near miss of -h", () => {
    const message = usageMessage(["foo"]);
    expect(message).toContain("unexpected argument");
    expect(message).not.toContain("-h");
  });

  it("a port out of range is called that, not 'not a URL'", () => {
    expect(usageMessage(["--broker", "mqtt://127.0.0.1:99999"])).toContain("port 99999 is out of range (1 to 65535)");
    expect(usageMessage(["--broker", "mqtt://127.0.0.1:0"])).toContain("port 0 is out of range");
    expect(usageMessage(["--broker", "mqtt://127.0.0.1:x1"])).toContain('the port must be a number from 1 to 65535, got "x1"');
  });

  it("several bad config values: a count as the heading, then one line each naming where it came from", () => {
    const file = path.join(dir, "two-bad.json");
    writeFileSync(file, JSON.stringify({ interval_ms: "x", mqtt_qos: 7 }));
    const message = usageMessage(["--config", file]);
    expect(message.split("\n")[0]).toBe("2 bad values:");
    expect(message).toContain(`  --config ${file}: "interval_ms": expected an integer of ms`);
    expect(message).toContain(`  --config ${file}: "mqtt_qos": expected an integer from 0 to 2, got 7`);
  });

  it("--board's file-name rule allows any folder (the board validator says so too)", async () => {
    const { validateBoard } = await import("../../src/boards/validate");
    const board = { subplatform: "esp32/m5stack", name: "x", source: "x", soc: "esp32", pins: {}, sensors: [] };
    expect(() => validateBoard(board, "elsewhere/m5.json")).toThrow(/must end in esp32\/m5stack\.json \(boards\/esp32\/m5stack\.json in this repository, any folder/);
  });
});

describe("simulator options: the broker password is never shown and need not be on the command line", () => {
  const secret = "hunter2-xyzzy";

  it.each([
    ["mqtt://user:" + secret + "@127.0.0.1:99999"],
    ["mqtt://user:" + secret + "@127.0.0.1:1/path"],
    ["mqtt//user:" + secret + "@host"],
    ["mqtt://user:" + secret + "%zz@127.0.0.1:1883"],
    ["ftp://user:" + secret + "@host"],
  ])("%s: refused without the password in the message", (url) => {
    const message = usageMessage(["--broker", url]);
    expect(message).not.toContain(secret);
    expect(message).not.toContain(secret.slice(0, 6));
  });

  it("a bad %-escape is a usage error that says how to write %, not a URIError", () => {
    expect(usageMessage(["--broker", "mqtt://user:a%zz@127.0.0.1:1883"])).toContain("bad %-escape (write a literal % as %25)");
  });

  it("a numeric mqtt_password in --config is refused without echoing it", () => {
    const file = path.join(dir, "numeric-password.json");
    writeFileSync(file, JSON.stringify({ mqtt_user: "u", mqtt_password: 982451653 }));
    const message = usageMessage(["--config", file]);
    expect(message).toContain('"mqtt_password": expected a string');
    expect(message).not.toContain("982451653");
  });

  it("redactUrl hides only the password", () => {
    expect(redactUrl("mqtt://u:p@h:1")).toBe("mqtt://u:***@h:1");
    expect(redactUrl("mqtt://u@h:1")).toBe("mqtt://u@h:1");
    expect(redactUrl("mqtt://h:1")).toBe("mqtt://h:1");
  });

  it("--password-file: the first line is the password, and the URL carries only the user", () => {
    const file = path.join(dir, "password.txt");
    writeFileSync(file, `${secret}\n`);
    const options = parseArgs(["--broker", "mqtt://user@127.0.0.1:1883", "--password-file", file]);
    expect(options.config.mqtt_user).toBe("user");
    expect(options.config.mqtt_password).toBe(secret);
    expect(options.warnings).toEqual([]);
  });

  it(`${PASSWORD_ENV}: the password from the environment`, () => {
    const options = parseArgs(["--broker", "mqtt://user@127.0.0.1:1883"], { [PASSWORD_ENV]: secret });
    expect(options.config.mqtt_password).toBe(secret);
  });

  it("a password in the URL still works, with a warning that ps shows it (the warning does not repeat it)", () => {
    const options = parseArgs(["--broker", `mqtt://user:${secret}@127.0.0.1:1883`]);
    expect(options.config.mqtt_password).toBe(secret);
    expect(options.warnings.join("\n")).toContain("ps");
    expect(options.warnings.join("\n")).not.toContain(secret);
  });

  it("a password in the URL and in --password-file: refused, so it is clear which one counts", () => {
    const file = path.join(dir, "password2.txt");
    writeFileSync(file, "other\n");
    expect(usageMessage(["--broker", `mqtt://user:${secret}@127.0.0.1:1883`, "--password-file", file])).not.toContain(secret);
  });
});

describe("simulator options: --config manifest.json", () => {
  it("takes the manifest's config with the lin platform's on top, and keeps the embedded broker", () => {
    const options = parseArgs(["--config", "manifest.json"]);
    expect(options.broker).toBeUndefined();
    expect(options.config.board).toBe("lin");
    expect(options.config.device_id).toBe("sim-1");
    // The manifest's own values apply: it is the firmware's config.
    expect(options.config.interval_ms).toBe(10_000);
    expect(options.dataDir).toBe(path.join(".sim-data", "sim-1"));
  });

  it("leaves out the SDK's own settings (objects such as tls) as the firmware does, and still reports a mistyped key", () => {
    const file = path.join(dir, "manifest-sdk.json");
    const manifest = (config: Record<string, unknown>) => JSON.stringify({ include: [], modules: {}, config: { tls: { DHE_RSA: false, ECDHE_RSA: false }, ...config } });
    writeFileSync(file, manifest({ batch_max: 7 }));
    const options = parseArgs(["--config", file]);
    expect(options.config.batch_max).toBe(7);
    expect(options.configRaw).not.toHaveProperty("tls");
    writeFileSync(file, manifest({ batch_mx: 7 }));
    expect(usageMessage(["--config", file])).toContain('"batch_mx": unknown key; did you mean "batch_max"?');
  });

  it("a manifest that names another broker host is followed, and says so", () => {
    const file = path.join(dir, "manifest.json");
    writeFileSync(file, JSON.stringify({ include: [], modules: {}, config: { mqtt_host: "broker.example", board: "" } }));
    const options = parseArgs(["--config", file]);
    expect(options.broker).toMatchObject({ host: "broker.example", port: 1883 });
    expect(options.warnings.join("\n")).toContain("mqtt_host broker.example");
  });
});

describe("simulator options: --config as inline JSON", () => {
  it("takes the object given on the command line, and names its keys in errors", () => {
    expect(parseArgs(["--config", '{"batch_max": 5, "deadband": "0"}']).config).toMatchObject({ batch_max: 5, deadband: "0" });
    expect(usageMessage(["--config", '{"batch_max": 0}'])).toContain('--config "batch_max": expected an integer from 1 to 100, got 0');
    expect(usageMessage(["--config", "{batch_max: 5}"])).toContain("the JSON given is not JSON");
  });
});

describe("simulator options: --every-sample", () => {
  it("sets deadband 0 (the run also drops the board's per-channel deadbands)", () => {
    expect(parseArgs(["--every-sample"]).config.deadband).toBe("0");
    expect(parseArgs(["--every-sample"]).everySample).toBe(true);
  });
});
