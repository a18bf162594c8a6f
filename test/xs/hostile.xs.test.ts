// Issue 10 on the real XS engine (xsnap): the hostile-broker flows and boots on arbitrary store contents, compared with Node.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeContents } from "../support/store-arbitraries";
import { bootOnAnyStore, type AnyStoreResult, type StoredEntry } from "./flows/any-store-flow";
import { runFullStore, type FullStoreResult } from "./flows/full-store-flow";
import { HOSTILE_FLOW_NAMES, runHostileFlows, type HostileTranscript } from "./flows/hostile-flows";
import { XsRunner, xsEntry, xsnapWorkerPath } from "./harness";

const binary = xsnapWorkerPath();
const board = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "boards", "lin.json"), "utf8")) as unknown;
const EVERY_SAMPLE = JSON.parse(JSON.stringify(board), (key, value: unknown) => (key === "deadband" ? undefined : value)) as unknown;
const text = (s: string) => Array.from(new TextEncoder().encode(s));

/** Fixed hostile cases (the strings that reached RegExp at boot) plus fast-check's, seeded so both engines get the same. */
const CASES: StoredEntry[][] = [
  [["smp.boot", text("1".repeat(20_000))], ["smp.seq", text("7".repeat(50_000))]],
  [["smp.set", text(`{"deadband":{"t":"${"1".repeat(30_000)}"},"interval":{"env":1e308}}`)]],
  [["s/subs", text(`[["${"#/".repeat(3000)}",1]]`)], ["o/00000001", [1, 1, 0, 3, ...text("a/#"), 1]]],
  ...fc.sample(storeContents, { numRuns: 60, seed: 10 }),
];

describe.skipIf(binary === undefined)("XS engine (xsnap): hostile broker and arbitrary stored contents", () => {
  let xs: XsRunner;
  let hostileOnXs: HostileTranscript[];
  let storesOnXs: AnyStoreResult[];
  const hostileOnNode = runHostileFlows();

  beforeAll(async () => {
    xs = await XsRunner.start({ entry: xsEntry("hostile-entry"), meteringLimit: 1e11 });
    hostileOnXs = (await xs.command<HostileTranscript[]>({ op: "hostile" })).reply;
    storesOnXs = (await xs.command<AnyStoreResult[]>({ op: "any-store", cases: CASES, board: EVERY_SAMPLE })).reply;
  }, 240_000);
  afterAll(async () => {
    await xs?.close();
  });

  it.each(HOSTILE_FLOW_NAMES.map((name, i) => [name, i] as const))("on XS and Node, byte for byte: %s", (_name, i) => {
    expect(hostileOnNode[i].log[hostileOnNode[i].log.length - 1]).toBe("PASSED");
    expect(hostileOnXs[i].log[hostileOnXs[i].log.length - 1]).toBe("PASSED");
    expect(hostileOnXs[i]).toEqual(hostileOnNode[i]);
  });

  it("offline on a 24 KB NVS model for 3 h, told the truth and told 64 KB: same counts on XS as on Node, no throw", async () => {
    for (const toldBytes of [24 * 1024, 64 * 1024]) {
      const onNode = runFullStore(EVERY_SAMPLE, toldBytes, 3);
      const { reply: onXs } = await xs.command<FullStoreResult>({ op: "full-store", board: EVERY_SAMPLE, toldBytes, hours: 3 });
      expect(onXs.outcome).toBe("PASSED");
      expect(onXs).toEqual(onNode);
      expect(onXs.nextSeq).toBe(3 * 360 + 1);
      expect(onXs.peakEntries).toBeLessThanOrEqual(onXs.limitEntries);
      if (toldBytes === 24 * 1024) expect(onXs.storeFailures).toBe(0);
      else expect(onXs.storeFailures).toBeGreaterThan(0);
      expect(onXs.dropped).toBeGreaterThan(0);
    }
  }, 120_000);

  it(`boots, connects and delivers new readings on ${CASES.length} arbitrary stores, with the same repairs as on Node`, () => {
    CASES.forEach((entries, i) => {
      const onNode = bootOnAnyStore(entries, EVERY_SAMPLE);
      expect(storesOnXs[i].outcome, JSON.stringify(entries).slice(0, 500)).toBe("PASSED");
      expect(storesOnXs[i]).toEqual(onNode);
    });
  });
});
