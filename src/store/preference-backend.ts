// StoreBackend over a Moddable-style `preference` API (ESP32 NVS): chunks items past the per-value size limit.
import { StorageError } from "../errors";
import type { StoreBackend } from "./journaled-store";

/** The shape of Moddable's `preference` module default export (typings/preference.d.ts). */
export interface PreferenceApi {
  set(domain: string, key: string, value: string | boolean | number | ArrayBuffer): void;
  get(domain: string, key: string): string | boolean | number | ArrayBuffer | undefined;
  delete(domain: string, key: string): void;
  keys(domain: string): string[];
}

/** ESP32 NVS limits, from the Moddable docs (documentation/files/files.md, class Preference). */
export const PREFERENCE_NAME_LIMIT = 15;
export const PREFERENCE_VALUE_LIMIT = 4000;
const COUNT_BYTES = 2; // chunk 0 starts with the number of chunks (u16 LE)
const JOURNAL_SUFFIX = ".j";

/**
 * ESP-IDF NVS layout (components/nvs_flash, "NVS page structure"): 4096-byte pages, each a 32-byte header, a 32-byte
 * entry-state bitmap and 126 entries of 32 bytes. A blob costs one index entry plus, per chunk, one header entry and
 * its data rounded up to 32 bytes.
 */
export const NVS_PAGE_BYTES = 4096;
export const NVS_ENTRIES_PER_PAGE = 126;
export const NVS_ENTRY_BYTES = 32;
/**
 * Pages the store must leave alone: one NVS keeps free for garbage collection (it refuses writes that would use it),
 * and one for what ESP-IDF itself keeps in the same partition (Wi-Fi credentials and calibration, PHY data).
 */
export const NVS_RESERVED_PAGES = 2;
/** Moddable's default NVS partition on ESP32 (build/devices/esp32/xsProj-esp32/partitions.csv, SDK 8.2.3: nvs 0x6000). */
export const DEFAULT_NVS_PARTITION_BYTES = 0x6000;

/** Bytes of NVS entries a store may use on a partition of `partitionBytes` (see NVS_RESERVED_PAGES). */
export function nvsCapacityBytes(partitionBytes: number): number {
  const pages = Math.floor(partitionBytes / NVS_PAGE_BYTES);
  return Math.max(0, pages - NVS_RESERVED_PAGES) * NVS_ENTRIES_PER_PAGE * NVS_ENTRY_BYTES;
}

/**
 * Layout: item `key` is chunk 0 at (domain, key) and chunk i at (domain + "." + i, key); chunk 0
 * starts with the chunk count. The journal lives in domain + ".j" under keys "0", "1", ...
 * Chunk 0 is written last and removed first, so a journal is either whole or reads as absent or
 * short (torn), which is what JournaledStore needs.
 *
 * Not atomic per item: Moddable's ESP32 Preference.set erases the key before setting it (to work
 * around an IDF type-change bug), so a cut between the two leaves the key absent. Hence
 * `atomicWrites = false`: every commit goes through the journal. Preference.set/delete call
 * nvs_commit themselves, so sync() has nothing to do. A cut while chunks are removed can leave
 * orphan chunks (wasted NVS space, never read); rewriting or removing that key clears them.
 */
export class PreferenceBackend implements StoreBackend {
  readonly atomicWrites = false;
  private readonly prefs: PreferenceApi;
  private readonly domain: string;
  private readonly journalDomain: string;
  private readonly chunkBytes: number;
  private readonly partitionBytes: number;

  /** `partitionBytes`: the size of the NVS partition the preferences live in (capacityBytes() derives from it). */
  constructor(prefs: PreferenceApi, domain: string, chunkBytes = PREFERENCE_VALUE_LIMIT, partitionBytes = DEFAULT_NVS_PARTITION_BYTES) {
    if (domain.length === 0 || domain.length > PREFERENCE_NAME_LIMIT - 3) {
      throw new RangeError(`preference domain "${domain}" must be 1 to ${PREFERENCE_NAME_LIMIT - 3} characters (3 are kept for chunk suffixes)`);
    }
    if (chunkBytes <= COUNT_BYTES || chunkBytes > PREFERENCE_VALUE_LIMIT) {
      throw new RangeError(`preference chunk size ${chunkBytes} must be ${COUNT_BYTES + 1}..${PREFERENCE_VALUE_LIMIT} bytes`);
    }
    if (!Number.isInteger(partitionBytes) || partitionBytes < NVS_PAGE_BYTES) {
      throw new RangeError(`NVS partition size ${partitionBytes} must be a whole number of bytes of at least one ${NVS_PAGE_BYTES}-byte page`);
    }
    this.partitionBytes = partitionBytes;
    this.prefs = prefs;
    this.domain = domain;
    this.journalDomain = domain + JOURNAL_SUFFIX;
    this.chunkBytes = chunkBytes;
  }

