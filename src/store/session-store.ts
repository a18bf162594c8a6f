// The persistent store contract the client and sampler write through. Implementations: memory, journaled (file / flash).

/**
 * A small synchronous key-value store with an atomic commit.
 *
 * - Keys are 1 to 15 printable ASCII characters (0x20..0x7E; 15 is the ESP32 NVS limit), so every
 *   backend can hold them; any other key throws a RangeError from get/put/delete.
 * - put/delete are staged and visible to get/list at once; commit() makes every staged change
 *   durable together: after a power cut at any point the store holds either all of them or none.
 *   When commit() returns, the changes are durable (as far as the backend's sync allows).
 * - The store copies values it is given and get() returns a fresh copy: the core owns every
 *   payload it must resend, and a caller may reuse or change its array at any time.
 * - A value that fails its checksum is reported with a StorageError naming its key (from get, or
 *   when the store is opened for a corrupt commit journal), never returned silently. The caller
 *   may delete that key and commit to go on.
 * - If commit() throws (I/O error), the store refuses further use with a StorageError until recover() (or opening
 *   it again) brings back the last committed state. The one exception is StoreFullError (a backend of fixed size,
 *   the flash log, is full): nothing was written, the changes stay staged, and the store stays usable.
 */
export interface SessionStore {
  get(key: string): Uint8Array | undefined;
  /** Keys starting with `prefix`, in ascending string order. */
  list(prefix: string): string[];
  put(key: string, value: Uint8Array): void;
  /**
   * put() without the copy: the store may keep `value` itself. Only for a caller that built the array for this call
   * and never touches it again (the session's records, written for every message). Optional: callers fall back to put.
   */
  putOwned?(key: string, value: Uint8Array): void;
  delete(key: string): void;
  commit(): void;
  /**
   * The most bytes of keys and values the store can hold at once, from its backend's real size (an NVS partition,
   * a flash log), or undefined where nothing bounds it (memory). The client derives its queue's byte limit from it.
   */
  capacityBytes?(): number | undefined;
  /**
   * After a commit() that threw: drops the staged changes and brings the store back to its last durable state, usable
   * again (a full partition must not stop the device: the caller frees room and goes on). Throws if the backend
   * cannot be brought back (the store then stays refused).
   */
  recover?(): void;
}

export const MAX_KEY_LENGTH = 15;
