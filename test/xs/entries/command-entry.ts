// XS entry for hostile commands through the firmware: the cases come from Node (fast-check, fixed seed) as JSON.
import { runCommandFuzz, type CommandCase } from "../flows/command-flows";
import { serveCommands } from "./xs-host";

type Command = { op: "fuzz"; board: unknown; cases: CommandCase[] };

serveCommands((command) => {
  const c = command as Command;
  switch (c.op) {
    case "fuzz":
      return runCommandFuzz(c.board, c.cases);
    default:
      throw new Error(`unknown command ${JSON.stringify(command)}`);
  }
});
