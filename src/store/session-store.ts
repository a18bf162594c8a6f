// The persistent store contract the client and sampler write through. Implementations: memory, journaled (file / flash).

/**
 * A small synchronous key-value store with an atomic commit.
 *
 * - Keys are at most 15 ASCII characters (the ESP32 NVS limit), so every backend can hold them.
 * - put/delete are staged and visible to get/list at once; commit() makes every staged change
 *   durable together: after a power cut at any point the store holds either all of them or none.
 * - The store copies values it is given: the core owns every payload it must resend, and a caller
 *   may reuse its array after put() returns.
 * - A value that fails its checksum is reported with a StorageError, never returned silently.
 */
export interface SessionStore {
  get(key: string): Uint8Array | undefined;
  /** Keys starting with `prefix`, in ascending string order. */
  list(prefix: string): string[];
  put(key: string, value: Uint8Array): void;
  delete(key: string): void;
  commit(): void;
}

export const MAX_KEY_LENGTH = 15;
