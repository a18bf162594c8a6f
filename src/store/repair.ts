// Repairs a store by deleting, one by one, the records a reader refuses (and saying so), until the reader succeeds.
import { StorageError } from "../errors";
import type { Logger } from "../ports";
import type { SessionStore } from "./session-store";

/** Keys deleted one by one at most before the whole store is erased: a store this broken is not worth picking over. */
const MAX_DELETED_KEYS = 64;

/**
 * Runs `boot` until it stops throwing StorageError: each one names the key at fault, which is deleted (a queued
 * message, a pending reading or a counter is lost, and the warning says which); a StorageError without a key, or
 * after MAX_DELETED_KEYS deletes, erases every key. Any other error is the caller's (a bad config or board).
 * A device must boot whatever its store holds: a crash mid-write or another firmware's data must not stop it.
 */
export function repairUntil<T>(store: SessionStore, logger: Logger | undefined, boot: () => T): T {
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
