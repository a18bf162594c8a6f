// .ci/run's closing line: a file that fails at import (zero tests) must read as failed, not "0 passed, 0 failed".
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM script without declarations; its JSDoc types are checked by the assertions below
import { summarize } from "../../scripts/ci-summary.mjs";

const file = (name: string, status: string, tests: number, message = "") => ({
  name: `/repo/${name}`,
  status,
  message,
  assertionResults: Array.from({ length: tests }, () => ({})),
});

describe("ci-summary", () => {
  it("counts a file that threw at import as a failed file, with its error", () => {
    const report = {
      numPassedTests: 0,
      numFailedTests: 0,
      numPendingTests: 0,
      testResults: [file("test/broken.test.ts", "failed", 0, "boom at import\n    at stack")],
    };
    const { line, failedFiles, ok } = summarize(report, "/repo");
    expect(line).toBe("vitest: 0 passed, 0 failed; files: 0 passed, 1 failed");
    expect(failedFiles).toEqual(["test/broken.test.ts (failed to load: boom at import)"]);
    expect(ok).toBe(false);
  });

  it("reads a clean run as passed and names skipped tests", () => {
    const report = {
      numPassedTests: 5,
      numFailedTests: 0,
      numPendingTests: 2,
      numTodoTests: 1,
      testResults: [file("test/a.test.ts", "passed", 4), file("test/b.test.ts", "passed", 4)],
    };
    expect(summarize(report, "/repo")).toEqual({
      line: "vitest: 5 passed, 0 failed, 3 skipped; files: 2 passed, 0 failed",
      failedFiles: [],
      ok: true,
    });
  });

  it("lists a file with a failing test by name", () => {
    const report = {
      numPassedTests: 1,
      numFailedTests: 1,
      testResults: [file("test/a.test.ts", "failed", 2), file("test/b.test.ts", "passed", 1)],
    };
    const { line, failedFiles, ok } = summarize(report, "/repo");
    expect(line).toBe("vitest: 1 passed, 1 failed; files: 1 passed, 1 failed");
    expect(failedFiles).toEqual(["test/a.test.ts"]);
    expect(ok).toBe(false);
  });
});
