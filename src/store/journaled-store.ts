// The crash-safe SessionStore used on files (Node) and flash (Moddable): a redo journal over a tiny item backend.
//
// Why a journal and not a log: the device backend (ESP32 NVS through Moddable's `preference`) has
// no append, only whole-item set/delete, and NVS is itself log-structured with wear levelling, so a
// second log on top would only add compaction. Both backends do whole-item writes well.
//
// commit() of one change on a backend with atomic item writes: write (or remove) the item, sync.
// commit() of several changes, or on a backend without atomic writes:
//   1. write ONE journal record holding every staged change, with a header CRC and a body CRC; sync.
//      The journal being complete on the backend is the commit point.
//   2. apply the changes to their items (each item carries a CRC over its key and value); sync.
//   3. remove the journal.
// open() redoes a complete journal (redo is idempotent, so a cut during redo is harmless), drops
// a torn one (shorter than its header says: the cut came before the commit point and no item was
// touched yet), and refuses a full-length journal that fails its CRC with a StorageError: that is
// corruption, and guessing between old and new state would be silent data loss.
// A value that fails its CRC raises a StorageError naming its key when it is read (get), so the
// caller can delete that key and go on; verify() checks every value at once.
import { StorageError } from "../errors";
import { crc32, crc32Ascii } from "./crc32";
import { checkKey, StagedStore, type StagedOp } from "./staged-store";
import { readU32, writeU32 } from "./bytes";

/**
 * Where a JournaledStore keeps its bytes: named items (one per store key) and one journal slot.
 * Item names are store keys (1..15 printable ASCII); a backend maps them to its own namespace.
 */
export interface StoreBackend {
  /**
   * True when write() and remove() are atomic across a power cut: the item then holds its old
   * bytes or its new bytes, never nothing and never a mix. Lets a one-change commit skip the journal.
   */
  readonly atomicWrites: boolean;
  /** Names of every stored item, in any order (not the journal). */
  names(): string[];
  read(name: string): Uint8Array | undefined;
  /** Stores `bytes` (the backend may keep the array). After a cut the item may be old, new, absent or torn. */
  write(name: string, bytes: Uint8Array): void;
  remove(name: string): void;
  readJournal(): Uint8Array | undefined;
  /** After a cut during this call the journal is absent, the new bytes, or a prefix of them. */
  writeJournal(bytes: Uint8Array): void;
  removeJournal(): void;
  /** Barrier: every earlier write/remove is durable before any later one begins. */
  sync(): void;
  /** Bytes the backend can hold at once (items and journal together), where its medium bounds it. */
  capacityBytes?(): number | undefined;
}

const JOURNAL_MAGIC = 0x314e524a; // "JRN1" little-endian
const HEADER_BYTES = 16; // magic, total length, header CRC, body CRC
const OP_DELETE = 0;
const OP_PUT = 1;
const ITEM_VERSION = 1;
const ITEM_HEADER_BYTES = 5; // version, CRC of key + value
/** The key a StorageError names when the journal itself is corrupt. */
export const JOURNAL_NAME = "(journal)";

/** Item bytes for `key`: version, CRC-32 over the key's ASCII and the value, then the value. */
export function encodeItem(key: string, value: Uint8Array): Uint8Array {
  const item = new Uint8Array(ITEM_HEADER_BYTES + value.length);
  item[0] = ITEM_VERSION;
  writeU32(item, 1, crc32(value, 0, value.length, crc32Ascii(key)));
  item.set(value, ITEM_HEADER_BYTES);
  return item;
}

/** The value inside `item`, checked against its CRC; a StorageError names `key` if it fails. */
export function decodeItem(key: string, item: Uint8Array): Uint8Array {
  if (item.length < ITEM_HEADER_BYTES || item[0] !== ITEM_VERSION) {
    throw new StorageError("stored value has a bad header; delete the key or erase the store", key);
  }
  const expected = crc32(item, ITEM_HEADER_BYTES, item.length, crc32Ascii(key));
  if (readU32(item, 1) !== expected) {
    throw new StorageError("stored value fails its CRC-32; delete the key or erase the store", key);
  }
  return item.subarray(ITEM_HEADER_BYTES);
}

/** One journal record holding every change of a commit. */
export function encodeJournal(ops: readonly StagedOp[]): Uint8Array {
  let size = HEADER_BYTES + 4;
  for (const [key, value] of ops) size += 2 + key.length + (value === null ? 0 : 4 + value.length);
  const bytes = new Uint8Array(size);
  let at = HEADER_BYTES;
  writeU32(bytes, at, ops.length);
  at += 4;
  for (const [key, value] of ops) {
    bytes[at++] = value === null ? OP_DELETE : OP_PUT;
    bytes[at++] = key.length;
    for (let i = 0; i < key.length; i++) bytes[at++] = key.charCodeAt(i);
    if (value !== null) {
      writeU32(bytes, at, value.length);
      bytes.set(value, at + 4);
      at += 4 + value.length;
    }
  }
  writeU32(bytes, 0, JOURNAL_MAGIC);
  writeU32(bytes, 4, size);
  writeU32(bytes, 8, crc32(bytes, 0, 8));
  writeU32(bytes, 12, crc32(bytes, HEADER_BYTES, size));
  return bytes;
}

