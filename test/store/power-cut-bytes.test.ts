// The power-cut model beyond "half a write": the cut at (nearly) every byte of every write, writes that leave their
// full length of garbage or of erased 0xff bytes, a second cut at every step of the recovery on every backend (RAM and
// ESP32-like preferences), and cuts during a later boot's commits. Each time the reopened store must hold the state
// before or after the cut commit, never a mix, and must be usable afterwards.
//
// Finding (2026-11-30): a commit journal that a cut leaves at full length with damaged bytes ("garbage", "blank") is
// not read as torn (as a short one is) but as corruption: JournaledStore.open throws StorageError("commit journal
// fails its CRC-32"), and openVerifiedOrReset then erases the whole store, queued messages included. The backends the
// product has today cannot produce it (NVS writes each entry atomically: a cut leaves it absent, mode "erase"; the
// file store renames), so the tests below pin the behaviour down (detected, never a silent mix) rather than call it
// a bug; a backend on raw NOR flash, where unprogrammed bytes read 0xff, would have to treat it as torn.
import { describe, expect, it } from "vitest";
import { JournaledStore } from "../../src/store/journaled-store";
import { PreferenceBackend } from "../../src/store/preference-backend";
import type { SessionStore } from "../../src/store/session-store";
import { type CutMode, FakePreference, MemoryBackend, PowerCut, PowerCutBackend } from "./fakes";
import { contents, modelStates, runUntilCut, states, steps } from "./workload";

/**
 * Byte offsets to cut a write of `length` bytes at: every one for writes up to 64 bytes (items, small journals); for
 * the multi-kilobyte ones every byte of the first and last 32 (headers, lengths, checksums) and every 211th between.
 */
function cutPoints(length: number): number[] {
  if (length <= 64) return Array.from({ length: length + 1 }, (_, i) => i);
  const points = new Set<number>();
  for (let i = 0; i <= 32; i++) points.add(i).add(length - i);
  for (let i = 32; i < length - 32; i += 211) points.add(i);
  return [...points].sort((a, b) => a - b);
}

function classify(state: Record<string, number[]>, expected: Array<Record<string, number[]>>, commit: number): "before" | "after" | "MIX" {
  const json = JSON.stringify(state);
  if (json === JSON.stringify(expected[commit])) return "before";
  return json === JSON.stringify(expected[commit + 1]) ? "after" : "MIX";
}

/** The store stays usable: one more commit lands and survives a reopen. */
function expectUsable(disk: MemoryBackend): void {
  const store = JournaledStore.open(disk);
  store.put("zz", Uint8Array.of(9, 9));
  store.commit();
  expect(JournaledStore.open(disk).get("zz")).toEqual(Uint8Array.of(9, 9));
}

describe("power cut at every byte of a write", () => {
  for (const mode of ["tear", "garbage", "blank"] as CutMode[]) {
    it(`mode "${mode}": before or after the cut commit, whatever byte the write stopped at`, () => {
      const probe = new PowerCutBackend(new MemoryBackend(), mode, Infinity);
      runUntilCut(() => JournaledStore.open(probe));
      let cases = 0;
      const seen = { before: 0, after: 0 };
      let detected = 0;
      probe.writeLengths.forEach((length, cutAt) => {
        if (length === undefined) return;
        for (const keep of cutPoints(length)) {
          const disk = new MemoryBackend();
          const commit = runUntilCut(() => JournaledStore.open(new PowerCutBackend(disk, mode, cutAt, keep)));
          const damagedJournal = mode !== "tear" && probe.journalWrites.has(cutAt) && keep < length;
          if (damagedJournal) {
            // See the finding above: refused as corrupt, naming the journal; never opened as a mix.
            expect(() => JournaledStore.open(disk)).toThrow(/commit journal (header )?fails its CRC-32; erase the store \(key "\(journal\)"\)/);
            detected++;
            cases++;
            continue;
          }
          const outcome = classify(contents(JournaledStore.open(disk)), states, commit);
          expect(outcome, `${mode}: write at operation ${cutAt} (${length} bytes) cut after byte ${keep}`).not.toBe("MIX");
          seen[outcome as "before" | "after"]++;
          expect(disk.journal).toBeUndefined();
          cases++;
        }
        expectUsable(new MemoryBackend());
      });
      expect(cases).toBeGreaterThan(500);
      expect(detected > 0).toBe(mode !== "tear");
      expect(seen.after).toBeGreaterThan(0);
      // Only a torn journal rolls back; a damaged one is the finding above, and a cut item write is redone.
      expect(seen.before > 0).toBe(mode === "tear");
    });
  }
});

