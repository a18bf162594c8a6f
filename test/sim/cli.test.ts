// The simulator's command line as a contract: help, exit code 2 naming the bad option or key, plain piped output, and the embedded broker.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EVERY_SAMPLE_BOARD, ledgerFromBrokerEvents, removeDir, runSim, tempDir } from "./harness";

const dir = tempDir("cli");
afterAll(() => removeDir(dir));

describe("xs-mqtt-sim command line", () => {
  it("--help prints the options and exits 0", async () => {
    const { code, sim } = await runSim(["--help"], 30_000);
    expect(code).toBe(0);
    for (const option of ["--broker", "--samples", "--data-dir", "--devices", "--drop-link-every", "--reboot-every", "--json", "--deadline-ms"]) {
      expect(sim.stdout).toContain(option);
    }
  });

  it.each([
    [["--qos", "3"], "--qos"],
    [["--interval-ms", "fast"], "--interval-ms"],
    [["--intervl-ms", "100"], "--intervl-ms"],
    [["--broker", "ftp://x"], "--broker"],
    [["--samples", "0"], "--samples"],
    [["--device-id", "has space"], "--device-id"],
    [["--samples"], "--samples"],
  ])("bad option %j: exit 2 naming %s", async (args, option) => {
    const { code, sim } = await runSim(args, 30_000);
    expect(code).toBe(2);
    expect(sim.stderr).toContain(option);
  });

  it("a bad key in --config is named with the file, exit 2", async () => {
    const file = path.join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ mqtt_qos: 1, batch_max: 0 }));
    const { code, sim } = await runSim(["--config", file], 30_000);
    expect(code).toBe(2);
    expect(sim.stderr).toContain(`--config ${file}: "batch_max"`);
  });

  it("piped: --samples 5 on the embedded broker prints the readings as plain lines and exits 0", async () => {
    const { code, sim } = await runSim(["--samples", "5", "--interval-ms", "100", "--board", EVERY_SAMPLE_BOARD, "--data-dir", path.join(dir, "plain")], 60_000);
    expect(code, sim.stderr).toBe(0);
    expect(sim.stdout).not.toMatch(/\x1b\[/);
    expect(sim.stdout).toMatch(/embedded broker on mqtt:\/\/127\.0\.0\.1:\d+/);
    expect(sim.stdout).toMatch(/broker: xsms\/sim-1\/telemetry q1 env seq 4: t=/);
    expect(sim.stdout).toMatch(/done: every device took its 5 reading/);
  }, 90_000);

  it("--json: QoS 2 on the embedded broker, every seq once at the broker; a second run on the same dir resumes the seqs", async () => {
    const data = path.join(dir, "json");
    const first = await runSim(["--json", "--qos", "2", "--samples", "20", "--interval-ms", "100", "--board", EVERY_SAMPLE_BOARD, "--data-dir", data], 60_000);
    expect(first.code, first.sim.stderr).toBe(0);
    const second = await runSim(["--json", "--qos", "2", "--samples", "10", "--interval-ms", "100", "--board", EVERY_SAMPLE_BOARD, "--data-dir", data], 60_000);
    expect(second.code, second.sim.stderr).toBe(0);
    const boot = second.sim.events.find((e) => e.event === "boot");
    expect(boot).toMatchObject({ boot: 2, nextSeq: 20 });
    const finished = second.sim.events.find((e) => e.event === "finished");
    expect(finished).toMatchObject({ firstSeq: 20, nextSeq: 30, taken: 10 });
    const ledger = ledgerFromBrokerEvents([...first.sim.events, ...second.sim.events]);
    expect(ledger.missing("sim-1", 30)).toEqual([]);
    expect(ledger.duplicates("sim-1")).toEqual([]);
  }, 120_000);

  it("--json at QoS 0: every reading counted delivered (a QoS 0 delivery is reported inside publish())", async () => {
    const { code, sim } = await runSim(["--json", "--qos", "0", "--samples", "8", "--interval-ms", "100", "--board", EVERY_SAMPLE_BOARD, "--data-dir", path.join(dir, "qos0")], 60_000);
    expect(code, sim.stderr).toBe(0);
    const delivered = sim.events.filter((e) => e.event === "delivered" && String(e.topic).endsWith("/telemetry"));
    expect(delivered.reduce((n, e) => n + Number(e.readings), 0)).toBe(8);
  }, 90_000);

  it("--drop-link-every on the embedded broker: every seq still arrives (QoS 1)", async () => {
    const { code, sim } = await runSim(
      ["--json", "--qos", "1", "--samples", "30", "--interval-ms", "100", "--board", EVERY_SAMPLE_BOARD, "--drop-link-every", "400", "--data-dir", path.join(dir, "drop")],
      90_000,
    );
    expect(code, sim.stderr).toBe(0);
    expect(sim.count("link-drop")).toBeGreaterThan(0);
    expect(sim.events.find((e) => e.event === "finished")).toMatchObject({ nextSeq: 30, taken: 30 });
    expect(ledgerFromBrokerEvents(sim.events).missing("sim-1", 30)).toEqual([]);
  }, 120_000);
});
