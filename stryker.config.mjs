// StrykerJS over the portable core. Run through `npm run mutate` (scripts/mutate.ts), which runs one folder at a time
// so a run fits a loaded 2-core machine; `npx stryker run --mutate "src/mqtt/**/*.ts"` runs one folder by hand.
// MUTATE_FOLDER=mqtt|store|sampler|config narrows the run to one folder of src/ and names the reports after it.
const folder = process.env.MUTATE_FOLDER;
const folders = folder ? [folder] : ["mqtt", "store", "sampler", "config"];
const reportName = folder ?? "core";

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutate.config.ts" },
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.core.json",
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: "perTest",
  // A static mutant (a module-level constant, e.g. a packet type code in constants.ts) would need every test run for
  // each one: ~40 s apiece here. They are left out and their number is reported in docs/reliability.md.
  ignoreStatic: true,
  // Reruns test only the mutants whose code or covering tests changed since the last run of the same folder.
  incremental: true,
  incrementalFile: `reports/mutation/${reportName}.incremental.json`,
  mutate: folders.map((f) => `src/${f}/**/*.ts`),
  concurrency: 2,
  timeoutMS: 20_000,
  timeoutFactor: 2.5,
  reporters: ["clear-text", "progress-append-only", "html", "json"],
  htmlReporter: { fileName: `reports/mutation/${reportName}.html` },
  jsonReporter: { fileName: `reports/mutation/${reportName}.json` },
  thresholds: { high: 90, low: 85, break: null },
  ignorePatterns: ["reports", "coverage", ".sim-data", "build", "dist", ".stryker-tmp"],
  cleanTempDir: "always",
};
