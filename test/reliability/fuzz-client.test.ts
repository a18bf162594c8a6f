// Fuzzing the client's incoming side: random, mutated and illegal packet streams from a hostile broker never throw out
// of the client, each rejection is a ProtocolError then a disconnect and a reconnect, and no queued message is lost.
import fc from "fast-check";
import { describe, it } from "vitest";
import { clientProperty } from "./support/client-fuzz";

/** Fixed so CI is reproducible; fast-check prints the seed and the shrunk counterexample when a run fails. */
export const CLIENT_SEED = 0x31313131;

describe("client incoming-side fuzz", () => {
  it("a hostile broker then a good one: no exception escapes, every rejection reconnects, all K messages delivered", () => {
    fc.assert(clientProperty(), { seed: CLIENT_SEED, numRuns: 1500, verbose: 1 });
  });
});
