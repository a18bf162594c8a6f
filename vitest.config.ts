import { defineConfig } from "vitest/config";
import { underCi } from "./test/support/ci";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Under CI a JSON report too, from which .ci/run prints the plain "N passed, N failed" closing line.
    reporters: underCi() ? ["default", ["json", { outputFile: "test-results.json" }]] : ["default"],
  },
});
