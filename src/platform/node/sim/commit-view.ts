// A SessionStore view whose commit() is left to the store's other writer: the sampler's seq commit rides on the client's enqueue commit.
import type { SessionStore } from "../../../store/session-store";

/**
 * The sampler commits the next seq, then calls publish(), which commits the queued message: two commits,
 * and a kill between them leaves a seq that no queued message carries (a gap a subscriber reads as a loss).
 * Given this view, the sampler only stages its puts; they become durable in the same atomic commit as the
 * message that carries the seqs (the client commits the shared store at the end of publish()).
 * Whoever builds the device must commit() the underlying store once after construction (the boot counter)
 * and after anything the sampler changes without publishing.
 */
export function deferredCommitView(store: SessionStore): SessionStore {
  return {
    get: (key) => store.get(key),
    list: (prefix) => store.list(prefix),
    put: (key, value) => store.put(key, value),
    delete: (key) => store.delete(key),
    commit: () => {},
  };
}
