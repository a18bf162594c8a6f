import { defineConfig } from "vitest/config";
import { moddableFakes } from "./test/support/moddable-fakes-plugin";
import { underCi } from "./test/support/ci";

export default defineConfig({
  // The Moddable adapters and main.ts run on Node against fakes of the SDK modules (test/moddable/fakes).
  plugins: [moddableFakes()],
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // One fixed fast-check seed for every property (FC_SEED overrides it), so a failure always replays.
    setupFiles: ["test/support/fast-check-seed.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Under CI a JSON report too, from which .ci/run prints the plain "N passed, N failed" closing line.
    reporters: underCi() ? ["default", ["json", { outputFile: "test-results.json" }]] : ["default"],
  },
});
