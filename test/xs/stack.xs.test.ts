// CI guard for the XS stack, without the Moddable SDK: every firmware turn that stack-flows.ts lists must run on
// the real XS engine (xsnap) in no more than 75% of the smallest board's stack, less the slots the Moddable host
// and adapters add below a turn. A change that makes any turn deeper than that fails here.
//
// How it is measured (stack-probe.ts): xsnap's stack is a fixed 4096 slots; the probe fills all but N slots and
// runs the turn on top. The figure is in XS slots, like `creation.stack` in manifest.json (a slot is 16 bytes on the
// ESP32 and 32 in mcsim or xsnap on a 64-bit desktop: compare slots, never bytes).
// How it relates to mcsim: docs/moddable.md, "Stack and heap budgets per board".
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { STACK_FLOWS } from "./flows/stack-flows";
import { xsnapWorkerPath } from "./harness";
import { StackProbe } from "./stack-probe";

const ROOT = join(import.meta.dirname, "..", "..");
const binary = xsnapWorkerPath();
const BOARD = JSON.parse(readFileSync(join(ROOT, "boards", "lin.json"), "utf8")) as unknown;
const manifest = JSON.parse(readFileSync(join(ROOT, "manifest.json"), "utf8")) as {
  platforms: Record<string, { creation?: { stack?: number } }>;
};

/** The smallest XS stack (slots) any platform of manifest.json is built with. */
export function smallestStack(): { platform: string; slots: number } {
  let smallest = { platform: "", slots: Infinity };
  for (const [platform, entry] of Object.entries(manifest.platforms)) {
    const slots = entry.creation?.stack;
    if (slots !== undefined && slots < smallest.slots) smallest = { platform, slots };
  }
  return smallest;
}

/**
 * Slots below a core turn on the device that xsnap does not have: the Moddable socket/timer callback and our adapter
 * (transport.ts onReadable -> onData). Measured in mcsim (nodemcu figures) as mcsim's peak at the connect with
 * discovery on, 315 slots, less this turn's xsnap need, 298: 17 slots. 40 leaves room for it; TLS (the SDK's record
 * layer below every receive) was not measured. See docs/moddable.md.
 */
export const HOST_SLOTS = 40;

describe("stack flows on Node: each turn does what its name says (so the guard measures real work)", () => {
  const expected: Array<[RegExp, RegExp]> = [
    [/^boot: full queue/, /^booted with 500 queued$/],
    [/^boot: corrupt store/, /^booted with \d+ queued \(store reset: StorageError\)$/],
    [/^connect and resend/, /^resent 8$/],
    [/^batch flush/, /^1 batch$/],
    [/^health report/, /^1 health$/],
    [/^connect with Home Assistant/, /^3 discovery$/],
    [/^command received \(the receive turn/, /^0 run on the receive turn$/],
    [/^command received: a/, /^connected$/],
    [/^command run: .* valid$|^command run: read all sensors$/, /^\{"cmd":"\w+","ok":true/],
    [/^command run: /, /^\{"cmd":"\w+","ok":false/],
  ];
  it.each(STACK_FLOWS.map((f) => [f.name, f] as const))("%s", (name, flow) => {
    const want = expected.find(([pattern]) => pattern.test(name));
    expect(want, `no expectation for ${name}`).toBeDefined();
    expect(flow.prepare(BOARD)()).toMatch((want as [RegExp, RegExp])[1]);
  });
});

describe.skipIf(binary === undefined)("XS stack guard (xsnap): every firmware turn within the smallest board's budget", () => {
  const probe = new StackProbe();
  afterAll(async () => {
    await probe.close();
  });

  it("every platform in manifest.json sets creation.stack", () => {
    for (const [platform, entry] of Object.entries(manifest.platforms)) {
      if ("error" in entry) continue;
      expect(entry.creation?.stack, platform).toBeGreaterThan(0);
    }
  });

  it(
    "each flow runs with only 75% of the smallest creation.stack (less the host's slots) free; a deeper recursion does not",
    { timeout: 600_000 },
    async () => {
      const { platform, slots } = smallestStack();
      const allowed = Math.floor(slots * 0.75) - HOST_SLOTS;
      const capacity = await probe.capacity();
      expect(capacity).toBeGreaterThan(3000); // xsnap's 4096 slots less the harness
      const pad = capacity - allowed;
      // The guard can fail: a recursion that needs more than `allowed` slots overflows at this pad.
      expect(await probe.fits({ op: "deep", pad, frames: Math.ceil(allowed / 10) + 5 })).toBe(false);
      expect(await probe.fits({ op: "deep", pad, frames: 3 })).toBe(true);
      const failed: string[] = [];
      for (const flow of STACK_FLOWS) {
        if (!(await probe.fits({ op: "run", flow: flow.name, board: BOARD, pad }))) failed.push(flow.name);
      }
      expect(failed, `flows needing more than ${allowed} slots (75% of ${slots} on ${platform}, less ${HOST_SLOTS} for the host)`).toEqual([]);
    },
  );
});
