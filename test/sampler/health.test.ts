// The health report on its own, from a sampler's stats and a publisher's counters (the mutation run of src/sampler found
// the sum of drops, the cut of a long `why` and the optional heap untested: the firmware tests only read some fields).
import { describe, expect, it } from "vitest";
import type { ClientCounters, LinkProblem, Publisher } from "../../src/mqtt/client-api";
import { encodeHealth, healthReport } from "../../src/sampler/health";
import type { Sampler } from "../../src/sampler/sampler";

const counters: ClientCounters = {
  sent: 40,
  acked: 38,
  retried: 2,
  queued: 3,
  dropped: 7,
  reconnects: 4,
  received: 9,
  protocolErrors: 0,
  oversized: 1,
  ignored: 0,
  storeFailures: 0,
};

function fakeSampler(): Sampler {
  const stats = {
    uptimeMs: 3600000.4,
    boot: 3,
    nextSeq: 4711,
    pending: 4,
    batches: 12,
    publishFailures: 2,
    dropped: 5,
    storeFailures: 0,
    synced: true,
    sensors: { env: { reads: 100, failures: 6, overruns: 0 }, soil: { reads: 50, failures: 0, overruns: 1 } },
  };
  return { stats: () => stats } as unknown as Sampler;
}

function fakePublisher(problem?: LinkProblem): Publisher {
  return {
    publish: () => 0,
    subscribe: () => undefined,
    counters,
    queueStats: () => ({ depth: 2, bytes: 310, oldestAgeMs: 1199.6 }),
    ...(problem === undefined ? {} : { problem: () => problem }),
  };
}

describe("healthReport", () => {
  it("adds the client's drops to the sampler's and rounds the times", () => {
    const report = healthReport(fakeSampler(), fakePublisher());
    expect(report).toEqual({
      boot: 3,
      up: 3600000,
      seq: 4711,
      sync: true,
      q: 2,
      qb: 310,
      age: 1200,
      drop: 12,
      pubfail: 2,
      rc: 4,
      pend: 4,
      fail: { env: 6, soil: 0 },
      ovr: 1,
    });
  });

  it("says why the link is down, cutting a message over 160 characters to 157 and an ellipsis", () => {
    const why = (message: string) => healthReport(fakeSampler(), fakePublisher({ message, permanent: false })).why;
    expect(why("broker refused: not authorised")).toBe("broker refused: not authorised");
    const exactly = "x".repeat(160);
    expect(why(exactly)).toBe(exactly);
    expect(why("y".repeat(161))).toBe(`${"y".repeat(157)}...`);
    expect(why(`${"z".repeat(157)}abcdef`)).toHaveLength(160);
    // A publisher that is connected has no problem: no `why` at all.
    expect("why" in healthReport(fakeSampler(), fakePublisher())).toBe(false);
  });

  it("reports free heap only when the platform gives a number", () => {
    expect(healthReport(fakeSampler(), fakePublisher(), () => 81234).heap).toBe(81234);
    expect("heap" in healthReport(fakeSampler(), fakePublisher(), () => undefined)).toBe(false);
    expect("heap" in healthReport(fakeSampler(), fakePublisher())).toBe(false);
  });

  it("copies the command counters when there are any", () => {
    const commands = { ok: 3, err: 1, drop: 2 };
    expect(healthReport(fakeSampler(), fakePublisher(), undefined, commands).cmd).toEqual(commands);
    expect("cmd" in healthReport(fakeSampler(), fakePublisher())).toBe(false);
  });

  it("encodes as the UTF-8 of its JSON", () => {
    const report = healthReport(fakeSampler(), fakePublisher({ message: "Wi-Fi: no AP named “café”", permanent: true }));
    expect(new TextDecoder().decode(encodeHealth(report))).toBe(JSON.stringify(report));
  });
});
