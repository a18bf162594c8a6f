// XS entry for the flash-wear bench: fills a 256 KB simulated NOR partition with a full log, then opens it (metered).
import { FlashLogStore } from "../../../src/store/flash-log";
import { SimNorFlash } from "../../store/nor-flash";
import { serveCommands } from "./xs-host";

let flash: SimNorFlash | undefined;

serveCommands((command) => {
  const op = (command as { op?: unknown }).op;
  if (op === "fill") {
    flash = new SimNorFlash(256 * 1024, 4096);
    const store = FlashLogStore.open(flash);
    // Twenty records a commit (the same live content as one a commit, filled faster); stops at the first refusal.
    for (let i = 0; ; i += 20) {
      for (let k = i; k < i + 20; k++) store.put(`smp.r${k.toString(36).padStart(10, "0")}`, new Uint8Array(18).fill(k & 0xff));
      try {
        store.commit();
      } catch {
        break;
      }
    }
    return { filled: true };
  }
  if (op === "open") return { keys: FlashLogStore.open((flash as SimNorFlash).reboot()).list("").length };
  if (op === "open-empty") return { keys: FlashLogStore.open(new SimNorFlash(256 * 1024, 4096)).list("").length };
  throw new Error(`unknown command ${JSON.stringify(command)}`);
});
