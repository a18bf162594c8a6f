// StrykerJS over the portable core. Run through `npm run mutate` (scripts/mutate.ts), which runs one folder at a time
// so a run fits a loaded 2-core machine; `npx stryker run --mutate "src/mqtt/**/*.ts"` runs one folder by hand.
// MUTATE_FOLDER=mqtt|store|sampler|config narrows the run to one folder of src/ and names the reports after it.
const folder = process.env.MUTATE_FOLDER;
const folders = folder ? [folder] : ["mqtt", "store", "sampler", "config"];
// MUTATE_FILES (with MUTATE_FOLDER) narrows the run to some files of the folder, comma separated; a leading "!" leaves
// a file out ("!flash-log.ts": the rest of src/store). Such a partial run has its own reports and incremental file
// (store.no-flash-log.json), so it never overwrites or confuses the folder's whole run.
const files = folder ? (process.env.MUTATE_FILES ?? "").split(",").filter((f) => f !== "") : [];
const reportName = (folder ?? "core") + (files.length > 0 ? "." + files.map((f) => f.replace(/^!/, "no-").replace(/\.ts$/, "")).join("+") : "");
const mutate =
  files.length === 0
    ? folders.map((f) => `src/${f}/**/*.ts`)
    : [
        ...(files.every((f) => f.startsWith("!")) ? [`src/${folder}/**/*.ts`] : []),
        ...files.map((f) => (f.startsWith("!") ? `!src/${folder}/${f.slice(1)}` : `src/${folder}/${f}`)),
      ];

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
  mutate,
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
