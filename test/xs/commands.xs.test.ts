// Hostile commands through the firmware on the real XS engine (xsnap): the named attacks (10,000 levels of nesting,
// 60 KB payloads, 5,000-character names...) and fast-check cases generated on Node with a fixed seed. XS must give
// the same replies as Node, byte for byte, and pass the same invariants (see flows/command-flows.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandCaseArbitrary, COMMAND_FUZZ_SEED } from "../support/command-arbitraries";
import { namedCommandCases, runCommandFuzz, type CommandCase, type CommandFuzzResult } from "./flows/command-flows";
import { XsRunner, xsEntry, xsnapWorkerPath } from "./harness";

const binary = xsnapWorkerPath();
const BOARD = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "boards", "lin.json"), "utf8")) as unknown;

describe.skipIf(binary === undefined)("XS engine (xsnap): hostile commands through the firmware", () => {
  let xs: XsRunner;
  beforeAll(async () => {
    xs = await XsRunner.start({ entry: xsEntry("command-entry"), meteringLimit: 1e10 });
  });
  afterAll(async () => {
    await xs?.close();
  });

  it("the named attacks: same replies as on Node, every one answered or counted, the device goes on", { timeout: 120_000 }, async () => {
    const cases = namedCommandCases().map(([, c]) => c);
    const onXs = (await xs.command<CommandFuzzResult>({ op: "fuzz", board: BOARD, cases })).reply;
    const onNode = runCommandFuzz(BOARD, cases);
    expect(onXs.outcome).toBe("PASSED");
    expect(onXs).toEqual(onNode);
  });

  it(`fast-check cases (seed ${COMMAND_FUZZ_SEED}, generated on Node): same outcome on XS as on Node`, { timeout: 300_000 }, async () => {
    const batches = fc.sample(fc.array(commandCaseArbitrary(), { minLength: 1, maxLength: 25 }), { seed: COMMAND_FUZZ_SEED, numRuns: 12 });
    for (let i = 0; i < batches.length; i++) {
      const cases: CommandCase[] = batches[i];
      const onXs = (await xs.command<CommandFuzzResult>({ op: "fuzz", board: BOARD, cases })).reply;
      const onNode = runCommandFuzz(BOARD, cases);
      expect(onXs.outcome, `batch ${i} of seed ${COMMAND_FUZZ_SEED}`).toBe("PASSED");
      expect(onXs, `batch ${i} of seed ${COMMAND_FUZZ_SEED}`).toEqual(onNode);
    }
  });
});
