// The largest packet MQTT 3.1.1 allows: remaining length 268,435,455 (four length bytes ff ff ff 7f), both ways and
// against mqtt-packet. Its own file because it moves about 1.5 GB through memory: seconds on an idle machine, a few
// minutes on a loaded one, so the mutation run (vitest.mutate.config.ts) leaves it out; npm test runs it.
import { describe, it } from "vitest";
import { expectBoundaryVector } from "./support/boundary-check";
import { BOUNDARY_VECTORS } from "./vectors/boundary-vectors";

describe("the largest packet", () => {
  it("remaining length 268,435,455: golden bytes both ways, whole and in pieces, mqtt-packet agrees", { timeout: 600_000 }, () => {
    const largest = BOUNDARY_VECTORS.at(-1)!;
    if (largest.remainingLength !== 268_435_455) throw new Error("the last boundary vector must be the largest length");
    expectBoundaryVector(largest);
  });
});
