// manifest.json is kept by hand beside src/config, boards/ and src/: these checks keep the four in step, so a new
// config key, board or module cannot be forgotten in the Moddable build.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_DEFAULTS } from "../../src/config/defaults";
import { DRIVERS } from "../../src/sensors/drivers";

const ROOT = join(__dirname, "..", "..");
const manifest = JSON.parse(readFileSync(join(ROOT, "manifest.json"), "utf8")) as {
  modules: Record<string, string>;
  preload: string[];
  config: Record<string, unknown>;
  platforms: Record<string, {
    include?: string[]; modules?: Record<string, string>; build?: Record<string, string>; data?: Record<string, string>; config?: Record<string, string>;
  }>;
};

function filesUnder(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path, suffix));
    else if (entry.name.endsWith(suffix)) out.push(path);
  }
  return out;
}

/** Per-platform modules: src/platform/moddable/<platform>/<name>.ts, built as "platform/moddable/<name>" on that platform. */
const PER_PLATFORM = /^platform\/moddable\/(esp32|lin)\/([^/]+)$/;

/** Module names of the device build: src/<folder>/<name>.ts, minus the Node-only platform and the entry. */
const deviceModules = filesUnder(join(ROOT, "src"), ".ts")
  .map((file) => relative(join(ROOT, "src"), file).replace(/\.ts$/, ""))
  .filter((name) => !name.startsWith("platform/node/") && name !== "main")
  .map((name) => name.replace(PER_PLATFORM, "platform/moddable/$2"))
  .filter((name, i, all) => all.indexOf(name) === i);

describe("manifest.json", () => {
  it("declares every firmware config key with the parser's default, and no other", () => {
    // "tls" is the SDK's own key (ssl_ciphersuites.js), which main.ts leaves out before parsing.
    expect(Object.keys(manifest.config).filter((key) => key !== "tls").sort()).toEqual(Object.keys(CONFIG_DEFAULTS).sort());
    for (const [key, value] of Object.entries(CONFIG_DEFAULTS)) expect(manifest.config[key], key).toEqual(value);
  });

  it("builds the SDK's TLS with RSA key exchange only (its (EC)DHE skips the server's signature; docs/tls-sdk-flaws.md)", () => {
    expect(manifest.config.tls).toEqual({ DHE_RSA: false, ECDHE_RSA: false });
  });

  it("maps every device module to a manifest module entry", () => {
    const mapped = (name: string) =>
      Object.entries(manifest.modules).some(([pattern, path]) =>
        pattern.endsWith("/*") ? name.startsWith(pattern.slice(0, -1)) && path === `./src/${pattern}` : pattern === name);
    for (const name of deviceModules) {
      if (name === "platform/moddable/partition") continue; // per platform, checked below
      expect(mapped(name), `src/${name}.ts has no entry in manifest.json "modules"`).toBe(true);
    }
  });

  it("maps the flash log's partition per platform, includes the SDK module it needs, and gives every esp32 board our partition table", () => {
    for (const [platform, entry] of Object.entries(manifest.platforms)) {
      if (entry.config?.board === undefined) continue;
      const folder = platform.startsWith("esp32/") ? "esp32" : "lin";
      expect(entry.modules?.["platform/moddable/partition"], platform).toBe(`./src/platform/moddable/${folder}/partition`);
      if (folder === "esp32") {
        expect(entry.include, platform).toContain("$(MODULES)/files/flash/manifest.json");
        expect(entry.build?.PARTITIONS_FILE, platform).toBe("./partitions/flashlog-4mb.csv");
      } else {
        expect(entry.include, platform).toContain("$(MODULES)/files/file/manifest.json");
      }
    }
    const csv = readFileSync(join(ROOT, "partitions", "flashlog-4mb.csv"), "utf8");
    const rows = csv.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#")).map((line) => line.split(",").map((f) => f.trim()));
    let end = 0;
    for (const [name, , , offset, size] of rows) {
      expect(Number(offset), `${name} starts where the previous partition ends`).toBe(end === 0 ? Number(offset) : end);
      end = Number(offset) + Number(size);
    }
    expect(end, "the table fills the 4 MB flash exactly").toBe(4 * 1024 * 1024);
    const log = rows.find((row) => row[0] === "xsmqtt") as string[];
    expect(log.slice(1, 3)).toEqual(["data", "0x99"]);
    expect(Number(log[4])).toBe(256 * 1024);
    expect(readFileSync(join(ROOT, "src/platform/moddable/esp32/partition.ts"), "utf8")).toContain('PARTITION_NAME = "xsmqtt"');
  });

  // Preloading runs a module at build time and freezes what it made. The SDK's `preference` module keeps a writable
  // cache at module level, so it and whatever imports it stay out: preloading them made mcsim drop every save silently.
  const NOT_PRELOADED: Record<string, string> = {
    "platform/moddable/preference-store": "imports the SDK preference module (module-level cache must stay writable)",
    "platform/moddable/platform": "imports preference-store",
  };

  it("preloads every other device module (so it runs from flash, not RAM)", () => {
    for (const name of deviceModules) {
      if (name in NOT_PRELOADED) expect(manifest.preload, `${name}: ${NOT_PRELOADED[name]}`).not.toContain(name);
      else expect(manifest.preload, `"${name}" missing from manifest.json "preload"`).toContain(name);
    }
  });

  it("preloads no module that imports the SDK preference module", () => {
    for (const name of manifest.preload.filter((n) => deviceModules.includes(n))) {
      if (name === "platform/moddable/partition") continue;
      const source = readFileSync(join(ROOT, "src", `${name}.ts`), "utf8");
      expect(source, `${name} imports "preference"`).not.toMatch(/from\s+"preference"/);
      expect(source, `${name} imports preference-store`).not.toMatch(/preference-store"/);
    }
  });

  it("has a platforms entry for every board file, bundling that file and naming the drivers it uses", () => {
    const boardFiles = filesUnder(join(ROOT, "boards"), ".json").map((file) => relative(join(ROOT, "boards"), file).replace(/\.json$/, ""));
    expect(boardFiles.length).toBeGreaterThanOrEqual(6);
    for (const subplatform of boardFiles) {
      const entry = manifest.platforms[subplatform];
      expect(entry, `no platforms entry for boards/${subplatform}.json`).toBeDefined();
      expect(entry.data?.board).toBe(`./boards/${subplatform}`);
      expect(entry.config?.board).toBe(subplatform);
      const board = JSON.parse(readFileSync(join(ROOT, "boards", `${subplatform}.json`), "utf8")) as { sensors: Array<{ driver: string; bus: string }> };
      for (const sensor of board.sensors) {
        if (sensor.bus === "sim") continue;
        const driverManifest = DRIVERS[sensor.driver]?.manifest;
        expect(driverManifest, `driver ${sensor.driver} has no SDK manifest in src/sensors/drivers.ts`).toBeDefined();
        expect(entry.include ?? [], `${subplatform} must include the ${sensor.driver} driver`).toContain(driverManifest);
      }
    }
  });
});
