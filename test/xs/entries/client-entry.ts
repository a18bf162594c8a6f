// XS entry for the client and firmware flows: the same engine-neutral scripts as on Node, plus the publish meter loop.
import { AckingLoop, runClientFlows } from "../flows/client-flows";
import { runDeviceFlow } from "../flows/device-flow";
import { runWebFlow } from "../flows/web-flow";
import { serveCommands } from "./xs-host";

type ClientCommand =
  | { op: "flows" }
  | { op: "device"; board: unknown }
  | { op: "web"; board: unknown }
  | { op: "loop-start" }
  | { op: "loop"; count: number; gc?: boolean }
  | { op: "gc" };

declare const gc: undefined | (() => void);
let loop: AckingLoop | undefined;

serveCommands((command) => {
  const c = command as ClientCommand;
  switch (c.op) {
    case "flows":
      return runClientFlows();
    case "device":
      return runDeviceFlow(c.board);
    case "web":
      return runWebFlow(c.board);
    case "loop-start":
      loop = new AckingLoop();
      return 0;
    case "loop": {
      if (!loop) throw new Error("loop-start first");
      const delivered = loop.run(c.count);
      // A full collection before the meter is read, so currentHeapCount is what is live, not what awaits collection.
      if (c.gc && typeof gc === "function") gc();
      return delivered;
    }
    case "gc":
      if (typeof gc !== "function") throw new Error("xsnap has no gc() here");
      gc();
      return 0;
    default:
      throw new Error(`unknown client command ${JSON.stringify(command)}`);
  }
});
