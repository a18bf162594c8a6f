// SessionStore in RAM: for tests and benchmarks. Nothing survives the process unless the caller keeps the map.
import { StagedStore, type StagedOp } from "./staged-store";

/**
 * Values are copied in and out; commit() folds staged changes into `committed` (no durability).
 * Passing the same `committed` map to a new MemoryStore simulates a reboot with RAM that survives:
 * the new store sees every committed value and none of the old store's uncommitted changes.
 */
export class MemoryStore extends StagedStore {
  private readonly committed: Map<string, Uint8Array>;

  constructor(committed: Map<string, Uint8Array> = new Map()) {
    super(committed.keys());
    this.committed = committed;
  }

  protected override readCommitted(key: string): Uint8Array {
    const value = this.committed.get(key);
    return value === undefined ? new Uint8Array(0) : value.slice();
  }

  protected override restore(): Iterable<string> {
    return [...this.committed.keys()];
  }

  protected override persist(ops: readonly StagedOp[]): void {
    for (let i = 0; i < ops.length; i++) {
      const value = ops[i][1];
      if (value === null) this.committed.delete(ops[i][0]);
      else this.committed.set(ops[i][0], value);
    }
  }
}
