// Fuzzing the request handling that is ours (RequestReader + StatusPage) on a running firmware, fixed seeds: no input
// throws, every answer is a well-formed response without a secret, and sampling and publishing go on throughout.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RequestReader, STATUS_TEXT, isResponse, type WebResponse } from "../../src/web/request";
import type { StatusReport } from "../../src/web/status";
import { SECRETS, ackAll, basic, bodyText, bootWithPage, connect, request } from "./support";

const methods = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("GET", "POST") },
  { weight: 1, arbitrary: fc.constantFrom("PUT", "OPTIONS", "HEAD", "DELETE", "get", "") },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const paths = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("/", "/index.html", "/status.json", "/settings/interval", "/settings/deadband", "/settings/heartbeat") },
  { weight: 2, arbitrary: fc.constantFrom("/status.json?since=", "/settings/read", "/settings/", "//", "/status.json?since=99999999999999999") },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }).map((s) => "/" + s) },
  { weight: 1, arbitrary: fc.nat().map((n) => `/status.json?since=${n}&x=${n}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);
const headerNames = fc.oneof(fc.constantFrom("authorization", "content-type", "content-length", "x-requested-with", "transfer-encoding", "Authorization", "cookie"), fc.string({ maxLength: 20 }));
const headerValues = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("application/json", "Basic YWRtaW46cHc=", "Basic", "0", "5", "600", "chunked", basic("pw"), basic("nope")) },
  { weight: 3, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 2, arbitrary: fc.string({ minLength: 800, maxLength: 2500 }) },
);
const bodies = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('{"ms":5000}', '{"ms":"fast"}', '{"s":10}', '{"value":"1%"}', '{"value":"x","channel":"zz"}', "[]", "null", '{"ms":1e400}', '{"__proto__":{"ms":1}}', "") },
  { weight: 3, arbitrary: fc.string({ maxLength: 100 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 400, maxLength: 700 }) },
).map((s) => new TextEncoder().encode(s));

const exchange = fc.record({
  method: methods,
  target: paths,
  /** The page's own headers, often right, sometimes wrong, before the random ones. */
  auth: fc.constantFrom(undefined, basic("pw"), basic("wrong"), "Basic !!"),
  json: fc.boolean(),
  headers: fc.array(fc.tuple(headerNames, headerValues), { maxLength: 6 }),
  body: bodies,
  bodyPieces: fc.integer({ min: 1, max: 4 }),
  /** Most requests get a true content-length, so bodies reach the routes and the commands, not only the reader's refusals. */
  withLength: fc.boolean(),
  /** Filler headers of 1,500 bytes: three pass the header budget. */
  fillers: fc.nat({ max: 3 }),
});

type ExchangeCase = typeof exchange extends fc.Arbitrary<infer T> ? T : never;

function run(page: ReturnType<typeof bootWithPage>["page"], e: ExchangeCase): WebResponse {
  const reader = new RequestReader();
  let refusal = reader.start(e.method, e.target);
  if (e.withLength) refusal ??= reader.header("content-length", String(e.body.length));
  if (e.auth !== undefined) refusal ??= reader.header("authorization", e.auth);
  if (e.json) refusal ??= reader.header("content-type", "application/json");
  for (const [name, value] of e.headers) refusal ??= reader.header(name, value);
  for (let i = 0; i < e.fillers; i++) refusal ??= reader.header(`x-fill-${i}`, "f".repeat(1500));
  const size = Math.ceil(e.body.length / e.bodyPieces) || 1;
  for (let i = 0; i < e.body.length && refusal === undefined; i += size) refusal = reader.body(e.body.subarray(i, i + size));
  if (refusal !== undefined) return refusal;
  const complete = reader.finish();
  return isResponse(complete) ? complete : page.handle(complete);
}

describe("status page request handling under fuzz", () => {
  it("always answers with a known status, never a secret, and never stops sampling or publishing", () => {
    const setup = bootWithPage({ web_password: "pw" }, { maxFailures: 3, lockoutMs: 2_000, maxLockoutMs: 8_000 });
    const { page, clock, broker, firmware } = setup;
    connect(broker);
    let lastSampled = 0;
    let lastAcked = 0;
    let rounds = 0;
    const statuses = new Map<number, number>();
    const seen = new Set<number>();
    fc.assert(
      fc.property(fc.array(exchange, { minLength: 1, maxLength: 8 }), (batch) => {
        for (const e of batch) {
          let response: WebResponse;
          seen.add(e.withLength ? 0 : 1);
          expect(() => (response = run(page, e))).not.toThrow();
          response = response!;
          expect(STATUS_TEXT[response.status], `status ${response.status}`).toBeDefined();
          expect(response.status).not.toBe(500);
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const text = Buffer.from(response.body.chunk(0, response.body.byteLength)).toString("latin1");
          expect(response.body.byteLength).toBe(response.body.chunk(0, 1 << 30).length);
          for (const secret of [SECRETS.password, SECRETS.mqtt_password]) expect(text).not.toContain(secret);
          for (const [name, value] of response.headers) expect(`${name}: ${value}`).not.toMatch(/[\r\n]/);
        }
        // Whatever interval the fuzz set, back to 1 s so the liveness check below has samples to count (not through the
        // page: a success there would reset the wrong-password count the lockout needs).
        firmware.device.sampler.setInterval(1000);
        clock.advance(10_000);
        ackAll(broker);
        const s = JSON.parse(bodyText(page.handle(request({ target: "/status.json" })))) as StatusReport;
        expect(s.counters.sampled).toBeGreaterThan(lastSampled);
        expect(s.broker.connected).toBe(true);
        lastSampled = s.counters.sampled;
        if (s.counters.acked > lastAcked) lastAcked = s.counters.acked;
        rounds++;
      }),
      { seed: 20261130, numRuns: 300 },
    );
    expect(rounds).toBe(300);
    // The fuzz reached the answers, not only the limits: successes, settings refusals and auth refusals all occurred.
    for (const code of [200, 400, 401, 404, 405, 413, 415, 429, 431]) expect(statuses.get(code) ?? 0, `no ${code} in ${JSON.stringify([...statuses])}`).toBeGreaterThan(0);
    // Publishing went on: telemetry kept being acknowledged all along (heartbeats at least).
    expect(lastAcked).toBeGreaterThan(100);
    expect(firmware.client.state).toBe("connected");
  });
});
