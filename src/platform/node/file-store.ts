// Node adapter: a JournaledStore whose items are files in one directory (tmp file + rename, optional fsync).
import {
  closeSync,
  constants,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { StorageError } from "../../errors";
import { eraseStore, JournaledStore, type StoreBackend } from "../../store/journaled-store";

export interface FileStoreOptions {
  /**
   * Take the directory's lock file (default true): a second process opening the same directory gets a StorageError
   * instead of two writers corrupting each other. A lock left by a process that no longer runs is taken over.
   */
  lock?: boolean;
  /**
   * fsync every file and the directory at each commit barrier (default true): a commit then
   * survives a power cut. Off, a commit still survives the process being killed (the kernel
   * holds the writes) but not a power cut; it is several times faster.
   */
  fsync?: boolean;
}

const VALUE_SUFFIX = ".v";
/** Data dir files are the owner's only, and never opened through a symbolic link (one planted there is refused). */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const NO_FOLLOW = constants.O_NOFOLLOW;
const TMP_SUFFIX = ".tmp";
const JOURNAL_FILE = "journal";

/**
 * File names for keys: [a-z0-9_.-] stay, anything else (upper case included, so case-insensitive
 * file systems cannot merge two keys) becomes %XX.
 */
export function fileNameForKey(key: string): string {
  let name = "";
  for (let i = 0; i < key.length; i++) {
    const c = key[i];
    name += /[a-z0-9_.-]/.test(c) ? c : "%" + key.charCodeAt(i).toString(16).toUpperCase().padStart(2, "0");
  }
  return name + VALUE_SUFFIX;
}

function keyForFileName(name: string): string {
  return name.slice(0, -VALUE_SUFFIX.length).replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ENOENT";
}

/**
 * One directory: a file per key, plus "journal". Two write strategies, chosen by `fsync`:
 * - fsync on: tmp file, fsync, rename over the target. Atomic, so a one-change commit needs no
 *   journal (two fsyncs instead of four).
 * - fsync off: overwrite in place (no O_TRUNC, no rename over an existing file). ext4 flushes
 *   data on both of those patterns (auto_da_alloc), which cost ~200 µs per write here; the
 *   journal already covers a value torn by a crash, so `atomicWrites` is false and every commit
 *   is journaled, still about three times faster.
 * The journal is always written to "journal.tmp" and renamed to the (absent) "journal", so a
 * power cut never leaves a full-length journal with garbage in it.
 */
export class FileBackend implements StoreBackend {
  readonly atomicWrites: boolean;
  readonly dir: string;
  private readonly fsync: boolean;

  constructor(dir: string, options: FileStoreOptions = {}) {
    this.dir = dir;
    this.fsync = options.fsync ?? true;
    this.atomicWrites = this.fsync;
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    for (const name of readdirSync(dir)) {
      if (name.endsWith(TMP_SUFFIX)) unlinkSync(join(dir, name)); // left by a write that never reached its rename
    }
  }

  names(): string[] {
    return readdirSync(this.dir)
      .filter((name) => name.endsWith(VALUE_SUFFIX))
      .map(keyForFileName);
  }

  read(name: string): Uint8Array | undefined {
    return this.readFile(fileNameForKey(name));
  }

  write(name: string, bytes: Uint8Array): void {
    if (this.fsync) this.replaceFile(fileNameForKey(name), bytes);
    else this.overwriteFile(fileNameForKey(name), bytes);
  }

  remove(name: string): void {
    this.removeFile(fileNameForKey(name));
  }

  readJournal(): Uint8Array | undefined {
    return this.readFile(JOURNAL_FILE);
  }

  writeJournal(bytes: Uint8Array): void {
    this.replaceFile(JOURNAL_FILE, bytes);
  }

  removeJournal(): void {
    this.removeFile(JOURNAL_FILE);
  }

  /** fsync of the directory makes creations, renames and unlinks durable; file data was synced as it was written. */
  sync(): void {
    if (!this.fsync) return;
    const fd = openSync(this.dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private readFile(file: string): Uint8Array | undefined {
    try {
      const fd = openSync(join(this.dir, file), constants.O_RDONLY | NO_FOLLOW);
      try {
        const data = readFileSync(fd);
        return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new StorageError(`cannot read ${join(this.dir, file)}: ${(error as Error).message}`);
    }
  }

  /** tmp file (fsynced when asked) renamed over `file`: atomic. */
  private replaceFile(file: string, bytes: Uint8Array): void {
    const path = join(this.dir, file);
    const tmp = path + TMP_SUFFIX;
    try {
      const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | NO_FOLLOW, FILE_MODE);
      try {
        writeAll(fd, bytes);
        if (this.fsync) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    } catch (error) {
      throw new StorageError(`cannot write ${path}: ${(error as Error).message}`);
    }
  }

  /** Overwrites `file` in place and cuts it to length: fast, not atomic. */
  private overwriteFile(file: string, bytes: Uint8Array): void {
    const path = join(this.dir, file);
    try {
      const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | NO_FOLLOW, FILE_MODE);
      try {
        writeAll(fd, bytes);
        ftruncateSync(fd, bytes.length);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      throw new StorageError(`cannot write ${path}: ${(error as Error).message}`);
    }
  }

  private removeFile(file: string): void {
    try {
      unlinkSync(join(this.dir, file));
    } catch (error) {
      if (!isNotFound(error)) throw new StorageError(`cannot remove ${join(this.dir, file)}: ${(error as Error).message}`);
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, done);
}

/** Opens (creating if needed) the store in `dir`, redoing or dropping a journal left by a crash. */
export function openFileStore(dir: string, options: FileStoreOptions = {}): JournaledStore {
  // Lock first: the backend clears leftover tmp files, which must never be another live process's.
  if (options.lock ?? true) lockDirectory(dir);
  return JournaledStore.open(new FileBackend(dir, options));
}

const LOCK_FILE = "lock";

/** Another live process holds the store directory; nothing is wrong with the data in it. */
export class StoreInUseError extends StorageError {
  override readonly name: string = "StoreInUseError";
}

/**
 * One process per directory: "lock" holds the owner's pid. The same process may open the directory again (a simulated
 * reboot does); a lock whose process is gone (SIGKILL, power cut) is taken over.
 */
export function lockDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW, FILE_MODE);
      writeAll(fd, new TextEncoder().encode(String(process.pid)));
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as { code?: unknown }).code !== "EEXIST") throw error;
    }
    const owner = Number(readFileSync(path, "utf8"));
    if (owner === process.pid) return;
    if (Number.isInteger(owner) && owner > 0 && processRuns(owner)) {
      throw new StoreInUseError(`store directory ${dir} is in use by process ${owner}: stop it, or use another directory (if no such process is yours, delete ${path})`);
    }
    unlinkSync(path); // stale: its process is gone
  }
  throw new StoreInUseError(`could not take the lock ${path}: another process is opening the same directory`);
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === "EPERM";
  }
}

/** Deletes every value and the journal in `dir`: the way out after open() reported a corrupt journal. */
export function eraseFileStore(dir: string): void {
  eraseStore(new FileBackend(dir, { fsync: true }));
}
