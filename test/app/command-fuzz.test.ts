// Hostile command topics and payloads through the real Firmware on Node (the same cases run on XS in
// test/xs/commands.xs.test.ts): each gets a reply or is dropped with a counted error, nothing escapes the receive path.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { COMMAND_LIMITS, runCommand, scanPayload } from "../../src/sampler/commands";
import { commandCaseArbitrary, COMMAND_FUZZ_SEED } from "../support/command-arbitraries";
import { namedCommandCases, runCommandFuzz } from "../xs/flows/command-flows";

const BOARD = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "boards", "lin.json"), "utf8")) as unknown;

describe("commands through the firmware (Node)", () => {
  const named = namedCommandCases();
  const result = runCommandFuzz(BOARD, named.map(([, c]) => c));
  const outcome = (label: string) => result.outcomes[named.findIndex(([l]) => l === label)];

  it("every named attack gets a reply or a counted drop, and the device goes on", () => {
    expect(result.outcome).toBe("PASSED");
    expect(result.counters.ok + result.counters.err + result.counters.drop).toBe(named.length);
  });

  it.each([
    ["10,000 levels of [", /payload of 20000 bytes is over the limit of 512/],
    ["60 KB of JSON string", /over the limit of 512/],
    ["20 KB id", /over the limit of 512/],
    ["300-char id", /"id" must be at most 64 characters, got 300/],
    ["5,000-character command name", /unknown command "n{32}\.\.\."/],
    ["30 KB value", /over the limit of 512/],
    ["long field name", /unknown field "f{32}\.\.\." for heartbeat/],
    ["invalid UTF-8", /not UTF-8/],
    ["wrong types", /"ms" must be an integer from 1000 to 86400000, got "fast"/],
    ["nested id", /"id" must be a string or a number/],
    ["unknown command", /unknown command "reboot"/],
    ["retained command", /retained command ignored/],
  ])("%s: error reply %s", (label, error) => {
    const text = outcome(label);
    expect(text).toMatch(/^reply /);
    const reply = JSON.parse(text.slice("reply ".length));
    expect(reply.ok).toBe(false);
    expect(reply.error).toMatch(error);
    expect(text.length).toBeLessThanOrEqual(COMMAND_LIMITS.maxReplyBytes + "reply ".length);
  });

  it("a topic deeper than cmd/<name>, or an empty name, is dropped without a reply (counted)", () => {
    expect(outcome("topic deeper than cmd/<name>")).toBe("dropped");
    expect(outcome("empty command name")).toBe("dropped");
  });

  it("valid commands still work, at QoS 1 and 2", () => {
    for (const label of ["valid interval", "valid deadband", "valid heartbeat", "valid read", "valid health", "QoS 2 command"]) {
      expect(JSON.parse(outcome(label).slice("reply ".length)), label).toMatchObject({ ok: true });
    }
  });

  it("refuses deep nesting by a byte scan, before JSON.parse (10,000 levels) and ignores brackets inside strings", () => {
    const deep = new TextEncoder().encode("[".repeat(10_000));
    expect(scanPayload(deep)).toMatch(/over the limit/);
    expect(scanPayload(new TextEncoder().encode('{"a":{"b":{"c":1}}}'))).toBe("payload nests deeper than 2 levels");
    expect(scanPayload(new TextEncoder().encode('{"id":"[[[[[[\\"{{{{"}'))).toBeUndefined();
    let parsed = false;
    const original = JSON.parse;
    JSON.parse = ((text: string) => {
      parsed = true;
      return original(text);
    }) as typeof JSON.parse;
    try {
      const reply = runCommand({ sampler: undefined as never, publishHealth: () => {} }, "read", new TextEncoder().encode('{"a":[[[1]]]}'));
      expect(reply).toMatchObject({ ok: false, error: "payload nests deeper than 2 levels" });
    } finally {
      JSON.parse = original;
    }
    expect(parsed).toBe(false);
  });

  it(`fast-check (seed ${COMMAND_FUZZ_SEED}): arbitrary topics, bytes, JSON, nesting and flags never escape the receive path`, () => {
    fc.assert(
      fc.property(fc.array(commandCaseArbitrary(), { minLength: 1, maxLength: 25 }), (cases) => {
        const run = runCommandFuzz(BOARD, cases);
        if (run.outcome !== "PASSED") throw new Error(run.outcome);
        for (const o of run.outcomes) if (o !== "dropped" && o.length - "reply ".length > COMMAND_LIMITS.maxReplyBytes) throw new Error(`long reply ${o.length}`);
      }),
      { seed: COMMAND_FUZZ_SEED, numRuns: 60 },
    );
  });
});
