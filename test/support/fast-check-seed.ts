// Vitest setup file: every fast-check property in the suite runs from one fixed seed, so a failure reproduces on the
// next run and on any machine; fast-check's failure report prints the seed and path to replay the shrunk case.
// FC_SEED=<n> runs the suite from another seed; FC_SEED=random picks one and prints it, to explore beyond the fixed one.
// A property that sets its own `seed` (the fuzzers) keeps it.
import fc from "fast-check";

/** The suite's seed when FC_SEED is not set. */
export const DEFAULT_PROPERTY_SEED = 20_261_130;

export function propertySeed(value: string | undefined): number {
  if (value === undefined || value === "") return DEFAULT_PROPERTY_SEED;
  if (value === "random") return (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const seed = Number(value);
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or "random", got "${value}"`);
  return seed;
}

const seed = propertySeed(process.env.FC_SEED);
if (seed !== DEFAULT_PROPERTY_SEED) console.log(`fast-check: properties run from seed ${seed} (replay: FC_SEED=${seed})`);
fc.configureGlobal({ seed, verbose: 1 });
