// SIGKILL a process in the middle of a commit loop on a file store: the reopened store is a committed state.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openFileStore } from "../../src/platform/node/file-store";
import { openFlashFileStore } from "../../src/platform/node/flash-file";
import { counter, slotValue } from "./kill-child";
import { contents } from "./store-suite";

const root = mkdtempSync(join(tmpdir(), "store-kill-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const child = join(import.meta.dirname, "kill-child.ts");

/** Runs the child until it has reported `atLeast` more commits, then kills it; returns the last commit it reported. */
function runAndKill(dir: string, fsync: boolean | "flash", atLeast: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", child, dir, fsync === "flash" ? "flash" : fsync ? "fsync" : "nofsync"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let first: number | undefined;
    let last = 0;
    let buffered = "";
    let errors = "";
    proc.stderr.on("data", (data: Buffer) => (errors += data.toString()));
    proc.stdout.on("data", (data: Buffer) => {
      buffered += data.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) last = Number(line);
      first ??= last;
      // Kill at a varying point, mostly inside commit() where the child spends its time.
      if (last - first >= atLeast) proc.kill("SIGKILL");
    });
    proc.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve(last);
      else reject(new Error(`child exited with ${code}: ${errors}`));
    });
  });
}

function expectedState(i: number): Record<string, number[]> {
  const state: Record<string, number[]> = { n: Array.from(counter(i)) };
  for (let j = Math.max(1, i - 3); j <= i; j++) state[`s/${j % 8}`] = Array.from(slotValue(j));
  return Object.fromEntries(Object.entries(state).sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe("file store killed with SIGKILL mid-commit", () => {
  for (const fsync of [false, true]) {
    it(`reopens at a committed state every time (fsync ${fsync ? "on" : "off"})`, async () => {
      const dir = join(root, fsync ? "fsync" : "nofsync");
      let reported = 0;
      const rounds = fsync ? 2 : 4; // with fsync each commit costs milliseconds here
      for (let round = 0; round < rounds; round++) {
        reported = Math.max(reported, await runAndKill(dir, fsync, fsync ? 5 + round * 7 : 50 + round * 37));
        // Inspected between children without taking the lock: the next child must be able to take it.
        const store = openFileStore(dir, { fsync, lock: false });
        const n = store.get("n")!;
        const committed = n[0] | (n[1] << 8) | (n[2] << 16) | (n[3] << 24);
        expect(committed, "every reported commit survives").toBeGreaterThanOrEqual(reported);
        expect(contents(store)).toEqual(expectedState(committed));
        expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
      }
    }, 120_000); // child processes start slowly on a loaded machine
  }
});

describe("flash log on a flash image killed with SIGKILL mid-commit", () => {
  it("reopens at a committed state every time, over many reclaims of the 256 KB image", async () => {
    const dir = join(root, "flash");
    let reported = 0;
    for (let round = 0; round < 4; round++) {
      // Each commit writes ~1.5 KB on average: a round of 200+ commits wraps the image at least once.
      reported = Math.max(reported, await runAndKill(dir, "flash", 200 + round * 53));
      const store = openFlashFileStore(dir, { lock: false });
      const n = store.get("n")!;
      const committed = n[0] | (n[1] << 8) | (n[2] << 16) | (n[3] << 24);
      expect(committed, "every reported commit survives").toBeGreaterThanOrEqual(reported);
      expect(contents(store)).toEqual(expectedState(committed));
    }
    expect(reported, "commits of ~1.5 KB each: more than the 256 KB image holds").toBeGreaterThan(200);
  }, 120_000);
});
