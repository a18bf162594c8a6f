// "Reboot": our client dropped mid-flight with no end() (an object thrown away, then a SIGKILLed process), and a new
// one on the same file store directory delivers everything that was in flight or queued. A witness counts.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mosquittoSkip, startMosquitto, type MosquittoBroker } from "../support/mosquitto";
import { Progress, Publisher, SENTINEL, Witness, scratchDir } from "./harness";

const WAIT_MS = 40_000;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function broker(): Promise<MosquittoBroker> {
  const started = await startMosquitto({});
  cleanups.push(() => started.dispose());
  return started;
}

/** QoS 1 indexes (even) at least once, QoS 2 indexes (odd) exactly once, for every index in [0, n). */
function expectDelivered(witness: Witness, n: number): void {
  expect(witness.missing(n), witness.summary(n)).toEqual([]);
  expect(witness.duplicates().filter(([index]) => index % 2 === 1), witness.summary(n)).toEqual([]);
}

describe.skipIf(mosquittoSkip)("reboot on a file store", () => {
  it("a client object dropped mid-flight (no end()): a new one on the reopened store delivers the rest", async () => {
    const mosquitto = await broker();
    const progress = new Progress();
    const topic = "it/reboot";
    const witness = await Witness.start(mosquitto.url, "w-reboot", topic, 2, progress);
    cleanups.push(() => witness.close());
    const dir = scratchDir("reboot");
    const n = 300;

    const first = new Publisher({ port: mosquitto.port, dir, clientId: "p-reboot", progress });
    cleanups.push(async () => first.powerOff());
    for (let i = 0; i < n; i++) first.publish(topic, i, i % 2 === 1 ? 2 : 1, "reboot"); // queued before the link is up
    first.start();
    await progress.until(() => witness.distinct >= 100, WAIT_MS, () => `100 messages before the power cut: ${witness.summary(n)}`);
    first.powerOff();
    const left = first.depth;
    expect(left, "messages were still queued or in flight at the cut").toBeGreaterThan(8);

    const second = new Publisher({ port: mosquitto.port, dir, clientId: "p-reboot", progress });
    cleanups.push(async () => second.powerOff());
    expect(second.depth, "the reopened store holds what the dropped client had not seen acknowledged").toBe(left);
    second.start();
    await progress.until(() => second.depth === 0, WAIT_MS, () => `the second client to finish: ${second.describe()}; ${witness.summary(n)}`);
    second.client.publish(topic, SENTINEL, { qos: 2 });
    await progress.until(() => witness.sentinels > 0, WAIT_MS, () => `the sentinel: ${witness.summary(n)}`);
    expect(second.sessionPresent[0], "the broker kept the session").toBe(true);
    expectDelivered(witness, n);
    await second.end();
  }, 90_000);

  it("a process SIGKILLed mid-flight: a new process on the same directory delivers the rest", async () => {
    const mosquitto = await broker();
    const progress = new Progress();
    const topic = "it/reboot-proc";
    const witness = await Witness.start(mosquitto.url, "w-reboot-proc", topic, 2, progress);
    cleanups.push(() => witness.close());
    const dir = scratchDir("reboot-proc");
    const n = 600;

    const first = child([dir, String(mosquitto.port), "p-reboot-proc", topic, "publish", String(n)], progress);
    await progress.until(() => witness.distinct >= 150, WAIT_MS, () => `150 messages before the kill: ${witness.summary(n)}; child said ${first.lines.slice(-3).join(" | ")}`);
    first.proc.kill("SIGKILL");
    await first.exited;
    const published = first.lines.filter((line) => line.startsWith("p ")).length; // publish() returned, so committed
    expect(published, "the child was still publishing when killed").toBeLessThan(n);

    const second = child([dir, String(mosquitto.port), "p-reboot-proc", topic, "finish", "0"], progress);
    await progress.until(() => second.lines.includes("done"), WAIT_MS, () => `the second process to finish: ${witness.summary(published)}; it said ${second.lines.slice(-3).join(" | ")} ${second.stderr()}`);
    await progress.until(() => witness.sentinels > 0, WAIT_MS, () => `the sentinel: ${witness.summary(published)}`);
    const depthAtStart = Number(second.lines.find((line) => line.startsWith("depth "))?.slice(6));
    expect(depthAtStart, "the store held messages queued or in flight").toBeGreaterThan(0);
    expectDelivered(witness, published);
    // A message whose publish() committed just before the kill, unreported, is delivered too; nothing beyond it.
    expect(Math.max(...witness.counts.keys())).toBeLessThanOrEqual(published);
  }, 90_000);
});

function child(args: string[], progress: Progress): { proc: ChildProcess; lines: string[]; exited: Promise<void>; stderr: () => string } {
  const proc = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "reboot-child.ts"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let buffered = "";
  let errors = "";
  proc.stdout!.on("data", (data: Buffer) => {
    buffered += data.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    lines.push(...parts);
    progress.notify();
  });
  proc.stderr!.on("data", (data: Buffer) => (errors += data.toString()));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    await exited;
  });
  return { proc, lines, exited, stderr: () => errors };
}
