// The flash log over a simulated NOR flash: the shared store suite, power cuts at every flash operation (torn programs
// and erases), bad blocks, a full log, wear spread, and random publish/ack/reboot/cut sequences (fast-check).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StorageError, StoreFullError } from "../../src/errors";
import { FlashLogStore, openFlashLogOrReset } from "../../src/store/flash-log";
import { MemoryStore } from "../../src/store/memory-store";
import { dump, ringCutReport, runRing, RING_BLOCK, RING_BYTES, RING_COMMITS, ringStates } from "./flash-workload";
import { type NorCutMode, NorRuleError, PowerCut, SimNorFlash } from "./nor-flash";
import { sessionStoreSuite } from "./store-suite";

sessionStoreSuite("FlashLogStore on a simulated 64 KB NOR partition (4 KB blocks)", () => {
  let flash = new SimNorFlash(64 * 1024);
  return () => {
    flash = flash.reboot();
    return FlashLogStore.open(flash);
  };
});

sessionStoreSuite("FlashLogStore on a simulated 8 KB NOR partition (1 KB blocks, reclaimed constantly)", () => {
  let flash = new SimNorFlash(32 * 1024, 1024);
  return () => {
    flash = flash.reboot();
    return FlashLogStore.open(flash);
  };
});

describe("simulated NOR flash", () => {
  it("refuses a program that would set a bit, and counts programs and erases per block", () => {
    const flash = new SimNorFlash(8192, 4096);
    flash.write(10, Uint8Array.of(0x0f));
    flash.write(10, Uint8Array.of(0x0e));
    expect(() => flash.write(10, Uint8Array.of(0x1e))).toThrow(NorRuleError);
    flash.erase(0);
    flash.write(10, Uint8Array.of(0x1e));
    expect(flash.read(10, 1)).toEqual(Uint8Array.of(0x1e));
    expect(flash.programmedBytes).toEqual([3, 0]);
    expect(flash.erases).toEqual([1, 0]);
  });

  it("tears a program and an erase at the cut, and is dead after it", () => {
    const flash = new SimNorFlash(8192, 4096, 7);
    flash.cutAt = 0;
    flash.cutMode = "scatter";
    expect(() => flash.write(0, new Uint8Array(64))).toThrow(PowerCut);
    const torn = flash.reboot().read(0, 64);
    expect(torn.some((b) => b !== 0) && torn.some((b) => b !== 0xff)).toBe(true);
    expect(() => flash.read(0, 1)).toThrow(PowerCut);
    const erasing = new SimNorFlash(8192, 4096, 9, new Uint8Array(8192));
    erasing.cutAt = 0;
    erasing.cutMode = "tear";
    expect(() => erasing.erase(1)).toThrow(PowerCut);
    const half = erasing.reboot().read(4096, 4096);
    expect(half.some((b) => b !== 0xff) && half.some((b) => b !== 0)).toBe(true);
  });
});

describe("FlashLogStore under power cuts at every flash operation", () => {
  it("the uncut ring workload wraps the partition several times and ends in the model's state", () => {
    const flash = new SimNorFlash(RING_BYTES, RING_BLOCK);
    expect(runRing(flash)).toBe(RING_COMMITS);
    expect(Math.min(...flash.erases)).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(dump(FlashLogStore.open(flash.reboot())))).toBe(ringStates()[RING_COMMITS]);
  });

  for (const mode of ["before", "tear", "scatter"] as NorCutMode[]) {
    it(`is the state before or after the cut commit, recovers the same when cut again, and goes on (${mode})`, () => {
      const report = ringCutReport(mode, 4);
      expect(report.operations).toBeGreaterThan(RING_COMMITS);
      expect(report.outcomes.length).toBe(report.operations);
      expect(report.outcomes).toMatch(/^[ab]+$/);
      expect(report.recoveryMismatches).toBe(0);
      expect(report.unusable).toBe(0);
    }, 120_000);
  }
});

