// Boots whatever the store holds: every record the firmware is rebuilt from is checked first, and each one that fails
// is deleted and named (store/repair) before anything is built.
import { MAX_INCOMING_QOS2 } from "../mqtt/session";
import { INCOMING_QOS2_KEY, META_KEY, SUBSCRIPTIONS_KEY, decodeIds, decodeMeta, decodeSubscriptions, readStoredMessages } from "../mqtt/session-records";
import type { Logger } from "../ports";
import { BOOT_KEY, SEQ_KEY, readCounter } from "../sampler/persist";
import { repairUntil } from "../store/repair";
import type { SessionStore } from "../store/session-store";

/**
 * Reads every record the client's session and the sampler's counters are rebuilt from, with the same decoders, and
 * throws the StorageError of the first that fails (pending readings and settings are checked, and dropped with a
 * warning, by the sampler itself).
 */
export function checkStoredState(store: SessionStore): void {
  decodeMeta(store.get(META_KEY));
  readStoredMessages(store);
  decodeIds(store.get(INCOMING_QOS2_KEY), MAX_INCOMING_QOS2);
  const subs = store.get(SUBSCRIPTIONS_KEY);
  if (subs) decodeSubscriptions(subs);
  readCounter(store, BOOT_KEY);
  readCounter(store, SEQ_KEY);
}

/** Deletes (and reports) records until checkStoredState passes, so the firmware is built once, its sensors opened once. */
export function repairStoredState(store: SessionStore, logger: Logger | undefined): void {
  repairUntil(store, logger, () => checkStoredState(store));
}
