// Portable flash-log workload (no Node, no vitest): commits that wrap a small partition several times, a power cut at
// every flash operation in each cut mode, and what the reopened log holds. Run on Node and on XS (xsnap).
import { FlashLogStore } from "../../src/store/flash-log";
import { MemoryStore } from "../../src/store/memory-store";
import type { SessionStore } from "../../src/store/session-store";
import { type NorCutMode, PowerCut, SimNorFlash } from "./nor-flash";

/** Small geometry so that the workload reclaims every block several times: 8 blocks of 1 KB. */
export const RING_BLOCK = 1024;
export const RING_BYTES = 8 * RING_BLOCK;

const fill = (seed: number, length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (seed * 7 + i * 31) & 0xff);
const pad = (n: number, width: number): string => n.toString(36).padStart(width, "0");

/**
 * Commit i of the ring workload, a function of i only: a reading record each commit (numbered key, as the sampler's),
 * every 6th commit a batch (the 6 readings deleted, a message and its flight record put, counters), the commit after
 * it the acknowledgement (message and flight deleted); now and then a value of several parts put or deleted; a
 * setting written once at the start that must survive every reclaim.
 */
export function ringStep(store: SessionStore, i: number): void {
  if (i === 0) store.put("smp.set", fill(1, 40));
  store.put(`smp.r${pad(i, 10)}`, fill(i, 14 + (i % 9)));
  if (i % 6 === 5) {
    for (let k = i - 5; k <= i; k++) store.delete(`smp.r${pad(k, 10)}`);
    store.put(`o/${pad(i, 8)}`, fill(i + 1, 150 + ((i * 13) % 90)));
    store.put(`f/${pad(i, 8)}`, Uint8Array.of(1, 2, 0, i & 0xff));
    store.put("s/meta", fill(i + 2, 9));
    store.put("smp.seq", fill(i, 2));
  }
  if (i % 6 === 0 && i > 0) {
    store.delete(`o/${pad(i - 1, 8)}`);
    store.delete(`f/${pad(i - 1, 8)}`);
  }
  if (i % 17 === 3) store.put("big", fill(i + 3, 600 + ((i * 37) % 500)));
  if (i % 17 === 11) store.delete("big");
}

export const RING_COMMITS = 90;

/** Every key and value in `store`, as plain data. */
export function dump(store: SessionStore): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const key of store.list("")) out[key] = Array.from(store.get(key) ?? []);
  return out;
}

/** ringStates[i]: what the store holds after i commits. */
export function ringStates(): string[] {
  const model = new MemoryStore();
  const out = [JSON.stringify(dump(model))];
  for (let i = 0; i < RING_COMMITS; i++) {
    ringStep(model, i);
    model.commit();
    out.push(JSON.stringify(dump(model)));
  }
  return out;
}

/** Runs the ring workload on `flash` until done or cut; returns how many commits returned. */
export function runRing(flash: SimNorFlash): number {
  let done = 0;
  try {
    const store = FlashLogStore.open(flash);
    for (let i = 0; i < RING_COMMITS; i++) {
      ringStep(store, i);
      store.commit();
      done++;
    }
  } catch (error) {
    if (!(error instanceof PowerCut)) throw error;
  }
  return done;
}

export interface CutReport {
  /** Flash operations of the uncut run (every one is cut at once). */
  operations: number;
  /** Per cut: "b" (state before the cut commit), "a" (after), "M" (a mix or anything else: a failure). */
  outcomes: string;
  /** Cuts whose recovery, cut again at each of its first operations, did not end in the same state. */
  recoveryMismatches: number;
  /** Cuts after which one more commit and a reopen did not keep it. */
  unusable: number;
  erases: number;
  programmedBytes: number;
}

/** A power cut at every flash operation of the ring workload in `mode`; with `recoveryCuts`, cuts during recovery too. */
export function ringCutReport(mode: NorCutMode, recoveryCuts: number, stride = 1): CutReport {
  const states = ringStates();
  const probe = new SimNorFlash(RING_BYTES, RING_BLOCK);
  if (runRing(probe) !== RING_COMMITS) throw new Error("the uncut run did not finish");
  const report: CutReport = {
    operations: probe.operations, outcomes: "", recoveryMismatches: 0, unusable: 0,
    erases: probe.erases.reduce((a, b) => a + b, 0), programmedBytes: probe.programmedBytes.reduce((a, b) => a + b, 0),
  };
  for (let cutAt = 0; cutAt < probe.operations; cutAt += stride) {
    const flash = new SimNorFlash(RING_BYTES, RING_BLOCK, cutAt + 1);
    flash.cutAt = cutAt;
    flash.cutMode = mode;
    const cutCommit = runRing(flash);
    const recovered = flash.reboot();
    let state: string;
    try {
      state = JSON.stringify(dump(FlashLogStore.open(recovered.reboot())));
    } catch (error) {
      report.outcomes += "M";
      void error;
      continue;
    }
    report.outcomes += state === states[cutCommit] ? "b" : state === states[cutCommit + 1] ? "a" : "M";
    for (let again = 0; again < recoveryCuts; again++) {
      const twice = recovered.reboot();
      twice.cutAt = again;
      twice.cutMode = mode;
      try {
        FlashLogStore.open(twice);
      } catch (error) {
        if (!(error instanceof PowerCut)) throw error;
      }
      let afterTwo = "";
      try {
        afterTwo = JSON.stringify(dump(FlashLogStore.open(twice.reboot())));
      } catch {
        afterTwo = "error";
      }
      if (afterTwo !== state) report.recoveryMismatches++;
    }
    const go = recovered.reboot();
    const store = FlashLogStore.open(go);
    store.put("after", Uint8Array.of(1, 2, 3));
    store.commit();
    const reopened = FlashLogStore.open(go.reboot());
    const got = reopened.get("after");
    if (got === undefined || got.length !== 3 || got[2] !== 3) report.unusable++;
  }
  return report;
}

export interface FlashWorkloadSummary {
  /** Hex of the whole simulated partition after the uncut ring workload: same code, same bytes on every engine. */
  image: string;
  reports: Record<string, CutReport>;
}

/** The uncut image and a cut report per mode (one recovery cut each, to keep XS fast). */
export function flashWorkload(): FlashWorkloadSummary {
  const flash = new SimNorFlash(RING_BYTES, RING_BLOCK);
  runRing(flash);
  let image = "";
  for (let i = 0; i < flash.data.length; i++) image += (flash.data[i] < 16 ? "0" : "") + flash.data[i].toString(16);
  const reports: Record<string, CutReport> = {};
  for (const mode of ["before", "tear", "scatter"] as const) reports[mode] = ringCutReport(mode, 1);
  return { image, reports };
}