  names(): string[] {
    return this.prefs.keys(this.domain);
  }

  read(name: string): Uint8Array | undefined {
    return this.readChunks((i) => this.chunkDomain(i), name);
  }

  write(name: string, bytes: Uint8Array): void {
    const old = this.chunkCount(this.domain, name);
    const count = this.writeChunks((i) => this.chunkDomain(i), name, bytes);
    for (let i = count; i < old; i++) this.prefs.delete(this.chunkDomain(i), name);
  }

  remove(name: string): void {
    const old = this.chunkCount(this.domain, name);
    for (let i = 0; i < old; i++) this.prefs.delete(this.chunkDomain(i), name);
  }

  readJournal(): Uint8Array | undefined {
    return this.readChunks(() => this.journalDomain, undefined);
  }

  writeJournal(bytes: Uint8Array): void {
    this.writeChunks(() => this.journalDomain, undefined, bytes);
  }

  removeJournal(): void {
    this.prefs.delete(this.journalDomain, "0");
    for (const key of this.prefs.keys(this.journalDomain)) this.prefs.delete(this.journalDomain, key);
  }

  sync(): void {}

  /**
   * NVS entry bytes the store may fill: every page but the reserved ones. A value of n bytes costs about n + 64 of
   * them (index and chunk header entries, rounding to 32); the client charges its messages that overhead.
   */
  capacityBytes(): number {
    return nvsCapacityBytes(this.partitionBytes);
  }

  private chunkDomain(index: number): string {
    const domain = index === 0 ? this.domain : `${this.domain}.${index}`;
    if (domain.length > PREFERENCE_NAME_LIMIT) {
      throw new StorageError(`value needs more than ${index} chunks of ${this.chunkBytes} bytes; keep values smaller`);
    }
    return domain;
  }

  /** Chunk i is at (domainOf(i), name), or at (domainOf(i), String(i)) when name is undefined (the journal). */
  private writeChunks(domainOf: (i: number) => string, name: string | undefined, bytes: Uint8Array): number {
    const first = this.chunkBytes - COUNT_BYTES;
    const count = bytes.length <= first ? 1 : 1 + Math.ceil((bytes.length - first) / this.chunkBytes);
    if (count > 0xffff) throw new StorageError(`value of ${bytes.length} bytes is too large for preferences`, name);
    for (let i = count - 1; i >= 1; i--) {
      const start = first + (i - 1) * this.chunkBytes;
      const chunk = bytes.slice(start, Math.min(bytes.length, start + this.chunkBytes));
      this.prefs.set(domainOf(i), name ?? String(i), chunk.buffer);
    }
    const head = new Uint8Array(COUNT_BYTES + Math.min(first, bytes.length));
    head[0] = count & 0xff;
    head[1] = count >>> 8;
    head.set(bytes.subarray(0, head.length - COUNT_BYTES), COUNT_BYTES);
    this.prefs.set(domainOf(0), name ?? "0", head.buffer);
    return count;
  }

  /** The item's bytes; a missing later chunk yields a short result (torn), which the caller's CRC catches. */
  private readChunks(domainOf: (i: number) => string, name: string | undefined): Uint8Array | undefined {
    const head = this.readChunk(domainOf(0), name ?? "0");
    if (head === undefined) return undefined;
    if (head.length < COUNT_BYTES) return new Uint8Array(0);
    const count = head[0] | (head[1] << 8);
    const parts = [head.subarray(COUNT_BYTES)];
    let length = parts[0].length;
    for (let i = 1; i < count; i++) {
      const chunk = this.readChunk(domainOf(i), name ?? String(i));
      if (chunk === undefined) break;
      parts.push(chunk);
      length += chunk.length;
    }
    if (parts.length === 1) return parts[0];
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    return bytes;
  }

  private chunkCount(domain: string, name: string): number {
    const head = this.readChunk(domain, name);
    return head === undefined ? 0 : head.length < COUNT_BYTES ? 1 : Math.max(1, head[0] | (head[1] << 8));
  }

  private readChunk(domain: string, key: string): Uint8Array | undefined {
    const value = this.prefs.get(domain, key);
    if (value === undefined) return undefined;
    if (!(value instanceof ArrayBuffer)) {
      throw new StorageError(`preference ${domain}/${key} is a ${typeof value}, not bytes; erase the store`, key);
    }
    return new Uint8Array(value);
  }
}