describe("FlashLogStore and failing blocks", () => {
  it("retires a block that does not erase blank and keeps every committed value", () => {
    const flash = new SimNorFlash(RING_BYTES, RING_BLOCK);
    flash.badErase.add(0);
    const retired: number[] = [];
    const store = FlashLogStore.open(flash, { onRetire: (block) => retired.push(block) });
    const capacityBefore = store.capacityBytes();
    const model = new MemoryStore();
    for (let i = 0; i < RING_COMMITS; i++) {
      for (const s of [store, model]) {
        s.put(`k${i % 5}`, Uint8Array.from({ length: 60 + (i % 40) }, (_, j) => i + j));
        s.commit();
      }
    }
    expect(retired).toEqual([0]);
    expect(store.stats().retired).toBe(1);
    // One good block fewer: the capacity the client budgets its queue with shrinks by one block's worth at once.
    const perBlock = capacityBefore / (RING_BYTES / RING_BLOCK - 1 - 2);
    expect(store.capacityBytes()).toBeCloseTo(capacityBefore - perBlock, -1);
    expect(dump(store)).toEqual(dump(model));
    const reopened = FlashLogStore.open(flash.reboot(), { onRetire: () => {} });
    expect(dump(reopened)).toEqual(dump(model));
  });

  it("moves a commit whose frame fails its read-back to a new block, and retires the bad one when it is reclaimed", () => {
    const flash = new SimNorFlash(RING_BYTES, RING_BLOCK);
    const store = FlashLogStore.open(flash);
    store.put("a", Uint8Array.of(1));
    store.commit();
    flash.badProgram.add(0);
    store.put("b", new Uint8Array(40).fill(2));
    store.commit();
    flash.badProgram.clear();
    expect(store.get("b")).toEqual(new Uint8Array(40).fill(2));
    const reopened = FlashLogStore.open(flash.reboot());
    expect(dump(reopened)).toEqual(dump(store));
  });
});

describe("FlashLogStore capacity", () => {
  it("refuses a commit that does not fit with StoreFullError, changing nothing, and stays usable", () => {
    const flash = new SimNorFlash(16 * 1024, 4096);
    const store = FlashLogStore.open(flash);
    const capacity = store.capacityBytes();
    expect(capacity).toBeGreaterThan(2000);
    let i = 0;
    let full: unknown;
    try {
      for (; i < 1000; i++) {
        store.put(`m${i}`, new Uint8Array(100).fill(i & 0xff));
        store.commit();
      }
    } catch (error) {
      full = error;
    }
    expect(full).toBeInstanceOf(StoreFullError);
    expect(i * 103).toBeGreaterThanOrEqual(capacity);
    expect(store.get(`m${i}`)).toEqual(new Uint8Array(100).fill(i & 0xff)); // still staged
    for (let k = 0; k < 10; k++) store.delete(`m${k}`);
    store.commit();
    const reopened = FlashLogStore.open(flash.reboot());
    expect(reopened.list("m").length).toBe(i + 1 - 10);
  });

  it("reports a log damaged in its middle and a reset opens it empty", () => {
    const flash = new SimNorFlash(RING_BYTES, RING_BLOCK);
    runRing(flash);
    const damaged = flash.reboot();
    const order = [...Array(8).keys()].filter((b) => damaged.read(b * RING_BLOCK, 4)[0] === 0x46);
    // Damage a frame in the middle of a block that has a successor: not something a power cut can do.
    const victim = order.find((b) => damaged.read(b * RING_BLOCK + 200, 1)[0] !== 0xff) as number;
    damaged.data[victim * RING_BLOCK + 30] ^= 0x10;
    expect(() => FlashLogStore.open(damaged.reboot())).toThrow(StorageError);
    const errors: StorageError[] = [];
    const store = openFlashLogOrReset(damaged, (error) => errors.push(error));
    expect(errors.length).toBe(1);
    expect(store.list("")).toEqual([]);
  });
});

describe("FlashLogStore wear", () => {
  it("spreads erases evenly over the partition", () => {
    const flash = new SimNorFlash(64 * 1024, 4096);
    const store = FlashLogStore.open(flash);
    for (let i = 0; i < 20_000; i++) {
      store.put(`smp.r${i.toString(36).padStart(10, "0")}`, new Uint8Array(18).fill(i & 0xff));
      if (i % 10 === 9) for (let k = i - 9; k <= i; k++) store.delete(`smp.r${k.toString(36).padStart(10, "0")}`);
      store.commit();
    }
    const erases = flash.erases;
    expect(Math.min(...erases)).toBeGreaterThan(5);
    expect(Math.max(...erases) - Math.min(...erases)).toBeLessThanOrEqual(1);
    expect(store.stats().copiedBytes).toBeLessThan(store.stats().programmedBytes / 20);
  });
});

