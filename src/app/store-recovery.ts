// Boots whatever the store holds: a record that fails its checks is deleted (and said so) until the firmware starts.
import { StorageError } from "../errors";
import { MAX_INCOMING_QOS2 } from "../mqtt/session";
import { INCOMING_QOS2_KEY, META_KEY, SUBSCRIPTIONS_KEY, decodeIds, decodeMeta, decodeSubscriptions, readStoredMessages } from "../mqtt/session-records";
import type { Logger } from "../ports";
import { BOOT_KEY, SEQ_KEY, readCounter } from "../sampler/persist";
import type { SessionStore } from "../store/session-store";

/** Keys deleted one by one at most before the whole store is erased: a store this broken is not worth picking over. */
const MAX_DELETED_KEYS = 64;

/**
 * Runs `boot` until it stops throwing StorageError: each one names the key at fault, which is deleted (a queued
 * message, a pending reading or a counter is lost, and the warning says which); a StorageError without a key, or
 * after MAX_DELETED_KEYS deletes, erases every key. Any other error is the caller's (a bad config or board).
 * A device must boot whatever its store holds: a crash mid-write or another firmware's data must not stop it.
 */
export function bootOnStore<T>(store: SessionStore, logger: Logger | undefined, boot: () => T): T {
  let erased = false;
  for (let deleted = 0; ; ) {
    try {
      return boot();
    } catch (error) {
      if (!(error instanceof StorageError) || erased) throw error;
      const key = error.key;
      if (key !== undefined && deleted < MAX_DELETED_KEYS && deleteKey(store, key)) {
        deleted++;
        logger?.warn(`store: ${error.message}; deleted "${key}" to boot (what it held is lost)`);
        continue;
      }
      logger?.warn(`store: ${error.message}; erasing every key to boot (what the store held is lost)`);
      eraseAll(store);
      erased = true;
    }
  }
}

/**
 * Reads every record the client's session and the sampler's counters are rebuilt from, with the same decoders, and
 * throws the StorageError of the first that fails (pending readings and settings are checked, and dropped with a
 * warning, by the sampler itself). Run through bootOnStore before the firmware is built, so that sensors are opened once.
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

function deleteKey(store: SessionStore, key: string): boolean {
  try {
    if (store.list(key).indexOf(key) === -1) return false; // not a store key we can name (the journal): erase instead
    store.delete(key);
    store.commit();
    return true;
  } catch {
    return false;
  }
}

function eraseAll(store: SessionStore): void {
  for (const key of store.list("")) store.delete(key);
  store.commit();
}
