// The test set StrykerJS runs for each mutant: every in-process test of the core. Left out: suites that run the core
// on XS (a bundle built from src/ that never sees Stryker's mutant switch), in child processes (sim CLI, fleet,
// reboot and kill children) or against external brokers, none of which can kill a mutant Stryker activates in-process.
import { defineConfig } from "vitest/config";
import { moddableFakes } from "./test/support/moddable-fakes-plugin";

export default defineConfig({
  // The Moddable adapters and main.ts run on Node against fakes of the SDK modules (test/moddable/fakes).
  plugins: [moddableFakes()],
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [
      "test/xs/**",
      "test/**/*.xs.test.ts",
      "test/integration/**",
      "test/sim/**",
      "test/tls/**",
      // The status page in Chromium and the simulator's --web flags: both run the simulator as a child process.
      "test/web/browser.test.ts",
      "test/web/sim-web.test.ts",
      "test/store/file-store-kill.test.ts",
      "test/store/file-lock.test.ts",
      "test/firmware/manifest.test.ts",
      // The 256 MiB packet: minutes on a loaded machine for each codec mutant; the boundary below it, and the refusal
      // of one byte more, are in test/codec.boundaries.test.ts, which stays.
      "test/codec.largest-packet.test.ts",
      "node_modules/**",
    ],
    pool: "forks",
    // One fixed fast-check seed for every property (FC_SEED overrides it), so a failure always replays.
    setupFiles: ["test/support/fast-check-seed.ts"],
    // Instrumented code on a loaded 2-core machine: the 65,536-publish packet id test needs minutes in the dry run.
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
