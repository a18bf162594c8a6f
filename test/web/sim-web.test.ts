// The simulator's status pages as a user sees them: the address printed at start, a fleet's first few plus the list
// file, --no-web, and a page that answers while the device runs.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_IMAGE_BYTES, IMAGE_BLOCK_BYTES } from "../../src/platform/node/flash-file";
import { parseArgs } from "../../src/platform/node/sim/options";
import type { StatusReport } from "../../src/web/status";
import { SimProcess, removeDir, runSim, tempDir, until } from "../sim/harness";

describe("simulator status pages", () => {
  it("prints one address for one device, and the page answers with that device's state", { timeout: 90_000 }, async () => {
    const dir = tempDir("web1");
    try {
      const sim = new SimProcess(["--data-dir", dir, "--interval-ms", "200"]);
      await until(() => /status page: http:\/\/127\.0\.0\.1:\d+\/\n/.test(sim.stdout), 60_000, "the status page line");
      const url = /status page: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(sim.stdout)![1];
      const status = (await (await fetch(url + "status.json")).json()) as StatusReport;
      expect(status.device.id).toBe("sim-1");
      // The health of the simulator's own flash log: its image's 64 blocks of 4 KB, read from that store.
      expect(status.store?.sectors).toMatchObject({ total: DEFAULT_IMAGE_BYTES / IMAGE_BLOCK_BYTES, retired: 0 });
      expect(status.store?.sectors.used).toBeGreaterThan(0);
      expect(status.store?.programmedBytes).toBeGreaterThan(0);
      sim.kill("SIGKILL");
      await sim.exited;
    } finally {
      removeDir(dir);
    }
  });

  it("a fleet prints the first 3 and lists every address in DIR/status-pages.txt; --json has them all", { timeout: 240_000 }, async () => {
    const dir = tempDir("web5");
    try {
      const { code, sim } = await runSim(["--devices", "5", "--samples", "1", "--data-dir", dir], 120_000);
      expect(code).toBe(0);
      expect(sim.stdout.match(/status page: http:\/\/127\.0\.0\.1:\d+\//g)).toHaveLength(3);
      const file = path.join(dir, "status-pages.txt");
      expect(sim.stdout).toContain(`status pages of all 5 devices: ${file}`);
      const lines = readFileSync(file, "utf8").trim().split("\n");
      expect(lines).toHaveLength(5);
      expect(lines[4]).toMatch(/^sim-005 http:\/\/127\.0\.0\.1:\d+\/$/);
      const json = await runSim(["--devices", "5", "--samples", "1", "--data-dir", dir, "--json"], 120_000);
      expect(json.sim.count("web")).toBe(5);
    } finally {
      removeDir(dir);
    }
  });

  it("--no-web serves and prints none", { timeout: 120_000 }, async () => {
    const dir = tempDir("web0");
    try {
      const { code, sim } = await runSim(["--samples", "1", "--data-dir", dir, "--no-web"], 120_000);
      expect(code).toBe(0);
      expect(sim.stdout).not.toContain("status page");
    } finally {
      removeDir(dir);
    }
  });

  it("parses the switch: on by default, off with --no-web or config web_port 0", () => {
    expect(parseArgs([]).web).toBe(true);
    expect(parseArgs(["--no-web"]).web).toBe(false);
    const dir = tempDir("webcfg");
    try {
      const file = path.join(dir, "c.json");
      writeFileSync(file, JSON.stringify({ web_port: 0 }));
      expect(parseArgs(["--config", file]).web).toBe(false);
    } finally {
      removeDir(dir);
    }
  });
});
