// The status page in headless Chromium against the Node simulator (a child process, as a user runs it), with the
// broker behind a proxy the test cuts: the page loads, values update live, a link cut shows offline then connected
// again, and a settings change works with the password and is refused without it.
// UPDATE_SCREENSHOT=1 also writes docs/status-page.png (the README's picture).
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedBroker, type EmbeddedBroker } from "../../src/platform/node/sim/embedded-broker";
import { chromiumSkip, launchChromium, type LaunchedBrowser } from "../support/chromium";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy";
import { ROOT, SimProcess, removeDir, tempDir } from "../sim/harness";

const PASSWORD = "let-me-change";

// What the functions run inside the page use (the project's type-check has no DOM lib; these run in Chromium).
declare const document: { querySelector(selector: string): { textContent: string | null } | null };
type InputLike = { value: string };

describe.skipIf(chromiumSkip)("status page in Chromium against the simulator", () => {
  let broker: EmbeddedBroker;
  let proxy: TcpProxy;
  let sim: SimProcess;
  let chromium: LaunchedBrowser;
  let page: Page;
  let url = "";
  let dir = "";

  const text = (selector: string) => page.$eval(selector, (el) => el.textContent ?? "");
  const waitText = (selector: string, pattern: RegExp, timeout = 30_000) =>
    page.waitForFunction((s, source) => new RegExp(source).test(document.querySelector(s)?.textContent ?? ""), { timeout, polling: 100 }, selector, pattern.source);

  beforeAll(async () => {
    chromium = await launchChromium();
    broker = await startEmbeddedBroker(() => {});
    proxy = await startTcpProxy({ targetPort: broker.port });
    dir = tempDir("web");
    const config = path.join(dir, "config.json");
    writeFileSync(config, JSON.stringify({ web_password: PASSWORD, heartbeat_s: 1 }));
    sim = new SimProcess(["--broker", proxy.url, "--config", config, "--data-dir", path.join(dir, "data"), "--interval-ms", "500", "--json"]);
    const event = await sim.waitFor((e) => e.event === "web", 60_000, "the status page address");
    url = String(event.url);
    page = await chromium.browser.newPage();
    await page.setViewport({ width: 1100, height: 900 });
  }, 120_000);

  afterAll(async () => {
    await chromium?.close();
    sim?.kill("SIGKILL");
    await sim?.exited;
    await proxy?.close();
    await broker?.close();
    if (dir) removeDir(dir);
  });

  it("prints the address as status page: http://127.0.0.1:PORT/", () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it("loads, shows the device and its broker link connected", async () => {
    const response = await page.goto(url, { waitUntil: "load" });
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-encoding"]).toBe("gzip");
    await waitText("#device-id", /^sim-1$/);
    await waitText("#state", /MQTT connected/);
    expect(await text("#broker")).toBe(`mqtt://127.0.0.1:${proxy.port}`);
    expect(await text("#firmware")).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await page.content()).toContain("Plain HTTP on a LAN is not secret");
  });

  it("shows the flash store's health: the simulator's 64-sector image, and no rate before its first erase", async () => {
    await waitText("#store-sectors", /^[1-9]\d* used, \d+ free, 0 retired of 64$/);
    expect(await text("#store-erases")).toMatch(/^min \d+ · mean [\d.]+ · max \d+ of 100000$/);
    expect(await text("#store-written")).toMatch(/^[1-9]\d* (bytes|KB)$/);
    // A fresh 256 KB image takes minutes of samples to fill its first 4 KB block: nothing is erased during this test.
    expect(await text("#store-rate")).toBe("0 (0 a day)");
    expect(await text("#store-years")).toBe("not enough data (no erase since boot)");
    expect(await page.$eval("#store-none", (el) => (el as unknown as { hidden: boolean }).hidden)).toBe(true);
  });

  it("draws a store with erases, worn sectors and years left, and says when the store is not the flash log", async () => {
    // The page's own render function, called with figures a worn device would report, then with null (another
    // store), in one turn so no poll comes between.
    const shown = await page.evaluate(() => {
      const render = (globalThis as unknown as { renderStore(figures: unknown): void }).renderStore;
      const read = (id: string) => document.querySelector("#" + id)?.textContent ?? "";
      const hidden = (id: string) => (document.querySelector("#" + id) as unknown as { hidden: boolean }).hidden;
      render({
        sectors: { total: 64, used: 60, free: 2, retired: 2, worn: 3 },
        erases: { min: 99_000, max: 100_400, mean: 99_800.5, sinceBoot: 40, perDay: 960 },
        programmedBytes: 163_840, endurance: 100_000, budget: 12_000, yearsLeft: 0.0342,
      });
      const worn = { sectors: read("store-sectors"), erases: read("store-erases"), rate: read("store-rate"), written: read("store-written"), years: read("store-years") };
      render({
        sectors: { total: 16, used: 3, free: 13, retired: 0, worn: 0 },
        erases: { min: 10, max: 11, mean: 10.5, sinceBoot: 2, perDay: 0.5 },
        programmedBytes: 900, endurance: 100_000, budget: 6_399_330, yearsLeft: 35_000,
      });
      const young = read("store-years");
      render({
        sectors: { total: 16, used: 14, free: 2, retired: 0, worn: 16 },
        erases: { min: 100_000, max: 100_020, mean: 100_010, sinceBoot: 20, perDay: 40 },
        programmedBytes: 9000, endurance: 100_000, budget: 0, yearsLeft: 0,
      });
      const spent = read("store-years");
      render(null);
      const none = { figures: hidden("store-figures"), note: hidden("store-none"), text: read("store-none") };
      return { worn, young, spent, none };
    });
    expect(shown.worn).toEqual({
      sectors: "60 used, 2 free, 2 retired of 64 (3 past 100000 erases)",
      erases: "min 99000 · mean 99800.5 · max 100400 of 100000",
      rate: "40 (960 a day)",
      written: "160 KB",
      years: "12 days at this rate",
    });
    expect(shown.young).toBe("35000 years at this rate");
    expect(shown.spent).toBe("none: no live sector has an erase left");
    expect(shown.none).toEqual({ figures: true, note: false, text: "No wear figures: the session store is not the flash log." });
    // The next poll draws the simulator's real store again.
    await page.waitForFunction(() => !(document.querySelector("#store-figures") as unknown as { hidden: boolean }).hidden, { timeout: 30_000, polling: 100 });
    expect(await text("#store-sectors")).toMatch(/^[1-9]\d* used, \d+ free, 0 retired of 64$/);
  });

  it("updates values live: the sample count and uptime grow without a reload", async () => {
    await waitText("#ch-t .meta", /\d+ samples/);
    // Both read in one turn of the page, so they come from the same poll.
    const before = await page.evaluate(() => ({
      count: Number(/(\d+) samples/.exec(document.querySelector("#ch-t .meta")?.textContent ?? "")?.[1] ?? 0),
      uptime: document.querySelector("#uptime")?.textContent ?? "",
    }));
    await page.waitForFunction(
      (n, uptime) =>
        Number(/(\d+) samples/.exec(document.querySelector("#ch-t .meta")?.textContent ?? "")?.[1] ?? 0) >= n + 3 &&
        (document.querySelector("#uptime")?.textContent ?? "") !== uptime,
      { timeout: 30_000, polling: 200 },
      before.count,
      before.uptime,
    );
    expect(await text("#ch-t .value")).toMatch(/^-?\d+\.\d\d$/);
    expect(await page.$eval("#ch-t path", (el) => el.getAttribute("d") ?? "")).toMatch(/^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+)+$/);
  });

  it("shows a link cut as offline with its reason, then connected again", async () => {
    proxy.refuse(true);
    proxy.cutAll();
    await waitText("#state", /offline/);
    expect(await text("#last-error")).not.toBe("none");
    proxy.refuse(false);
    await waitText("#state", /MQTT connected/, 60_000);
    await waitText("#reconnects", /^[1-9]\d*$/);
  });

  it("refuses a settings change with a wrong or no password, and applies it with the right one", async () => {
    const status = async () => (await (await fetch(url + "status.json")).json()) as { settings: { intervalMs: { env: number }; heartbeatS: number } };
    expect((await status()).settings.intervalMs.env).toBe(500);
    await page.type("#set-interval", "1500");
    await page.click("#set-apply");
    await waitText("#settings-result", /Refused: .*password needed|Refused: .*wrong password/);
    await page.type("#set-password", "not-it");
    await page.click("#set-apply");
    await waitText("#settings-result", /Refused: .*wrong password/);
    expect((await status()).settings.intervalMs.env).toBe(500);
    await page.$eval("#set-password", (el) => ((el as unknown as InputLike).value = ""));
    await page.type("#set-password", PASSWORD);
    await page.click("#set-apply");
    await waitText("#settings-result", /Saved: interval/);
    expect((await status()).settings.intervalMs.env).toBe(1500);
    if (process.env.UPDATE_SCREENSHOT) {
      await page.$eval("#set-password", (el) => ((el as unknown as InputLike).value = ""));
      await new Promise((r) => setTimeout(r, 5000));
      await page.screenshot({ path: path.join(ROOT, "docs", "status-page.png"), fullPage: true });
    }
  });
});
