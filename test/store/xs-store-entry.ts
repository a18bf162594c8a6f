// XS entry for the store: runs the portable workload inside xsnap and answers with its summary.
import { serveCommands } from "../xs/entries/xs-host";
import { flashWorkload } from "./flash-workload";
import { storeWorkload } from "./workload";

serveCommands((command) => {
  if ((command as { op?: unknown }).op === "workload") return storeWorkload();
  if ((command as { op?: unknown }).op === "flash") return flashWorkload();
  throw new Error(`unknown store command ${JSON.stringify(command)}`);
});
