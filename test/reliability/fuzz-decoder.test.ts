// Mutation fuzzing of the streaming decoder, seeded from the golden vectors: packets or a ProtocolError, never another
// exception, the same result in any chunking, bounded memory and time. Fixed seed here; scripts/fuzz-long.ts runs it for minutes.
import fc from "fast-check";
import { describe, it } from "vitest";
import { decoderProperty } from "./support/decoder-fuzz";

/** Fixed so CI is reproducible; fast-check prints the seed and the shrunk counterexample when a run fails. */
export const DECODER_SEED = 0x6d717474;

describe("decoder fuzz", () => {
  it("damaged golden streams in any chunking decode to packets or one ProtocolError, within maxPacketSize", () => {
    fc.assert(decoderProperty(), { seed: DECODER_SEED, numRuns: 5000, verbose: 1 });
  });
});
