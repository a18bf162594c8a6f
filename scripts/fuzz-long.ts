// The reliability fuzz properties (decoder and client incoming side) for a given duration with fresh random seeds,
// printing runs per second and any counterexample. Usage: tsx scripts/fuzz-long.ts --minutes 10 [--only decoder|client]
import fc from "fast-check";
import { clientProperty } from "../test/reliability/support/client-fuzz";
import { decoderProperty } from "../test/reliability/support/decoder-fuzz";

interface Target {
  name: string;
  property: () => fc.IPropertyWithHooks<[never]> | fc.IPropertyWithHooks<[unknown]>;
  runsPerBatch: number;
  runs: number;
  failures: number;
  ms: number;
}

function parseArgs(argv: string[]): { minutes: number; only: string | undefined } {
  let minutes = 10;
  let only: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--minutes") minutes = Number(argv[++i]);
    else if (arg === "--only") only = argv[++i];
    else throw new Error(`unknown argument "${arg}"; usage: fuzz-long.ts --minutes N [--only decoder|client]`);
  }
  if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`--minutes must be a positive number, got ${minutes}`);
  return { minutes, only };
}

const args = parseArgs(process.argv.slice(2));
const targets: Target[] = [
  { name: "decoder", property: () => decoderProperty() as fc.IPropertyWithHooks<[unknown]>, runsPerBatch: 2000, runs: 0, failures: 0, ms: 0 },
  { name: "client", property: () => clientProperty() as fc.IPropertyWithHooks<[unknown]>, runsPerBatch: 500, runs: 0, failures: 0, ms: 0 },
].filter((t) => args.only === undefined || t.name === args.only);

const started = Date.now();
const deadline = started + args.minutes * 60_000;
let lastReport = started;
let batch = 0;
console.log(`fuzz-long: ${args.minutes} min, targets ${targets.map((t) => t.name).join(", ")}`);

while (Date.now() < deadline) {
  const target = targets[batch++ % targets.length];
  const seed = (Math.random() * 0x7fffffff) | 0;
  const t0 = performance.now();
  const details = fc.check(target.property() as fc.IPropertyWithHooks<[unknown]>, { seed, numRuns: target.runsPerBatch });
  target.ms += performance.now() - t0;
  target.runs += details.numRuns;
  if (details.failed) {
    target.failures++;
    console.log(`\nCOUNTEREXAMPLE in ${target.name} (seed ${details.seed}, path "${details.counterexamplePath}"):`);
    console.log(fc.stringify(details.counterexample));
    console.log(String(details.errorInstance instanceof Error ? details.errorInstance.message : details.errorInstance));
  }
  if (Date.now() - lastReport > 30_000) {
    lastReport = Date.now();
    const line = targets.map((t) => `${t.name} ${t.runs} runs (${((t.runs * 1000) / Math.max(1, t.ms)).toFixed(0)}/s) ${t.failures} failed`).join("; ");
    console.log(`[${((Date.now() - started) / 60_000).toFixed(1)} min] ${line}`);
  }
}

const minutes = (Date.now() - started) / 60_000;
console.log(`\nfuzz-long done after ${minutes.toFixed(1)} min`);
for (const t of targets) {
  console.log(`  ${t.name}: ${t.runs} runs, ${((t.runs * 1000) / Math.max(1, t.ms)).toFixed(0)} runs/s, ${t.failures} failing batch(es)`);
}
process.exitCode = targets.some((t) => t.failures > 0) ? 1 : 0;
