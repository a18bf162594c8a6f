// End to end against a real mosquitto: the simulator as a child process, an MQTT.js witness counting distinct seqs,
// with link cuts, power-cut reboots and SIGKILL-and-restart cycles on the same data dir.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mosquittoSkip, startMosquitto, type MosquittoBroker } from "../support/mosquitto";
import { EVERY_SAMPLE_BOARD, removeDir, runSim, SimProcess, sleep, startWitness, tempDir, until, type SeqLedger } from "./harness";

describe.skipIf(mosquittoSkip)("simulator against mosquitto", () => {
  let broker: MosquittoBroker;
  const dir = tempDir("mosq");

  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.dispose();
    removeDir(dir);
  });

  let testNo = 0;
  /** A fresh prefix, device id and data dir per test, and the command line for them. */
  function setup(qos: 0 | 1 | 2, samples: number, extra: string[] = []) {
    testNo++;
    const prefix = `e2e${process.pid}t${testNo}`;
    const args = [
      "--json", "--broker", broker.url, "--prefix", prefix, "--device-id", "dev", "--qos", String(qos), "--samples", String(samples),
      "--interval-ms", "100", "--board", EVERY_SAMPLE_BOARD, "--data-dir", path.join(dir, prefix), "--deadline-ms", "60000", ...extra,
    ];
    return { prefix, args };
  }

  async function expectAllOnce(ledger: SeqLedger, nextSeq: number, exactlyOnce: boolean): Promise<void> {
    await until(() => ledger.distinct("dev") >= nextSeq, 15_000, `${nextSeq} distinct seqs at the witness (have ${ledger.distinct("dev")})`);
    expect(ledger.missing("dev", nextSeq)).toEqual([]);
    if (exactlyOnce) expect(ledger.duplicates("dev")).toEqual([]);
  }

  it("QoS 2: all N readings arrive exactly once", async () => {
    const { prefix, args } = setup(2, 40);
    const witness = await startWitness(broker.url, prefix);
    try {
      const { code, sim } = await runSim(args, 90_000);
      expect(code, sim.stderr + sim.stdout.slice(-2000)).toBe(0);
      expect(sim.events.find((e) => e.event === "finished")).toMatchObject({ firstSeq: 0, nextSeq: 40, taken: 40 });
      await expectAllOnce(witness.ledger, 40, true);
    } finally {
      await witness.close();
    }
  }, 120_000);

  it("QoS 2 with --drop-link-every: all arrive exactly once", async () => {
    const { prefix, args } = setup(2, 40, ["--drop-link-every", "300"]);
    const witness = await startWitness(broker.url, prefix);
    try {
      const { code, sim } = await runSim(args, 90_000);
      expect(code, sim.stderr + sim.stdout.slice(-2000)).toBe(0);
      expect(sim.count("link-drop")).toBeGreaterThanOrEqual(3);
      await expectAllOnce(witness.ledger, 40, true);
    } finally {
      await witness.close();
    }
  }, 120_000);

  /** Kills the simulator with SIGKILL `kills` times, each after some readings of that run, then lets a last run finish. */
  async function killCycles(args: string[], kills: number): Promise<{ nextSeq: number; boots: number }> {
    for (let k = 0; k < kills; k++) {
      const sim = new SimProcess(args);
      const after = 5 + k * 3;
      await sim.waitFor(() => sim.count("reading") >= after, 60_000, `${after} readings before kill ${k + 1}`);
      await sleep(Math.floor(Math.random() * 150));
      sim.kill("SIGKILL");
      await sim.exited;
    }
    const { code, sim } = await runSim(args, 90_000);
    expect(code, sim.stderr + sim.stdout.slice(-2000)).toBe(0);
    const finished = sim.events.find((e) => e.event === "finished") as { nextSeq: number; boot: number } | undefined;
    expect(finished).toBeDefined();
    return { nextSeq: finished?.nextSeq ?? 0, boots: finished?.boot ?? 0 };
  }

  it("QoS 2 with SIGKILL-and-restart cycles on the same data dir: every seq exactly once", async () => {
    const { prefix, args } = setup(2, 20);
    const witness = await startWitness(broker.url, prefix);
    try {
      const { nextSeq, boots } = await killCycles(args, 3);
      expect(boots).toBe(4);
      expect(nextSeq).toBeGreaterThanOrEqual(20 + 5 + 8 + 11);
      await expectAllOnce(witness.ledger, nextSeq, true);
    } finally {
      await witness.close();
    }
  }, 240_000);

  it("QoS 1 with --reboot-every and SIGKILL cycles: every seq at least once", async () => {
    const { prefix, args } = setup(1, 20, ["--reboot-every", "700", "--drop-link-every", "450"]);
    const witness = await startWitness(broker.url, prefix);
    try {
      const { nextSeq } = await killCycles(args, 2);
      await expectAllOnce(witness.ledger, nextSeq, false);
    } finally {
      await witness.close();
    }
  }, 240_000);
});
