// Runs the simulator as a user does (the package bin, a child process) and watches the broker with an MQTT.js witness.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { decodeTelemetry } from "../../src/sampler/payload";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = path.join(ROOT, "bin", "xs-mqtt-sim.mjs");

export type SimJsonEvent = { event: string; t: number; [key: string]: unknown };

/** One simulator process: its JSON events as they arrive, its text output, and its exit. */
export class SimProcess {
  readonly events: SimJsonEvent[] = [];
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly waiters: Array<() => void> = [];
  private partial = "";

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      this.stdout += text;
      this.partial += text;
      const lines = this.partial.split("\n");
      this.partial = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith("{")) this.events.push(JSON.parse(line) as SimJsonEvent);
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.child.stderr?.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => {
      for (const wake of this.waiters.splice(0)) wake();
      resolve({ code, signal });
    }));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves with the first event matching `match` (looking at past events too); rejects after `timeoutMs` or on exit. */
  async waitFor(match: (e: SimJsonEvent) => boolean, timeoutMs: number, what = "event"): Promise<SimJsonEvent> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (exited) throw new Error(`simulator exited before ${what}; stderr:\n${this.stderr}\nlast stdout:\n${this.stdout.slice(-2000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; last stdout:\n${this.stdout.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  count(event: string): number {
    return this.events.filter((e) => e.event === event).length;
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    this.child.kill(signal);
  }
}

/** Runs the simulator to its exit; `timeoutMs` kills it (and fails) when it hangs. */
export async function runSim(args: readonly string[], timeoutMs: number): Promise<{ code: number | null; sim: SimProcess }> {
  const sim = new SimProcess(args);
  const timer = setTimeout(() => sim.kill("SIGKILL"), timeoutMs);
  const { code } = await sim.exited;
  clearTimeout(timer);
  return { code, sim };
}

/** Seqs seen per device, with every arrival counted (so duplicates show). */
export class SeqLedger {
  readonly arrivals = new Map<string, number[]>();

  add(device: string, payload: Uint8Array | string): void {
    const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
    const batch = decodeTelemetry(bytes);
    const list = this.arrivals.get(device) ?? [];
    for (const reading of batch.readings) list.push(reading.seq);
    this.arrivals.set(device, list);
  }

  /** Seqs in [0, nextSeq) never seen. */
  missing(device: string, nextSeq: number): number[] {
    const seen = new Set(this.arrivals.get(device) ?? []);
    const out: number[] = [];
    for (let s = 0; s < nextSeq; s++) if (!seen.has(s)) out.push(s);
    return out;
  }

  /** Seqs that arrived more than once. */
  duplicates(device: string): number[] {
    const counts = new Map<number, number>();
    for (const s of this.arrivals.get(device) ?? []) counts.set(s, (counts.get(s) ?? 0) + 1);
    return [...counts].filter(([, n]) => n > 1).map(([s]) => s);
  }

  distinct(device: string): number {
    return new Set(this.arrivals.get(device) ?? []).size;
  }
}

/** Broker-side view from the embedded broker: the simulator's own broker-message events. */
export function ledgerFromBrokerEvents(events: readonly SimJsonEvent[], ledger = new SeqLedger()): SeqLedger {
  for (const e of events) {
    if (e.event !== "broker-message" || typeof e.topic !== "string" || !e.topic.endsWith("/telemetry")) continue;
    ledger.add(e.topic.split("/")[1], e.payload as string);
  }
  return ledger;
}

/** An MQTT.js subscriber (persistent session, QoS 2) that records every telemetry seq it receives. */
export async function startWitness(url: string, prefix: string): Promise<{ ledger: SeqLedger; close(): Promise<void> }> {
  const ledger = new SeqLedger();
  const client = await mqtt.connectAsync(url, { clientId: `witness-${process.pid}-${Math.floor(Math.random() * 1e9)}`, clean: false, reconnectPeriod: 200 });
  client.on("message", (topic, payload) => {
    if (topic.endsWith("/telemetry")) ledger.add(topic.split("/")[1], new Uint8Array(payload));
  });
  await client.subscribeAsync(`${prefix}/+/telemetry`, { qos: 2 });
  return { ledger, close: () => client.endAsync(true) };
}

export function tempDir(tag: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `sim-${tag}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Waits until `check` holds (polling), or fails with `what` after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A board whose channels have deadband 0: every sample is a reading, so N readings take N intervals. */
export const EVERY_SAMPLE_BOARD = path.join(ROOT, "test", "sim", "fixtures", "every-sample", "lin.json");
