// The page resource: the committed web/status-page.gz is what scripts/build-web.mjs makes from web/page/, within
// the 8 KB budget, and says what it must (plain HTTP is not secret); the firmware version matches package.json.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { FIRMWARE_VERSION } from "../../src/app/version";
// @ts-expect-error: a plain .mjs build script without type declarations
import { PAGE_GZ, PAGE_LIMIT_BYTES, pageHtml } from "../../scripts/build-web.mjs";

const ROOT = join(__dirname, "..", "..");

describe("status page resource", () => {
  const committed = readFileSync(PAGE_GZ as string);

  it("is the build of web/page/ (run npm run build:web after editing it)", () => {
    expect(gunzipSync(committed).toString("utf8")).toBe((pageHtml as () => string)());
  });

  it(`is at most ${PAGE_LIMIT_BYTES} bytes gzipped`, () => {
    expect(committed.length).toBeLessThanOrEqual(PAGE_LIMIT_BYTES as number);
    expect(committed.length).toBeGreaterThan(1000);
  });

  it("inlines its style and script, and says that plain HTTP on a LAN is not secret", () => {
    const html = gunzipSync(committed).toString("utf8");
    expect(html).not.toContain("/*STYLE*/");
    expect(html).not.toContain("/*SCRIPT*/");
    expect(html).toContain("Plain HTTP on a LAN is not secret");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet/);
  });

  it("is bundled by manifest.json and served by the Node adapter from the same file", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, "manifest.json"), "utf8")) as { data: Record<string, string> };
    expect(manifest.data["status-page"]).toBe("./web/status-page");
    expect(readFileSync(join(ROOT, "src/platform/moddable/web-server.ts"), "utf8")).toContain('"status-page.gz"');
  });
});

describe("firmware version", () => {
  it("equals package.json's", () => {
    expect(FIRMWARE_VERSION).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  });
});
