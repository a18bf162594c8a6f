// XS entry for issue 10's hardening: the hostile-broker client flows and boots on arbitrary store contents.
import { bootOnAnyStore, type StoredEntry } from "../flows/any-store-flow";
import { runFullStore } from "../flows/full-store-flow";
import { runHostileFlows } from "../flows/hostile-flows";
import { serveCommands } from "./xs-host";

type Command =
  | { op: "hostile" }
  | { op: "any-store"; cases: StoredEntry[][]; board: unknown }
  | { op: "full-store"; board: unknown; toldBytes: number; hours: number };

serveCommands((command) => {
  const c = command as Command;
  switch (c.op) {
    case "hostile":
      return runHostileFlows();
    case "any-store":
      return c.cases.map((entries) => bootOnAnyStore(entries, c.board));
    case "full-store":
      return runFullStore(c.board, c.toldBytes, c.hours);
    default:
      throw new Error(`unknown command ${JSON.stringify(command)}`);
  }
});
