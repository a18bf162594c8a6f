// XS entry for the Moddable adapter flows (./moddable-flow.ts); bundled with the SDK's module names resolved
// to test/moddable/fakes by test/moddable/adapters.xs.test.ts.
import { runLinPartitionFlow, runWebServerFlow } from "./moddable-flow";
import { serveCommands } from "../../xs/entries/xs-host";

serveCommands((command) => {
  const op = (command as { op?: unknown }).op;
  if (op === "lin-partition") return runLinPartitionFlow();
  if (op === "web-server") return runWebServerFlow();
  throw new Error(`unknown command ${JSON.stringify(command)}`);
});
