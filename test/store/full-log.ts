// A 256 KB flash log filled to its limit with reading-sized records: the worst boot (every block used, the index
// largest). Engine-neutral: the flash-wear bench opens it on Node, test/xs/entries/flash-boot-entry.ts on XS.
import { StoreFullError } from "../../src/errors";
import { FlashLogStore } from "../../src/store/flash-log";
import { SimNorFlash } from "./nor-flash";

export function fullLog(): SimNorFlash {
  const flash = new SimNorFlash(256 * 1024, 4096);
  const store = FlashLogStore.open(flash);
  // Twenty records a commit (the same live content as one a commit, filled faster), until the log refuses one.
  for (let i = 0; ; i += 20) {
    for (let k = i; k < i + 20; k++) store.put(`smp.r${k.toString(36).padStart(10, "0")}`, new Uint8Array(18).fill(k & 0xff));
    try {
      store.commit();
    } catch (error) {
      if (error instanceof StoreFullError) return flash;
      throw error;
    }
  }
}