describe("a second power cut during recovery", () => {
  for (const mode of ["tear", "garbage", "blank", "erase", "cache-drop", "cache-odd"] as CutMode[]) {
    it(`RAM backend, mode "${mode}": any cut of the recovery ends where an uncut recovery ends`, () => {
      const probe = new PowerCutBackend(new MemoryBackend(), mode, Infinity);
      runUntilCut(() => JournaledStore.open(probe));
      for (let cutAt = 0; cutAt < probe.operations; cutAt++) {
        if (probe.journalWrites.has(cutAt) && (mode === "garbage" || mode === "blank")) continue; // the finding above
        const disk = new MemoryBackend();
        runUntilCut(() => JournaledStore.open(new PowerCutBackend(disk, mode, cutAt)));
        const recoveryProbe = new PowerCutBackend(disk.clone(), mode, Infinity);
        const recovered = contents(JournaledStore.open(recoveryProbe));
        for (let recoveryCut = 0; recoveryCut < recoveryProbe.operations; recoveryCut++) {
          const again = disk.clone();
          expect(() => JournaledStore.open(new PowerCutBackend(again, mode, recoveryCut))).toThrow(PowerCut);
          expect(contents(JournaledStore.open(again)), `cut ${cutAt}, recovery cut ${recoveryCut}`).toEqual(recovered);
        }
      }
    });
  }

  it("ESP32-like preferences: a cut at every set/delete of the recovery, after a cut at every set/delete of the run", () => {
    const probe = new FakePreference();
    runUntilCut(() => JournaledStore.open(new PreferenceBackend(probe, "mqtt")));
    let recoveryCuts = 0;
    for (let cutAt = 0; cutAt < probe.operations; cutAt++) {
      const prefs = new FakePreference();
      prefs.cutAt = cutAt;
      const commit = runUntilCut(() => JournaledStore.open(new PreferenceBackend(prefs, "mqtt")));
      const clean = prefs.reboot();
      const recovered = contents(JournaledStore.open(new PreferenceBackend(clean, "mqtt")));
      expect(classify(recovered, states, commit)).not.toBe("MIX");
      const recoveryOps = clean.operations;
      for (let recoveryCut = 0; recoveryCut < recoveryOps; recoveryCut++) {
        const again = prefs.reboot();
        again.cutAt = recoveryCut;
        expect(() => JournaledStore.open(new PreferenceBackend(again, "mqtt"))).toThrow(PowerCut);
        const after = contents(JournaledStore.open(new PreferenceBackend(again.reboot(), "mqtt")));
        expect(after, `preference cut ${cutAt}, recovery cut ${recoveryCut}`).toEqual(recovered);
        recoveryCuts++;
      }
    }
    expect(recoveryCuts).toBeGreaterThan(0);
  });
});

describe("power cuts during a later boot", () => {
  /** The second boot's commits, run on whatever the first boot left. */
  const later: Array<(store: SessionStore) => void> = [
    (s) => (s.put("m/1", Uint8Array.of(1)), s.put("m/2", Uint8Array.of(2))),
    (s) => (s.delete("m/1"), s.put("e", Uint8Array.from({ length: 4500 }, (_, i) => i & 0xff))),
    (s) => { for (const key of s.list("")) s.delete(key); },
    (s) => s.put("n", Uint8Array.of(7, 7, 7)),
  ];

  for (const mode of ["before", "tear", "garbage", "blank", "erase", "cache-drop", "cache-odd"] as CutMode[]) {
    it(`mode "${mode}": a cut at every operation of the second boot, after a cut in the first`, () => {
      const firstProbe = new PowerCutBackend(new MemoryBackend(), mode, Infinity);
      runUntilCut(() => JournaledStore.open(firstProbe));
      // A few first-boot cuts spread over the run (start, middle, end), each followed by a whole second boot's worth.
      const damagesJournal = (probe: PowerCutBackend, cutAt: number) => (mode === "garbage" || mode === "blank") && probe.journalWrites.has(cutAt);
      const firstCuts = [0, firstProbe.operations >> 2, firstProbe.operations >> 1, firstProbe.operations - 1]
        .map((at) => (damagesJournal(firstProbe, at) ? at + 1 : at)); // the finding above: move off a journal write
      for (const firstCut of firstCuts) {
        const disk = new MemoryBackend();
        runUntilCut(() => JournaledStore.open(new PowerCutBackend(disk, mode, firstCut)));
        const start = contents(JournaledStore.open(disk.clone()));
        const expected = modelStates(later, start);
        const secondProbe = new PowerCutBackend(disk.clone(), mode, Infinity);
        expect(runUntilCut(() => JournaledStore.open(secondProbe), later)).toBe(later.length);
        for (let cutAt = 0; cutAt < secondProbe.operations; cutAt++) {
          if (damagesJournal(secondProbe, cutAt)) continue; // the finding above
          const second = disk.clone();
          const commit = runUntilCut(() => JournaledStore.open(new PowerCutBackend(second, mode, cutAt)), later);
          const outcome = classify(contents(JournaledStore.open(second)), expected, commit);
          expect(outcome, `${mode}: first cut ${firstCut}, second-boot cut ${cutAt} in its commit ${commit}`).not.toBe("MIX");
          expectUsable(second);
        }
      }
    });
  }
});
