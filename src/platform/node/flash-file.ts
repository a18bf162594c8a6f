// Node adapter: the session store as the same flash log the board runs, over a NOR flash image kept in a file.
//
// The data dir holds "flash.img" (the partition image, NOR rules enforced: a program that would set a bit is a bug and
// throws) and "lock". Every file is opened with O_NOFOLLOW and mode 0600, the dir is made 0700: a symbolic link
// planted in the dir is refused (ELOOP), never followed. Each write is one positional write() of the bytes a flash
// program would leave, so a SIGKILL leaves the image as a power cut between two flash operations would; with fsync
// on, also a power cut of the computer. An old-format data dir (one file per key, "*.v" and "journal") is migrated:
// its committed values are copied into the image in one commit, then its files are removed.
import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { StorageError } from "../../errors";
import type { NorFlash } from "../../ports";
import { FlashLogStore, type FlashLogOptions } from "../../store/flash-log";
import { FileBackend, lockDirectory } from "./file-store";
import { JournaledStore } from "../../store/journaled-store";

/** Same size as the board's data partition (partitions/flashlog-*.csv), so the simulator wears and fills like it. */
export const DEFAULT_IMAGE_BYTES = 256 * 1024;
export const IMAGE_BLOCK_BYTES = 4096;
export const IMAGE_FILE = "flash.img";
const OLD_VALUE_SUFFIX = ".v";
const OLD_JOURNAL = "journal";

export interface FlashFileOptions {
  /** Image size (default 256 KB); an existing image keeps its own size. */
  imageBytes?: number;
  /** fsync the image after every program and erase (default false: SIGKILL-safe, not power-cut-safe). */
  fsync?: boolean;
  /** Take the dir's lock (default true). */
  lock?: boolean;
  /** Told when an old-format data dir was migrated into the image. */
  onMigrated?: (values: number) => void;
  onRetire?: FlashLogOptions["onRetire"];
}

/** Opens `path` for reading and writing, never through a symbolic link, creating it 0600. */
function openNoFollow(path: string, create: boolean): number {
  try {
    return openSync(path, constants.O_RDWR | constants.O_NOFOLLOW | (create ? constants.O_CREAT : 0), 0o600);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ELOOP") throw new StorageError(`${path} is a symbolic link: refusing to follow it (remove it; the store writes only plain files)`);
    throw new StorageError(`cannot open ${path}: ${(error as Error).message}`);
  }
}

/** A NOR partition image in a file: read/program/erase with the bit rules of NOR flash. */
export class FileNorFlash implements NorFlash {
  readonly blockSize = IMAGE_BLOCK_BYTES;
  readonly byteLength: number;
  readonly path: string;
  private readonly fsync: boolean;

  constructor(path: string, imageBytes = DEFAULT_IMAGE_BYTES, fsync = false) {
    this.path = path;
    this.fsync = fsync;
    const fd = openNoFollow(path, true);
    try {
      const size = fstatSync(fd).size;
      // A new image is an erased chip (all ones); an existing one keeps its size. A kill while it was being created
      // leaves it short: the missing blocks are blank, finished now. Written block by block.
      const whole = size === 0 ? imageBytes : Math.ceil(size / IMAGE_BLOCK_BYTES) * IMAGE_BLOCK_BYTES;
      if (whole % IMAGE_BLOCK_BYTES !== 0 || whole < 4 * IMAGE_BLOCK_BYTES) {
        throw new StorageError(`flash image size ${whole} must be a multiple of ${IMAGE_BLOCK_BYTES} and at least 4 blocks`);
      }
      const blank = new Uint8Array(IMAGE_BLOCK_BYTES).fill(0xff);
      const from = Math.floor(size / IMAGE_BLOCK_BYTES) * IMAGE_BLOCK_BYTES;
      if (size % IMAGE_BLOCK_BYTES !== 0) writeAll(fd, blank.subarray(size - from), size);
      for (let at = Math.ceil(size / IMAGE_BLOCK_BYTES) * IMAGE_BLOCK_BYTES; at < whole; at += IMAGE_BLOCK_BYTES) writeAll(fd, blank, at);
      if (fsync && size !== whole) fsyncSync(fd);
      this.byteLength = whole;
    } finally {
      closeSync(fd);
    }
  }

  read(offset: number, length: number): Uint8Array {
    const fd = openNoFollow(this.path, false);
    try {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) throw new StorageError(`${this.path} is shorter than its partition (${offset + done} < ${this.byteLength})`);
        done += n;
      }
      return out;
    } finally {
      closeSync(fd);
    }
  }

  write(offset: number, bytes: Uint8Array): void {
    const old = this.read(offset, bytes.length);
    const next = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) {
      if ((old[i] & bytes[i]) !== bytes[i]) {
        throw new StorageError(`flash image ${this.path}: a program at byte ${offset + i} would set bits (NOR flash cannot): a bug in the flash log`);
      }
      next[i] = old[i] & bytes[i];
    }
    this.put(offset, next);
  }

  erase(block: number): void {
    this.put(block * this.blockSize, new Uint8Array(this.blockSize).fill(0xff));
  }

  private put(offset: number, bytes: Uint8Array): void {
    const fd = openNoFollow(this.path, false);
    try {
      writeAll(fd, bytes, offset);
      if (this.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/**
 * Opens (creating if needed) the flash log in data dir `dir`: takes the lock, opens or creates the image, migrates an
 * old-format dir. Throws StorageError (StoreInUseError when another live process holds the dir) with what to do.
 */
export function openFlashFileStore(dir: string, options: FlashFileOptions = {}): FlashLogStore {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (options.lock ?? true) lockDirectory(dir);
  const flash = new FileNorFlash(join(dir, IMAGE_FILE), options.imageBytes, options.fsync ?? false);
  const store = FlashLogStore.open(flash, { onRetire: options.onRetire });
  migrateOldFormat(dir, store, options.onMigrated);
  return store;
}

/**
 * An old-format dir (a file per key): its values go into the log in one commit, then its files are removed. A cut
 * before that commit leaves the old files (migrated again next time); a cut after it leaves old files beside a log
 * that already holds them, which are then only removed.
 */
function migrateOldFormat(dir: string, store: FlashLogStore, onMigrated: ((values: number) => void) | undefined): void {
  const names = readdirSync(dir).filter((name) => name.endsWith(OLD_VALUE_SUFFIX) || name === OLD_JOURNAL || name.endsWith(".tmp"));
  if (names.length === 0) return;
  if (store.list("").length === 0) {
    let old: JournaledStore;
    try {
      old = JournaledStore.open(new FileBackend(dir, { fsync: false }));
      old.verify();
    } catch (error) {
      throw new StorageError(
        `data dir ${dir} holds an old-format store (a file per key) that cannot be migrated: ${(error as Error).message}; move those files away to start empty`,
      );
    }
    const keys = old.list("");
    for (const key of keys) store.put(key, old.get(key) as Uint8Array);
    store.commit();
    onMigrated?.(keys.length);
  }
  for (const name of readdirSync(dir)) {
    if (name.endsWith(OLD_VALUE_SUFFIX) || name === OLD_JOURNAL || name.endsWith(".tmp")) unlinkSync(join(dir, name));
  }
}