/** The changes in a journal record; undefined when it is torn (a prefix of a record); throws when corrupt. */
export function decodeJournal(bytes: Uint8Array): StagedOp[] | undefined {
  if (bytes.length < HEADER_BYTES) return undefined;
  const size = readU32(bytes, 4);
  if (readU32(bytes, 0) !== JOURNAL_MAGIC || readU32(bytes, 8) !== crc32(bytes, 0, 8)) {
    throw new StorageError("commit journal header fails its CRC-32; erase the store", JOURNAL_NAME);
  }
  if (bytes.length < size) return undefined;
  if (bytes.length > size || readU32(bytes, 12) !== crc32(bytes, HEADER_BYTES, size)) {
    throw new StorageError("commit journal fails its CRC-32; erase the store", JOURNAL_NAME);
  }
  const bad = (): never => {
    throw new StorageError("commit journal passes its CRC but does not decode; erase the store", JOURNAL_NAME);
  };
  let at = HEADER_BYTES;
  const count = readU32(bytes, at);
  at += 4;
  const ops: StagedOp[] = [];
  for (let n = 0; n < count; n++) {
    if (at + 2 > size) bad();
    const kind = bytes[at++];
    const keyLength = bytes[at++];
    if (at + keyLength > size) bad();
    const key = String.fromCharCode(...bytes.subarray(at, at + keyLength));
    at += keyLength;
    try {
      checkKey(key);
    } catch {
      bad();
    }
    if (kind === OP_DELETE) {
      ops.push([key, null]);
    } else if (kind === OP_PUT) {
      if (at + 4 > size) bad();
      const length = readU32(bytes, at);
      at += 4;
      if (at + length > size) bad();
      ops.push([key, bytes.slice(at, at + length)]);
      at += length;
    } else bad();
  }
  if (at !== size) bad();
  return ops;
}

/** A SessionStore whose commit() survives a power cut at any point; see the top of this file. */
export class JournaledStore extends StagedStore {
  private readonly backend: StoreBackend;

  /** Use JournaledStore.open(), which recovers the backend first. */
  private constructor(backend: StoreBackend, names: Iterable<string>) {
    super(names);
    this.backend = backend;
  }

  /** Recovers `backend` (redo or drop its journal) and opens the store over it. */
  static open(backend: StoreBackend): JournaledStore {
    return new JournaledStore(backend, recoverBackend(backend));
  }

  /** After a failed commit: the same recovery as open(): a complete journal is redone, a torn one dropped. */
  protected override restore(): Iterable<string> {
    return recoverBackend(this.backend);
  }

  /** The backend's capacity: the journal of a commit needs room beside the items, which the client's budget leaves. */
  capacityBytes(): number | undefined {
    return this.backend.capacityBytes?.();
  }

  /** Reads every committed value and throws a StorageError naming the first that fails its CRC. */
  verify(): void {
    for (const key of this.list("")) this.get(key);
  }

  protected override readCommitted(key: string): Uint8Array {
    const item = this.backend.read(key);
    if (item === undefined) throw new StorageError("committed value is missing from the backend", key);
    return decodeItem(key, item);
  }

  protected override persist(ops: readonly StagedOp[]): void {
    const backend = this.backend;
    if (ops.length === 1 && backend.atomicWrites) {
      applyOps(backend, ops);
      backend.sync();
      return;
    }
    backend.writeJournal(encodeJournal(ops));
    backend.sync();
    applyOps(backend, ops);
    backend.sync();
    backend.removeJournal();
  }
}

/** Redoes a complete journal or drops a torn one, and returns the item names, each checked to be a store key. */
function recoverBackend(backend: StoreBackend): string[] {
  const journal = backend.readJournal();
  const ops = journal === undefined ? undefined : decodeJournal(journal);
  let unapplied: StagedOp[] = [];
  if (ops !== undefined) {
    unapplied = redo(backend, ops);
    backend.sync();
  }
  // Also when no journal reads back: a backend may hold the pieces of one cut before its commit point.
  backend.removeJournal();
  backend.sync();
  // A full partition: the journal's own room is free now. What still does not fit is lost (the session reports the
  // messages it misses as dropped); a store that cannot finish its redo would never let the device run again.
  if (redo(backend, unapplied).length === 0 && unapplied.length > 0) backend.sync();
  const names = backend.names();
  for (const name of names) {
    try {
      checkKey(name);
    } catch {
      throw new StorageError("backend holds an item that is not a store key; erase the store", name);
    }
  }
  return names;
}

/** Removes every item and the journal: the way out after a StorageError on a corrupt journal. */
export function eraseStore(backend: StoreBackend): void {
  backend.removeJournal();
  backend.sync();
  for (const name of backend.names()) backend.remove(name);
  backend.sync();
}

/**
 * Opens the store and checks every value's checksum. A store that fails (a corrupt journal or value) is reported to
 * `onReset` with the StorageError, erased and opened empty: on a headless device, losing what a corrupt store held
 * beats a sensor that never samples again. Nothing corrupt is ever used.
 */
export function openVerifiedOrReset(backend: StoreBackend, onReset: (error: StorageError) => void): JournaledStore {
  try {
    const store = JournaledStore.open(backend);
    store.verify();
    return store;
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    onReset(error);
    eraseStore(backend);
    return JournaledStore.open(backend);
  }
}

/** Applies a journal's changes, deletes first (they free room), and returns the puts the backend refused. */
function redo(backend: StoreBackend, ops: readonly StagedOp[]): StagedOp[] {
  const refused: StagedOp[] = [];
  for (const op of ops) if (op[1] === null) backend.remove(op[0]);
  for (const op of ops) {
    const value = op[1];
    if (value === null) continue;
    try {
      backend.write(op[0], encodeItem(op[0], value));
    } catch {
      refused.push(op);
    }
  }
  return refused;
}

function applyOps(backend: StoreBackend, ops: readonly StagedOp[]): void {
  for (const [key, value] of ops) {
    if (value === null) backend.remove(key);
    else backend.write(key, encodeItem(key, value));
  }
}

