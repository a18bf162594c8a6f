// The simulator run in this process (not as a child), so coverage counts it: embedded broker, net transport, file
// store, sampler and client end to end for a few readings; a link drop and a reboot; and option/board errors.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { SimEvent, SimStatus } from "../../src/platform/node/sim/events";
import { decodeTelemetry } from "../../src/sampler/payload";
import { parseArgs, UsageError } from "../../src/platform/node/sim/options";
import type { Reporter } from "../../src/platform/node/sim/output";
import { startRun } from "../../src/platform/node/sim/run";
import { EVERY_SAMPLE_BOARD } from "./harness";

const dir = mkdtempSync(path.join(tmpdir(), "sim-in-process-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class Recorder implements Reporter {
  readonly events: SimEvent[] = [];
  last: SimStatus | undefined;
  emit(event: SimEvent): void {
    this.events.push(event);
  }
  status(status: SimStatus): void {
    this.last = status;
  }
  close(status: SimStatus): void {
    this.last = status;
  }
  of<K extends SimEvent["event"]>(kind: K): Array<Extract<SimEvent, { event: K }>> {
    return this.events.filter((e): e is Extract<SimEvent, { event: K }> => e.event === kind);
  }
}

describe("simulator in-process", () => {
  it("takes its readings, delivers every one through the embedded broker at QoS 1, and exits 0", async () => {
    const options = parseArgs(["--samples", "4", "--interval-ms", "100", "--qos", "1", "--board", EVERY_SAMPLE_BOARD, "--data-dir", path.join(dir, "a"), "--deadline-ms", "60000"]);
    const recorder = new Recorder();
    const run = await startRun(options, recorder);
    expect(await run.done).toBe(0);
    expect(recorder.of("broker")[0]).toMatchObject({ embedded: true });
    expect(recorder.of("connected")).toHaveLength(1);
    const finished = recorder.of("finished");
    expect(finished).toHaveLength(1);
    expect(finished[0].taken).toBe(4);
    // Every reading's seq, 0 to nextSeq - 1, reached the broker, in order (the sim's payloads are JSON text).
    const seqs = recorder.of("broker-message")
      .filter((m) => m.topic.endsWith("/telemetry"))
      .flatMap((m) => decodeTelemetry(new TextEncoder().encode(m.payload)).readings.map((r) => r.seq));
    expect(seqs).toEqual(Array.from({ length: finished[0].nextSeq }, (_, i) => i));
    expect(recorder.of("exit")).toEqual([expect.objectContaining({ code: 0 })]);
    expect(recorder.last?.delivered).toBeGreaterThan(0);
  }, 90_000);

  it("a second run on the same data dir boots from the stored session (boot 2) and continues the seqs", async () => {
    const dataDir = path.join(dir, "b");
    const first = new Recorder();
    expect(await (await startRun(parseArgs(["--samples", "2", "--interval-ms", "100", "--board", EVERY_SAMPLE_BOARD, "--data-dir", dataDir]), first)).done).toBe(0);
    const second = new Recorder();
    expect(await (await startRun(parseArgs(["--samples", "2", "--interval-ms", "100", "--board", EVERY_SAMPLE_BOARD, "--data-dir", dataDir]), second)).done).toBe(0);
    const boot = second.of("boot")[0];
    expect(boot.boot).toBe(2);
    expect(boot.nextSeq).toBe(first.of("finished")[0].nextSeq);
  }, 90_000);

  it("bad options are a UsageError naming the option, before anything starts", () => {
    expect(() => parseArgs(["--qos", "3"])).toThrow(UsageError);
    expect(() => parseArgs(["--qos", "3"])).toThrow(/--qos/);
    expect(() => parseArgs(["--devices", "0"])).toThrow(/--devices/);
  });

  it("a missing board file fails the start with the path", async () => {
    const missing = path.join(dir, "nope.json");
    await expect(startRun(parseArgs(["--board", missing, "--data-dir", path.join(dir, "c")]), new Recorder())).rejects.toThrow(/nope\.json/);
  });
});
