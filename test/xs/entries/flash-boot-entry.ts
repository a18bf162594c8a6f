// XS entry for the flash-wear bench: fills a 256 KB simulated NOR partition with a full log, then opens it (metered).
import { FlashLogStore } from "../../../src/store/flash-log";
import { fullLog } from "../../store/full-log";
import { SimNorFlash } from "../../store/nor-flash";
import { serveCommands } from "./xs-host";

let flash: SimNorFlash | undefined;

serveCommands((command) => {
  const op = (command as { op?: unknown }).op;
  if (op === "fill") {
    flash = fullLog();
    return { filled: true };
  }
  if (op === "open") return { keys: FlashLogStore.open((flash as SimNorFlash).reboot()).list("").length };
  if (op === "open-empty") return { keys: FlashLogStore.open(new SimNorFlash(256 * 1024, 4096)).list("").length };
  throw new Error(`unknown command ${JSON.stringify(command)}`);
});
