// Moddable adapter: the session store in ESP32 NVS through the SDK's `preference` module (journaled, chunked).
import Preference from "preference";
import { openVerifiedOrReset, type JournaledStore } from "../../store/journaled-store";
import type { StorageError } from "../../errors";
import { PreferenceBackend } from "../../store/preference-backend";

/**
 * Opens the device's store in preference domain `domain` (at most 12 characters: domain + ".j", ".1", ".2"... are
 * used too), redoing or dropping a journal left by a power cut and verifying every checksum. A corrupt store is
 * reported through `onReset`, erased and replaced by an empty one, so the device samples on (what the corrupt store
 * held is lost, and said so).
 */
export function openSessionStore(domain: string, onReset: (error: StorageError) => void): JournaledStore {
  return openVerifiedOrReset(new PreferenceBackend(Preference, domain), onReset);
}
