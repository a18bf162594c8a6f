// The status page's request handling on the real XS engine (xsnap), compared with the same requests on Node.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusReport } from "../../src/web/status";
import { runWebFlow, type WebFlowResult } from "./flows/web-flow";
import { XsRunner, xsEntry, xsnapWorkerPath } from "./harness";

const binary = xsnapWorkerPath();
const BOARD = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "boards", "lin.json"), "utf8")) as unknown;

describe.skipIf(binary === undefined)("XS engine (xsnap): status page request handling", () => {
  let xs: XsRunner;
  let onXs: WebFlowResult;
  const onNode = runWebFlow(BOARD);

  beforeAll(async () => {
    xs = await XsRunner.start({ entry: xsEntry("client-entry"), meteringLimit: 1e10 });
    onXs = (await xs.command<WebFlowResult>({ op: "web", board: BOARD })).reply;
  });
  afterAll(async () => {
    await xs?.close();
  });

  it("answers every request alike on XS and Node", () => {
    expect(onNode.outcome).toBe("PASSED");
    expect(onXs.outcome).toBe("PASSED");
    expect(onXs.answers).toEqual(onNode.answers);
  });

  it("the answers are the expected ones: status JSON, refusals, a wrong password, the right password, with a colon in it, works", () => {
    const status = onXs.answers.map((a) => Number(a.slice(0, 3)));
    expect(status).toEqual([200, 200, 400, 401, 401, 200, 400, 200, 414, 501, 405, 200]);
    const last = JSON.parse(onXs.answers[11].slice(4)) as StatusReport;
    expect(last.settings).toMatchObject({ intervalMs: { env: 2000 }, heartbeatS: 60, writable: true });
    expect(last.device.firmware).toBe("1.2.3");
    // The flash log's health, worn before boot: erases this boot, so a rate and a number of years.
    expect(last.store?.sectors.total).toBe(8);
    expect(last.store?.erases.sinceBoot).toBeGreaterThan(0);
    expect(last.store?.erases.perDay).toBeGreaterThan(0);
    expect(last.store?.yearsLeft).toBeGreaterThan(0);
    for (const answer of onXs.answers) for (const secret of ["wifi-pw", "mqtt-pw", "p@ss word"]) expect(answer).not.toContain(secret);
  });
});
