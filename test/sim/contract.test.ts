// What a user of the simulator's output relies on: a pipe that closes ends the run quietly, the --json contract
// (every event has t, exit is last, one retained offline), counters that stay true offline, settings stored by command.
import { spawn } from "node:child_process";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, EVERY_SAMPLE_BOARD, ROOT, removeDir, runSim, SimProcess, tempDir, type SimJsonEvent } from "./harness";

const dir = tempDir("contract");
afterAll(() => removeDir(dir));

/** Checks the --json contract on one run's events: every event has a numeric t, exit comes once and last. */
function expectJsonContract(events: readonly SimJsonEvent[]): void {
  expect(events.length).toBeGreaterThan(0);
  for (const e of events) expect(typeof e.t, JSON.stringify(e)).toBe("number");
  expect(events.filter((e) => e.event === "exit")).toHaveLength(1);
  expect(events[events.length - 1].event).toBe("exit");
}

describe("piping", () => {
  it.each([
    ["--json", "no --samples (runs until stopped)", ["--json"]],
    ["text", "no --samples (runs until stopped)", []],
  ])("%s, %s: the reader closing its end stops the run quietly with 0 (no EPIPE stack)", async (_mode, _what, extra) => {
    const child = spawn(process.execPath, [BIN, ...extra, "--interval-ms", "100", "--board", EVERY_SAMPLE_BOARD, "--data-dir", path.join(dir, `pipe-${extra.length}`)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // Like `| head -1`: read the first chunk, then close the pipe.
    child.stdout.once("data", () => child.stdout.destroy());
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    clearTimeout(timer);
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
    expect(code).toBe(0);
  }, 60_000);
});

describe("--json contract", () => {
  it("two --samples runs on the embedded broker: t on every event, exit last, the retained offline once", async () => {
    const data = path.join(dir, "json-contract");
    for (let run = 0; run < 2; run++) {
      const { code, sim } = await runSim(["--json", "--samples", "2", "--interval-ms", "100", "--board", EVERY_SAMPLE_BOARD, "--data-dir", data], 60_000);
      expect(code, sim.stderr).toBe(0);
      expectJsonContract(sim.events);
      const offline = sim.events.filter((e) => e.event === "broker-message" && e.topic === "xsms/sim-1/status" && e.payload === "offline");
      expect(offline).toHaveLength(1);
    }
  }, 120_000);

  it("a bad option: the exit event has t too, and (see --help) is said once", async () => {
    const { code, sim } = await runSim(["--json", "--bogus"], 30_000);
    expect(code).toBe(2);
    expectJsonContract(sim.events);
    expect(sim.stderr.match(/see --help/g)).toHaveLength(1);
  });

  it("the broker event carries mosquitto_sub / mosquitto_pub lines with the real port and this device's topics", async () => {
    const { code, sim } = await runSim(["--json", "--samples", "1", "--board", EVERY_SAMPLE_BOARD, "--device-id", "paste-me", "--data-dir", path.join(dir, "paste")], 60_000);
    expect(code, sim.stderr).toBe(0);
    const broker = sim.events.find((e) => e.event === "broker") as SimJsonEvent;
    const port = /:(\d+)$/.exec(String(broker.url))?.[1];
    expect(broker.subscribe).toBe(`mosquitto_sub -h 127.0.0.1 -p ${port} -v -t 'xsms/paste-me/#'`);
    expect(broker.publish).toBe(`mosquitto_pub -h 127.0.0.1 -p ${port} -t xsms/paste-me/cmd/interval -m '{"ms": 5000}'`);
  }, 90_000);
});

describe("counters", () => {
  it("offline at the deadline: the last status shows what is queued, and taken counts every reading", async () => {
    // Port 1 refuses: the device never connects, so its readings stay queued.
    const { code, sim } = await runSim(
      ["--json", "--broker", "mqtt://127.0.0.1:1", "--samples", "3", "--interval-ms", "100", "--board", EVERY_SAMPLE_BOARD, "--deadline-ms", "3000", "--data-dir", path.join(dir, "offline")],
      60_000,
    );
    expect(code).toBe(1);
    const statuses = sim.events.filter((e) => e.event === "status");
    expect(statuses[statuses.length - 1]).toMatchObject({ taken: 3, delivered: 0 });
    expect(Number(statuses[statuses.length - 1].queued)).toBeGreaterThan(0);
    expect(String(sim.events[sim.events.length - 1].message)).toContain("message(s) queued");
  }, 60_000);

  it("the next boot's line counts the readings left undelivered, which wait in the store as records (QoS 1)", async () => {
    const data = path.join(dir, "offline-twice");
    const args = ["--json", "--broker", "mqtt://127.0.0.1:1", "--qos", "1", "--samples", "3", "--interval-ms", "100", "--board", EVERY_SAMPLE_BOARD, "--deadline-ms", "3000", "--data-dir", data];
    const first = await runSim(args, 60_000);
    expect(first.code).toBe(1);
    expect(first.sim.events.find((e) => e.event === "boot")).toMatchObject({ boot: 1, queuedReadings: 0 });
    const second = await runSim(args, 60_000);
    expect(second.sim.events.find((e) => e.event === "boot")).toMatchObject({ boot: 2, nextSeq: 3, queuedReadings: 3 });
  }, 120_000);

  it("taken counts readings waiting in an open batch, before their batch is published", async () => {
    const config = path.join(dir, "batching.json");
    (await import("node:fs")).writeFileSync(config, JSON.stringify({ batch_max: 100, batch_window_ms: 60_000 }));
    const { code, sim } = await runSim(
      ["--json", "--samples", "25", "--interval-ms", "100", "--board", EVERY_SAMPLE_BOARD, "--config", config, "--data-dir", path.join(dir, "batching")],
      90_000,
    );
    expect(code, sim.stderr).toBe(0);
    // Readings published so far, at each status line. A reading taken before the first CONNACK goes out alone when the
    // link comes up (the sampler sends what piled up offline at once), so whether any status precedes the first
    // `reading` event is a race; the 2.4 s the other readings wait in the open batch always holds status lines.
    let published = 0;
    const waiting: number[] = [];
    for (const e of sim.events) {
      if (e.event === "reading") published += Number(e.last) - Number(e.first) + 1;
      if (e.event === "status") waiting.push(Number(e.taken) - published);
    }
    expect(waiting.length).toBeGreaterThan(0);
    expect(Math.max(...waiting)).toBeGreaterThan(0);
    expect(sim.events.find((e) => e.event === "finished")).toMatchObject({ taken: 25 });
  }, 120_000);
});

describe("the broker password", () => {
  it("given in the URL, appears nowhere in the run's output, which warns that ps shows it", async () => {
    const secret = "pw-0f9e8d7c";
    const { sim } = await runSim(
      ["--json", "--broker", `mqtt://user:${secret}@127.0.0.1:1`, "--samples", "1", "--deadline-ms", "1500", "--board", EVERY_SAMPLE_BOARD, "--data-dir", path.join(dir, "secret")],
      60_000,
    );
    expect(sim.stdout + sim.stderr).not.toContain(secret);
    expect(sim.events.some((e) => e.event === "warning" && String(e.message).includes("ps"))).toBe(true);
    const broker = sim.events.find((e) => e.event === "broker") as SimJsonEvent;
    expect(broker.subscribe).toContain('-u user -P "$XS_MQTT_SIM_PASSWORD"');
  }, 60_000);
});

describe("settings stored by command vs options", () => {
  it("a later run says which stored setting overrides which option; --reset-settings goes back to the options", async () => {
    const data = path.join(dir, "settings");
    const first = new SimProcess(["--json", "--interval-ms", "100", "--board", EVERY_SAMPLE_BOARD, "--data-dir", data]);
    try {
      const broker = await first.waitFor((e) => e.event === "broker", 30_000, "broker");
      await first.waitFor((e) => e.event === "connected", 30_000, "connected");
      const client = await mqtt.connectAsync(String(broker.url), { clientId: `settings-${process.pid}` });
      await client.publishAsync("xsms/sim-1/cmd/interval", JSON.stringify({ ms: 5000, id: 1 }), { qos: 1 });
      await first.waitFor((e) => e.event === "broker-message" && e.topic === "xsms/sim-1/reply", 30_000, "reply");
      await client.endAsync();
      first.kill("SIGINT");
      expect((await first.exited).code).toBe(0);
    } finally {
      first.kill("SIGKILL");
    }

    const second = await runSim(["--json", "--interval-ms", "100", "--samples", "1", "--board", EVERY_SAMPLE_BOARD, "--data-dir", data], 60_000);
    expect(second.code, second.sim.stderr).toBe(0);
    const warning = second.sim.events.find((e) => e.event === "warning" && String(e.message).includes("override"));
    expect(warning?.message).toContain("interval of env 5000 ms (options/config: 100 ms)");
    expect(warning?.message).toContain("--reset-settings");
    // The default deadline follows the stored 5 s interval (every-sample board), not --interval-ms 100.
    expect(second.sim.events.some((e) => e.event === "info" && String(e.message).startsWith("deadline 75000 ms for 1 reading(s): up to 5000 ms per reading"))).toBe(true);

    const third = await runSim(["--json", "--interval-ms", "100", "--samples", "3", "--reset-settings", "--board", EVERY_SAMPLE_BOARD, "--data-dir", data], 60_000);
    expect(third.code, third.sim.stderr).toBe(0);
    expect(third.sim.events.some((e) => e.event === "info" && String(e.message).includes("--reset-settings"))).toBe(true);
    expect(third.sim.events.some((e) => e.event === "warning" && String(e.message).includes("override"))).toBe(false);
    // Back at 100 ms: three readings take well under the stored 5 s interval would need (10 s).
    const t = (name: string) => Number(third.sim.events.find((e) => e.event === name)?.t);
    expect(t("finished") - t("boot")).toBeLessThan(8_000);
  }, 180_000);
});
