// What every SessionStore shares: key rules, copied values, staged changes seen at once, sorted prefix listing.
import { StorageError, StoreFullError } from "../errors";
import { MAX_KEY_LENGTH, type SessionStore } from "./session-store";

/** A staged change: the new value, or null for a delete. */
export type StagedOp = readonly [key: string, value: Uint8Array | null];

const VALID_KEY = new RegExp(`^[\\x20-\\x7e]{1,${MAX_KEY_LENGTH}}$`);

/** Throws a RangeError unless `key` is 1 to 15 printable ASCII characters (0x20..0x7E): every backend can hold it as is. */
export function checkKey(key: string): void {
  // The pattern is the fast path (on XS a native test is about a seventh of a loop over the characters); the loop
  // below runs only for a bad key, to say which character is wrong.
  if (typeof key === "string" && VALID_KEY.test(key)) return;
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new RangeError(`store key "${String(key)}" must be 1 to ${MAX_KEY_LENGTH} characters (ESP32 NVS key limit)`);
  }
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) {
      throw new RangeError(`store key "${key}" must be printable ASCII; character ${i} is 0x${code.toString(16)}`);
    }
  }
}

/** Index of the first element of the sorted `keys` that is >= `prefix`. */
function lowerBound(keys: readonly string[], prefix: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A SessionStore minus durability: a subclass says how to read a committed value and how to
 * persist a batch of staged changes. The set of committed keys lives in RAM (keys are small);
 * committed values stay where the subclass keeps them.
 */
export abstract class StagedStore implements SessionStore {
  private readonly staged = new Map<string, Uint8Array | null>();
  private readonly committedKeys: Set<string>;
  private sortedKeys: string[] | undefined;
  private failure: Error | undefined;

  protected constructor(committedKeys: Iterable<string>) {
    this.committedKeys = new Set(committedKeys);
  }

  /** The committed value of `key`, which is known to exist; a fresh array the caller may keep. */
  protected abstract readCommitted(key: string): Uint8Array;

  /** Makes `ops` durable all together, or throws (the store then refuses further use until recover()). */
  protected abstract persist(ops: readonly StagedOp[]): void;

  /**
   * Brings the backend back to a durable state after a failed persist() (finishing or undoing what it began) and
   * returns the keys it then holds. Throws when it cannot.
   */
  protected abstract restore(): Iterable<string>;

  /** See SessionStore.recover: staged changes are dropped; the committed keys are read back from the backend. */
  recover(): void {
    if (this.failure === undefined) {
      this.staged.clear();
      return;
    }
    const names = this.restore();
    this.committedKeys.clear();
    for (const name of names) this.committedKeys.add(name);
    this.sortedKeys = undefined;
    this.staged.clear();
    this.failure = undefined;
  }

  get(key: string): Uint8Array | undefined {
    this.checkUsable();
    checkKey(key);
    const staged = this.staged.get(key);
    if (staged !== undefined) return staged === null ? undefined : staged.slice();
    return this.committedKeys.has(key) ? this.readCommitted(key) : undefined;
  }

  list(prefix: string): string[] {
    this.checkUsable();
    const keys = this.sorted();
    const out: string[] = [];
    for (let i = lowerBound(keys, prefix); i < keys.length && keys[i].startsWith(prefix); i++) {
      if (!this.staged.has(keys[i])) out.push(keys[i]);
    }
    let added = false;
    for (const [key, value] of this.staged) {
      if (value !== null && key.startsWith(prefix)) {
        out.push(key);
        added = true;
      }
    }
    if (added) out.sort();
    return out;
  }

  put(key: string, value: Uint8Array): void {
    this.putOwned(key, value instanceof Uint8Array ? value.slice() : value);
  }

  /** See SessionStore.putOwned: the session hands over each record it encodes; on XS the copy was a third of a put. */
  putOwned(key: string, value: Uint8Array): void {
    this.checkUsable();
    checkKey(key);
    if (!(value instanceof Uint8Array)) throw new TypeError(`store value for "${key}" must be a Uint8Array`);
    this.staged.set(key, value);
  }

  delete(key: string): void {
    this.checkUsable();
    checkKey(key);
    if (this.committedKeys.has(key)) this.staged.set(key, null);
    else this.staged.delete(key);
  }

  commit(): void {
    this.checkUsable();
    if (this.staged.size === 0) return;
    // forEach and index loops, not spread and destructuring for-of: on XS each of those costs an iterator per entry,
    // and this runs for every turn that changed anything.
    const ops: StagedOp[] = [];
    this.staged.forEach((value, key) => {
      ops.push([key, value]);
    });
    try {
      this.persist(ops);
    } catch (error) {
      // A full store wrote nothing: the caller may free room and commit again. Anything else may have half-written.
      if (!(error instanceof StoreFullError)) this.failure = error instanceof Error ? error : new Error(String(error));
      throw error;
    }
    for (let i = 0; i < ops.length; i++) {
      const key = ops[i][0];
      const value = ops[i][1];
      if (value === null) {
        if (this.committedKeys.delete(key)) this.sortedKeys = undefined;
      } else if (!this.committedKeys.has(key)) {
        this.committedKeys.add(key);
        this.sortedKeys = undefined;
      }
    }
    this.staged.clear();
  }

  /** Number of staged changes not yet committed. */
  get pending(): number {
    return this.staged.size;
  }

  private sorted(): string[] {
    if (this.sortedKeys === undefined) this.sortedKeys = [...this.committedKeys].sort();
    return this.sortedKeys;
  }

  private checkUsable(): void {
    if (this.failure !== undefined) {
      throw new StorageError(
        `store unusable after a failed commit (${this.failure.message}); reopen it to get the last committed state`,
      );
    }
  }
}
