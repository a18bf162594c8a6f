// XS entry for the codec: runs the shared vectors and the encode+decode loop inside xsnap, answering JSON commands.
import { decodeStreams, encodeDecodeLoop, runGoldenVectors, runMalformedVectors, type LoopPart } from "../../vectors/run-vectors";
import { runBoundaryVectors } from "../../vectors/boundary-vectors";
import { serveCommands } from "./xs-host";

type CodecCommand =
  | { op: "golden" }
  | { op: "malformed" }
  | { op: "decode"; hexes: string[] }
  | { op: "boundaries"; maxRemainingLength: number }
  | { op: "loop"; iterations: number; part?: LoopPart };

serveCommands((command) => {
  const c = command as CodecCommand;
  switch (c.op) {
    case "golden":
      return runGoldenVectors();
    case "malformed":
      return runMalformedVectors();
    case "decode":
      return decodeStreams(c.hexes);
    case "boundaries":
      return runBoundaryVectors(c.maxRemainingLength);
    case "loop":
      return encodeDecodeLoop(c.iterations, c.part);
    default:
      throw new Error(`unknown codec command ${JSON.stringify(command)}`);
  }
});
