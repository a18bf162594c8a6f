// Moddable adapter: moves the session store that firmware before the flash log kept in ESP32 NVS (through the SDK's
// `preference` module, journaled and chunked) into the flash log, once.
import Preference from "preference";
import { eraseStore, openVerifiedOrReset } from "../../store/journaled-store";
import type { SessionStore } from "../../store/session-store";
import type { StorageError } from "../../errors";
import { PreferenceBackend } from "../../store/preference-backend";

/**
 * Moves a session store left in NVS by an earlier firmware (preference domain `domain`) into `store` (the flash log),
 * once: when the log is empty and NVS holds keys, every value is copied in one commit, then the NVS domain is erased.
 * A cut before that commit migrates again at the next boot; after it, the NVS copy is only erased. Returns how many
 * values moved. A corrupt NVS store is reported through `onReset` and dropped, as at any boot.
 */
export function migratePreferenceStore(domain: string, store: SessionStore, onReset: (error: StorageError) => void): number {
  const backend = new PreferenceBackend(Preference, domain);
  if (backend.names().length === 0 && backend.readJournal() === undefined) return 0;
  let moved = 0;
  if (store.list("").length === 0) {
    const old = openVerifiedOrReset(backend, onReset);
    for (const key of old.list("")) {
      store.put(key, old.get(key) as Uint8Array);
      moved++;
    }
    store.commit();
  }
  eraseStore(backend);
  return moved;
}
