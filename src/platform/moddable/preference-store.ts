// Moddable adapter: the session store in ESP32 NVS through the SDK's `preference` module (journaled, chunked).
import Preference from "preference";
import { JournaledStore } from "../../store/journaled-store";
import { PreferenceBackend } from "../../store/preference-backend";

/**
 * Opens the store kept in preference domain `domain` (at most 12 characters; domain + ".j" and
 * domain + ".1", ".2"... are used too), redoing or dropping a journal left by a power cut.
 * The default NVS partition of Moddable's ESP32 build is 24 KB: keep the queue bounds well below.
 */
export function openPreferenceStore(domain = "mqtt"): JournaledStore {
  return JournaledStore.open(new PreferenceBackend(Preference, domain));
}
