// Power cut at every backend operation of a run of commits: the reopened store is the state before or after the cut commit.
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/errors";
import { JournaledStore } from "../../src/store/journaled-store";
import { PreferenceBackend } from "../../src/store/preference-backend";
import { type CutMode, FakePreference, MemoryBackend, PowerCut, PowerCutBackend } from "./fakes";
import { contents, runUntilCut, states, steps } from "./workload";

const small = (n: number): Uint8Array => Uint8Array.from([n, n + 1, n + 2]);

describe("JournaledStore under power cuts", () => {
  const modes: CutMode[] = ["before", "tear", "erase", "cache-drop", "cache-odd"];
  for (const mode of modes) {
    it(`is the state before or after the cut commit, never a mix (cut mode "${mode}", every operation)`, () => {
      const probe = new PowerCutBackend(new MemoryBackend(), mode, Infinity);
      expect(runUntilCut(() => JournaledStore.open(probe))).toBe(steps.length);
      const total = probe.operations;
      expect(total).toBeGreaterThan(steps.length * 2);
      const outcomes = { before: 0, after: 0 };

      for (let cutAt = 0; cutAt < total; cutAt++) {
        const disk = new MemoryBackend();
        const cutCommit = runUntilCut(() => JournaledStore.open(new PowerCutBackend(disk, mode, cutAt)));
        expect(cutCommit).toBeLessThan(steps.length);

        // A second cut during recovery must not change what recovery ends with.
        const clean = disk.clone();
        const recovered = contents(JournaledStore.open(clean));
        for (let recoveryCut = 0; recoveryCut < 12; recoveryCut++) {
          const again = disk.clone();
          try {
            JournaledStore.open(new PowerCutBackend(again, mode, recoveryCut));
          } catch (error) {
            if (!(error instanceof PowerCut)) throw error;
          }
          expect(contents(JournaledStore.open(again)), `cut ${cutAt}, recovery cut ${recoveryCut}`).toEqual(recovered);
        }

        const reopened = JournaledStore.open(disk);
        const state = contents(reopened);
        const isBefore = JSON.stringify(state) === JSON.stringify(states[cutCommit]);
        const isAfter = JSON.stringify(state) === JSON.stringify(states[cutCommit + 1]);
        expect(isBefore || isAfter, `cut at operation ${cutAt} in commit ${cutCommit}: ${JSON.stringify(Object.keys(state))}`).toBe(true);
        outcomes[isAfter ? "after" : "before"]++;
        expect(disk.journal).toBeUndefined();

        reopened.put("z", small(20));
        reopened.commit();
        expect(JournaledStore.open(disk).get("z")).toEqual(small(20));
      }
      expect(outcomes.before).toBeGreaterThan(0);
      expect(outcomes.after).toBeGreaterThan(0);
    });
  }

  it("on ESP32-like preferences (erase before set, 4000-byte chunks), at every set/delete", () => {
    const probe = new FakePreference();
    expect(runUntilCut(() => JournaledStore.open(new PreferenceBackend(probe, "mqtt")))).toBe(steps.length);
    const total = probe.operations;
    const outcomes = { before: 0, after: 0 };
    for (let cutAt = 0; cutAt < total; cutAt++) {
      const prefs = new FakePreference();
      prefs.cutAt = cutAt;
      const cutCommit = runUntilCut(() => JournaledStore.open(new PreferenceBackend(prefs, "mqtt")));
      expect(cutCommit).toBeLessThan(steps.length);
      const rebooted = prefs.reboot();
      const state = contents(JournaledStore.open(new PreferenceBackend(rebooted, "mqtt")));
      const isBefore = JSON.stringify(state) === JSON.stringify(states[cutCommit]);
      const isAfter = JSON.stringify(state) === JSON.stringify(states[cutCommit + 1]);
      expect(isBefore || isAfter, `cut at preference operation ${cutAt} in commit ${cutCommit}`).toBe(true);
      outcomes[isAfter ? "after" : "before"]++;
      expect(rebooted.keys("mqtt.j")).toEqual([]);
    }
    expect(outcomes.before).toBeGreaterThan(0);
    expect(outcomes.after).toBeGreaterThan(0);
  });

  it("refuses further use after a commit that failed, and a reopen recovers a committed state", () => {
    const disk = new MemoryBackend();
    const store = JournaledStore.open(new PowerCutBackend(disk, "before", 4)); // open: 2 ops; commit: journal, sync, cut
    store.put("a", small(1));
    store.put("b", small(2));
    expect(() => store.commit()).toThrow(PowerCut);
    expect(() => store.get("a")).toThrow(StorageError);
    expect(() => store.put("c", small(3))).toThrow(/reopen/);
    expect(() => store.commit()).toThrow(StorageError);
    expect(contents(JournaledStore.open(disk))).toEqual({ a: [1, 2, 3], b: [2, 3, 4] });
  });
});
