// One CI truth: every suite that skips outside CI asks underCi(), so CI=1 can never skip the XS tests silently again.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { underCi } from "./ci";

describe("underCi", () => {
  it.each(["true", "TRUE", "1", "yes", "on", " true "])("CI=%j is CI", (value) => {
    expect(underCi({ CI: value })).toBe(true);
  });

  it.each([undefined, "", " ", "0", "false", "False", "no"])("CI=%j is not CI", (value) => {
    expect(underCi({ CI: value })).toBe(false);
  });

  it("is the only place in the tests and configs that reads process.env.CI", () => {
    const root = join(import.meta.dirname, "../..");
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.(ts|mjs|js)$/.test(name) && !path.startsWith(join(root, "test/support/ci."))) {
          if (/process\.env\.CI\b|env\[["']CI["']\]/.test(readFileSync(path, "utf8"))) offenders.push(relative(root, path));
        }
      }
    };
    for (const dir of ["test", "scripts", "bench"]) walk(join(root, dir));
    for (const file of ["vitest.config.ts", "vitest.mutate.config.ts", "stryker.config.mjs"]) {
      if (/process\.env\.CI\b/.test(readFileSync(join(root, file), "utf8"))) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });
});
