// The store on the real XS engine (xsnap): same bytes on flash/disk and same power-cut outcomes as on Node.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XsRunner, xsnapWorkerPath } from "../xs/harness";
import { flashWorkload, type FlashWorkloadSummary } from "./flash-workload";
import { storeWorkload, type WorkloadSummary } from "./workload";

const binary = xsnapWorkerPath();

describe.skipIf(binary === undefined)("XS engine (xsnap): session store", () => {
  let xs: XsRunner;
  let onXs: WorkloadSummary;
  let flashOnXs: FlashWorkloadSummary;
  beforeAll(async () => {
    xs = await XsRunner.start({ entry: join(import.meta.dirname, "xs-store-entry.ts"), meteringLimit: 1e12 });
    onXs = (await xs.command<WorkloadSummary>({ op: "workload" })).reply;
    flashOnXs = (await xs.command<FlashWorkloadSummary>({ op: "flash" })).reply;
  }, 300_000);
  afterAll(async () => {
    await xs?.close();
  });

  it("writes byte-identical items, journals and preferences on XS and Node", () => {
    const onNode = storeWorkload();
    expect(onXs.crcCheck).toBe(0xcbf43926);
    expect(onXs.items).toEqual(onNode.items);
    expect(onXs.preferences).toEqual(onNode.preferences);
  });

  it("ends every power cut in the state before or after the cut commit on XS", () => {
    const onNode = storeWorkload();
    expect(onXs.outcomes).toEqual(onNode.outcomes);
    for (const outcome of Object.values(onXs.outcomes)) {
      expect(outcome).toMatch(/^[ab]+$/);
      expect(outcome).toContain("a");
      expect(outcome).toContain("b");
    }
  });

  it("programs a byte-identical flash log image on XS and Node", () => {
    const onNode = flashWorkload();
    expect(flashOnXs.image.length).toBe(2 * 8 * 1024);
    expect(flashOnXs.image).toBe(onNode.image);
    expect(flashOnXs.reports).toEqual(onNode.reports);
  });

  it("ends every power cut of the flash log (torn programs and erases) before or after the cut commit on XS", () => {
    for (const report of Object.values(flashOnXs.reports)) {
      expect(report.outcomes.length).toBe(report.operations);
      expect(report.outcomes).toMatch(/^[ab]+$/);
      expect(report.recoveryMismatches).toBe(0);
      expect(report.unusable).toBe(0);
    }
  });
});
