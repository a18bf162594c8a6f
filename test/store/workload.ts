// Portable store workload (no Node, no vitest): the power-cut scenario and a byte-level summary, run on Node and on XS.
import { crc32 } from "../../src/store/crc32";
import { JournaledStore } from "../../src/store/journaled-store";
import { MemoryStore } from "../../src/store/memory-store";
import { PreferenceBackend } from "../../src/store/preference-backend";
import type { SessionStore } from "../../src/store/session-store";
import { type CutMode, FakePreference, MemoryBackend, PowerCut, PowerCutBackend } from "./fakes";

export const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
export const text = (value: string): Uint8Array => Uint8Array.from(value, (c) => c.charCodeAt(0));
const hex = (data: Uint8Array): string => Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");

/** Every key and value in `store`, as plain data for toEqual. */
export function contents(store: SessionStore): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const key of store.list("")) out[key] = Array.from(store.get(key) ?? []);
  return out;
}

const small = (n: number): Uint8Array => Uint8Array.from([n, n + 1, n + 2]);
const large = (seed: number, length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (seed + i * 31) & 0xff);

/** Each step is one commit's worth of changes: multi-change, single put/delete, values past one NVS chunk. */
export const steps: Array<(store: SessionStore) => void> = [
  (s) => (s.put("a", small(1)), s.put("b", small(2)), s.put("c", small(3))),
  (s) => (s.put("a", large(4, 5000)), s.delete("b"), s.put("d", small(5))),
  (s) => s.put("e", small(6)),
  (s) => s.delete("a"),
  (s) => (s.put("c", small(7)), s.put("c", small(8)), s.delete("d"), s.put("q/1", small(9))),
  (s) => s.put("e", small(10)),
  (s) => (s.put("f", large(11, 9000)), s.put("a", small(12)), s.delete("c")),
  (s) => s.put("f", small(13)),
];

/** The content a store holds after each commit of `run`, from `start` (index 0: before the first commit). */
export function modelStates(run: ReadonlyArray<(store: SessionStore) => void>, start: Record<string, number[]> = {}): Array<Record<string, number[]>> {
  const model = new MemoryStore();
  for (const [key, value] of Object.entries(start)) model.put(key, Uint8Array.from(value));
  model.commit();
  const out = [contents(model)];
  for (const step of run) {
    step(model);
    model.commit();
    out.push(contents(model));
  }
  return out;
}

/** states[i] is the content after i commits. */
export const states: Array<Record<string, number[]>> = modelStates(steps);

/** Runs every step of `run` with a commit on the store `open` gives; returns how many commits returned before a PowerCut. */
export function runUntilCut(open: () => SessionStore, run: ReadonlyArray<(store: SessionStore) => void> = steps): number {
  let done = 0;
  try {
    const store = open();
    for (const step of run) {
      step(store);
      store.commit();
      done++;
    }
  } catch (error) {
    if (!(error instanceof PowerCut)) throw error;
  }
  return done;
}

/** "b" when a state equals the one before the cut commit, "a" after, "MIX" otherwise. */
export function classify(state: Record<string, number[]>, cutCommit: number): "b" | "a" | "MIX" {
  const json = JSON.stringify(state);
  if (json === JSON.stringify(states[cutCommit])) return "b";
  return json === JSON.stringify(states[cutCommit + 1]) ? "a" : "MIX";
}

/** Outcome of a cut at every operation in `mode`, one letter per cut. */
export function cutOutcomes(mode: CutMode): string {
  const probe = new PowerCutBackend(new MemoryBackend(), mode, Infinity);
  runUntilCut(() => JournaledStore.open(probe));
  let out = "";
  for (let cutAt = 0; cutAt < probe.operations; cutAt++) {
    const disk = new MemoryBackend();
    const cutCommit = runUntilCut(() => JournaledStore.open(new PowerCutBackend(disk, mode, cutAt)));
    out += classify(contents(JournaledStore.open(disk)), cutCommit);
  }
  return out;
}

/** Outcome of a cut at every preference set/delete, one letter per cut. */
export function preferenceCutOutcomes(): string {
  const probe = new FakePreference();
  runUntilCut(() => JournaledStore.open(new PreferenceBackend(probe, "mqtt")));
  let out = "";
  for (let cutAt = 0; cutAt < probe.operations; cutAt++) {
    const prefs = new FakePreference();
    prefs.cutAt = cutAt;
    const cutCommit = runUntilCut(() => JournaledStore.open(new PreferenceBackend(prefs, "mqtt")));
    out += classify(contents(JournaledStore.open(new PreferenceBackend(prefs.reboot(), "mqtt"))), cutCommit);
  }
  return out;
}

export interface WorkloadSummary {
  crcCheck: number;
  /** Every item the journaled store left on a RAM backend, hex. */
  items: Record<string, string>;
  /** Every preference (domain/key) the journaled store left, hex. */
  preferences: Record<string, string>;
  outcomes: Record<string, string>;
}

/** Runs the scenario on every fake backend and summarises the bytes and the cut outcomes. */
export function storeWorkload(): WorkloadSummary {
  const disk = new MemoryBackend(false);
  runUntilCut(() => JournaledStore.open(disk));
  const items: Record<string, string> = {};
  for (const name of disk.names().sort()) items[name] = hex(disk.read(name)!);

  const prefs = new FakePreference();
  runUntilCut(() => JournaledStore.open(new PreferenceBackend(prefs, "mqtt")));
  const preferences: Record<string, string> = {};
  for (const [domain, entries] of prefs.domains) {
    for (const [key, value] of entries) preferences[`${domain}/${key}`] = hex(new Uint8Array(value as ArrayBuffer));
  }

  const outcomes: Record<string, string> = { preference: preferenceCutOutcomes() };
  for (const mode of ["before", "tear", "erase", "cache-drop", "cache-odd"] as const) outcomes[mode] = cutOutcomes(mode);
  return { crcCheck: crc32(text("123456789")), items, preferences, outcomes };
}
