// .ci/run's closing line, from vitest's JSON report: tests passed/failed/skipped and test FILES failed, so a file that
// throws at import (no test ever runs, no test counted as failed) still reads as a failure.
// Usage: node scripts/ci-summary.mjs [test-results.json]; exit code 1 when anything failed.
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * @param {{ numPassedTests: number, numFailedTests: number, numPendingTests?: number, numTodoTests?: number,
 *   testResults: { name: string, status: string, message?: string, assertionResults: unknown[] }[] }} report
 * @param {string} root directory the file names are shown relative to
 * @returns {{ line: string, failedFiles: string[], ok: boolean }}
 */
export function summarize(report, root = process.cwd()) {
  const files = report.testResults ?? [];
  const failed = files.filter((f) => f.status === "failed");
  const failedFiles = failed.map((f) => {
    const name = relative(root, f.name);
    // A failed file without a single test result never got to run its tests: it failed while loading.
    return f.assertionResults.length === 0 ? `${name} (failed to load: ${(f.message ?? "").split("\n")[0]})` : name;
  });
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  const line =
    `vitest: ${report.numPassedTests} passed, ${report.numFailedTests} failed` +
    (skipped ? `, ${skipped} skipped` : "") +
    `; files: ${files.length - failed.length} passed, ${failed.length} failed`;
  return { line, failedFiles, ok: failed.length === 0 && report.numFailedTests === 0 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? "test-results.json";
  const { line, failedFiles, ok } = summarize(JSON.parse(readFileSync(file, "utf8")));
  for (const name of failedFiles) console.log(`FAILED FILE ${name}`);
  console.log(line);
  process.exit(ok ? 0 : 1);
}
