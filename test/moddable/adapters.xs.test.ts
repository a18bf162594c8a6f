// Two Moddable adapters on the real XS engine (xsnap) against the SDK fakes, compared with the same flows on Node:
// the mcsim flash image with the flash log on it, and the status page server over http.js's request protocol. The
// bundle resolves the SDK's module names to test/moddable/fakes exactly as vitest does (test/support/moddable-fakes-plugin.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { sdkFakeFor } from "../support/moddable-fakes-plugin";
import { XsRunner, bundleForXs, xsnapWorkerPath } from "../xs/harness";
import { runLinPartitionFlow, runWebServerFlow, type LinPartitionFlowResult, type WebServerFlowResult } from "./xs/moddable-flow";

const binary = xsnapWorkerPath();

describe.skipIf(binary === undefined)("XS engine (xsnap): Moddable adapters over the SDK fakes", () => {
  let xs: XsRunner;
  beforeAll(async () => {
    const bundle = await bundleForXs(join(import.meta.dirname, "xs", "moddable-entry.ts"), [
      {
        name: "moddable-sdk-fakes",
        setup(build) {
          build.onResolve({ filter: /^[A-Za-z][\w/]*$/ }, (args) => {
            const path = sdkFakeFor(args.path, args.importer);
            return path === undefined ? undefined : { path };
          });
        },
      },
    ]);
    xs = await XsRunner.start({ bundle, meteringLimit: 1e10 });
  });
  afterAll(async () => {
    await xs?.close();
  });

  it("the flash image: made blank at 256 KB, a program that sets a bit refused whole, erase, the log kept across a reboot", async () => {
    const onXs = (await xs.command<LinPartitionFlowResult>({ op: "lin-partition" })).reply;
    expect(onXs).toEqual(runLinPartitionFlow());
    expect(onXs).toEqual({
      description: "flash image /tmp/xs-mqtt-flash.img",
      fileBytes: 256 * 1024,
      blank: true,
      refused: "flash image: a program at byte 4100 would set bits (NOR flash cannot)",
      afterRefusal: [0xff, 0x0f, 0x3c, 0xff],
      erasedBlank: true,
      neighbourKept: true,
      afterReboot: [1, 2, 3],
    });
  });

  it("the status page server: the page in pieces, a body in pieces, 413, malformed lines, the byte budget, the cap, the deadline", async () => {
    const onXs = (await xs.command<WebServerFlowResult>({ op: "web-server" })).reply;
    expect(onXs).toEqual(runWebServerFlow());
    const [page, echo, tooBig, garbage, badMethod, flood, third, deadline] = onXs.exchanges;
    expect(page).toMatch(/^HTTP\/1\.1 200 OK \| connection: close \| content-encoding: gzip \| content-length: 3000 \|\| 3000 bytes, sum \d+$/);
    expect(echo).toMatch(/^HTTP\/1\.1 200 OK .*content-length: 10 \|\| 10 bytes/); // "POST /x 11": the body joined from 5-byte packets
    expect(tooBig).toMatch(/^HTTP\/1\.1 413 /);
    expect(garbage).toBe("closed=true, nothing sent");
    expect(badMethod).toMatch(/^HTTP\/1\.1 400 /);
    expect(flood).toBe("closed=true, nothing sent");
    expect(third).toBe("third connection: closed=true, nothing sent");
    expect(deadline).toBe("after the deadline: closed=true, nothing sent; idle closed=true");
    expect(onXs.openAtEnd).toBe(0);
    expect(onXs.timersAtEnd).toBe(0);
  });
});
