#!/usr/bin/env node
// Builds the status page resource: web/page/{index.html, style.css, app.js} inlined into one HTML file and gzipped
// into web/status-page.gz, which manifest.json bundles (resource "status-page.gz") and the Node simulator serves.
// The output is committed, so mcconfig needs no build step; `npm run build:web` after editing web/page/, and
// test/web/page.test.ts fails when the committed file is stale or over 8 KB.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const PAGE_GZ = `${ROOT}web/status-page.gz`;
export const PAGE_LIMIT_BYTES = 8192;

/** Drops indentation, blank lines and whole-line // comments: small and safe (no string is touched). */
function squeeze(text) {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("// "))
    .join("\n");
}

/** The page as one HTML string. */
export function pageHtml() {
  const read = (name) => readFileSync(`${ROOT}web/page/${name}`, "utf8");
  return squeeze(read("index.html"))
    .replace("/*STYLE*/", () => squeeze(read("style.css")))
    .replace("/*SCRIPT*/", () => squeeze(read("app.js")));
}

/** The gzipped page; zlib's gzip header carries no time stamp, so the bytes depend on the sources only. */
export function buildPage() {
  return gzipSync(Buffer.from(pageHtml(), "utf8"), { level: 9 });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const gz = buildPage();
  if (gz.length > PAGE_LIMIT_BYTES) {
    process.stderr.write(`status page is ${gz.length} bytes gzipped, over the ${PAGE_LIMIT_BYTES}-byte budget\n`);
    process.exit(1);
  }
  writeFileSync(PAGE_GZ, gz);
  process.stdout.write(`web/status-page.gz: ${gz.length} bytes (${Buffer.byteLength(pageHtml())} bytes of HTML)\n`);
}
