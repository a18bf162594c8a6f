// The system's Chromium for browser tests, driven by puppeteer-core (which downloads no browser).
// Under CI=true a missing browser is a failure (launch throws); elsewhere use `chromiumSkip` with describe.skipIf.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import { underCi } from "./ci";

const CANDIDATES = ["chromium", "chromium-browser", "google-chrome"];

/** Path of the browser: $CHROMIUM_PATH, else the first of CANDIDATES on PATH. */
export function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of CANDIDATES) {
    try {
      const found = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
      if (found !== "") return found;
    } catch {
      // Not this one; try the next name.
    }
  }
  return undefined;
}

const ci = underCi();

/** For `describe.skipIf(chromiumSkip)`: true only outside CI when no browser is found (and says so loudly). */
export const chromiumSkip: boolean = (() => {
  if (ci || findChromium() !== undefined) return false;
  console.warn("\n*** chromium not found: SKIPPING the browser tests (apt-get install chromium; under CI=true this is a failure) ***\n");
  return true;
})();

export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Launches headless Chromium with a fresh profile; throws (naming the fix) when there is none. */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const executablePath = findChromium();
  if (executablePath === undefined) throw new Error("no chromium on PATH (apt-get install -y chromium, or set CHROMIUM_PATH)");
  const profile = mkdtempSync(path.join(os.tmpdir(), "chromium-profile-"));
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    userDataDir: profile,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
