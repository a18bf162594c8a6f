// The test set StrykerJS runs for each mutant: every in-process test of the core. Left out: suites that run the core
// on XS (a bundle built from src/ that never sees Stryker's mutant switch), in child processes (sim CLI, fleet,
// reboot and kill children) or against external brokers, none of which can kill a mutant Stryker activates in-process.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [
      "test/xs/**",
      "test/**/*.xs.test.ts",
      "test/integration/**",
      "test/sim/**",
      "test/tls/**",
      "test/store/file-store-kill.test.ts",
      "test/store/file-lock.test.ts",
      "test/firmware/manifest.test.ts",
      "node_modules/**",
    ],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
