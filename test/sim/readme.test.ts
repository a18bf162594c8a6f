// The README's copy of the simulator's --help is the real output, and its piping examples keep npm's own lines out of the pipe.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { HELP } from "../../src/platform/node/sim/options";
import { ROOT, runSim } from "./harness";

const README = readFileSync(path.join(ROOT, "README.md"), "utf8");

/** The first fenced block after `heading`. */
function blockAfter(heading: string): string {
  const at = README.indexOf(heading);
  expect(at, `README has no "${heading}"`).toBeGreaterThanOrEqual(0);
  const open = README.indexOf("```\n", at);
  const close = README.indexOf("\n```", open + 4);
  return README.slice(open + 4, close);
}

describe("README", () => {
  it("holds --help exactly as the simulator prints it", async () => {
    const copy = blockAfter("### Options");
    expect(copy).toBe(HELP);
    const { code, sim } = await runSim(["--help"], 30_000);
    expect(code).toBe(0);
    expect(sim.stdout).toBe(HELP + "\n");
  });

  it("pipes the simulator only with npm run -s or npx (plain npm run writes its own lines to stdout)", () => {
    const piped = README.split("\n").filter((line) => /(npm run|npx) .*sim.*\|/.test(line));
    expect(piped.length).toBeGreaterThan(0);
    for (const line of piped) expect(line, line).toMatch(/npm run -s sim|npx xs-mqtt-sim/);
  });
});