describe("FlashLogStore: random publish / ack / reboot / cut sequences (fast-check, fixed seed)", () => {
  type Move =
    | { kind: "publish"; id: number; size: number }
    | { kind: "ack"; id: number }
    | { kind: "reading"; seq: number; size: number }
    | { kind: "batch" }
    | { kind: "reboot" }
    | { kind: "cut"; after: number; mode: NorCutMode };
  const move: fc.Arbitrary<Move> = fc.oneof(
    fc.record({ kind: fc.constant("publish" as const), id: fc.integer({ min: 1, max: 40 }), size: fc.integer({ min: 0, max: 1500 }) }),
    fc.record({ kind: fc.constant("ack" as const), id: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant("reading" as const), seq: fc.integer({ min: 0, max: 200 }), size: fc.integer({ min: 10, max: 30 }) }),
    fc.record({ kind: fc.constant("batch" as const) }),
    fc.record({ kind: fc.constant("reboot" as const) }),
    fc.record({ kind: fc.constant("cut" as const), after: fc.integer({ min: 0, max: 6 }), mode: fc.constantFrom<NorCutMode>("before", "tear", "scatter") }),
  );

  it("always reopens at the last committed state or the one being committed", () => {
    fc.assert(
      fc.property(fc.array(move, { minLength: 5, maxLength: 60 }), fc.integer({ min: 1, max: 1000 }), (moves, seed) => {
        let flash = new SimNorFlash(16 * 1024, 1024, seed);
        let store = FlashLogStore.open(flash);
        const model = new MemoryStore();
        let committed = JSON.stringify(dump(model));
        const apply = (s: { put(k: string, v: Uint8Array): void; delete(k: string): void; list(p: string): string[] }, m: Move, n: number) => {
          if (m.kind === "publish") {
            s.put(`o/${m.id.toString(36).padStart(8, "0")}`, new Uint8Array(m.size).fill(n & 0xff));
            s.put(`f/${m.id.toString(36).padStart(8, "0")}`, Uint8Array.of(1, 2, 0, m.id));
          } else if (m.kind === "ack") {
            s.delete(`o/${m.id.toString(36).padStart(8, "0")}`);
            s.delete(`f/${m.id.toString(36).padStart(8, "0")}`);
          } else if (m.kind === "reading") {
            s.put(`smp.r${m.seq.toString(36).padStart(10, "0")}`, new Uint8Array(m.size).fill(m.seq & 0xff));
          } else if (m.kind === "batch") {
            for (const key of s.list("smp.r").slice(0, 10)) s.delete(key);
          }
        };
        for (let n = 0; n < moves.length; n++) {
          const m = moves[n];
          if (m.kind === "reboot") {
            flash = flash.reboot();
            store = FlashLogStore.open(flash);
            expect(JSON.stringify(dump(store))).toBe(committed);
            continue;
          }
          if (m.kind === "cut") {
            flash.cutAt = flash.operations + m.after;
            flash.cutMode = m.mode;
            continue;
          }
          apply(model, m, n);
          const before = committed;
          model.commit();
          const after = JSON.stringify(dump(model));
          try {
            if (model.list("").length > 0 && JSON.stringify(dump(model)).length > 60_000) throw new Error("unreachable");
            apply(store, m, n);
            store.commit();
            committed = after;
          } catch (error) {
            if (error instanceof StoreFullError) {
              // The model gets the same refusal: roll it back to the committed state.
              return true;
            }
            if (!(error instanceof PowerCut)) throw error;
            flash = flash.reboot();
            store = FlashLogStore.open(flash);
            const state = JSON.stringify(dump(store));
            expect(state === before || state === after).toBe(true);
            committed = state;
            // Bring the model to what survived.
            for (const key of model.list("")) model.delete(key);
            for (const [key, value] of Object.entries(JSON.parse(state) as Record<string, number[]>)) model.put(key, Uint8Array.from(value));
            model.commit();
          }
        }
        flash = flash.reboot();
        expect(JSON.stringify(dump(FlashLogStore.open(flash)))).toBe(committed);
        return true;
      }),
      { seed: 20261130, numRuns: 300 },
    );
  }, 120_000);
});
