// The session store as an append-only log of checksummed frames over the blocks of a NOR flash partition.
//
// Rule of every commit: encode the staged changes, make room (reclaiming the oldest block if needed), program them as
// frames that only ever clear bits of erased flash, read each frame back, and only then change the RAM index. Nothing
// is ever rewritten in place; a block is erased only after every live value in it has been copied forward and a DROP
// of it is on flash. docs/flash-log.md explains the layout, the recovery rules and the prior art.
//
// Block layout (all integers little-endian):
//   header, 24 bytes: magic "FLG1" | seq u32 | tailSeq u32 | eraseCount u32 | prevEnd u16 | flags u8 | version u8
//                     | CRC-32 of the 20 bytes before it
//     seq        order of the block in the log (a new head gets the highest seq + 1)
//     tailSeq    the oldest live block when this one was formatted: every block with a lower seq is dead
//     prevEnd    where the valid frames of the block with seq - 1 end: boot checks it reached exactly that far
//     flags      bit 0 (CARRY): a transaction started in the previous block continues here; when clear, boot drops
//                any unfinished transaction (one cut before its last frame)
//   frames, each: u16 (body length | kind << 14) | CRC-32 of the u16 and the body | body (ops)
//     kind 0 FINAL  last frame of a commit: the commit's ops take effect here, all together
//     kind 1 MORE   a commit that continues in the next frame (large commits, values past one part)
//     kind 2 COPY   stand-alone frame written by reclaim: values copied forward, and DROP of the reclaimed block
//     0xFFFF        erased flash: the end of the block's frames
// Ops: one byte (bits 0-1 type, 2-3 key form, 4-7 key length / head length / dictionary index), the key, then
//   PUT  varint total length, the value's first part   (a new value: replaces the key's old one)
//   PART varint part index, varint total length, that part (copy of one part of the current value, or a later part
//        of a new value)
//   DEL  (numbered keys: varint count of consecutive numbers deleted)
//   DROP varint seq of a block that is dead (its live values are copied forward; it is about to be erased)
// Key forms: plain ASCII; "numbered" (a head, then a fixed-width base-36 number, as "smp.r000000001e"), stored as
// head + width + varint; and dictionary heads (KEY_HEADS) stored as one byte + varint. Values longer than
// PART_BYTES are split in parts so one frame never spans two blocks.
import { StorageError, StoreFullError } from "../errors";
import type { NorFlash } from "../ports";
import { crc32 } from "./crc32";
import { checkKey, StagedStore, type StagedOp } from "./staged-store";
import { pushVarint, readU32, writeU32 } from "./bytes";

const MAGIC = 0x31474c46; // "FLG1"
const FORMAT_VERSION = 1;
export const HEADER_BYTES = 24;
const FLAG_CARRY = 1;
const FRAME_HEADER_BYTES = 6;
const KIND_FINAL = 0;
const KIND_MORE = 1;
const KIND_COPY = 2;
const BLANK_FRAME = 0xffff;
/** Values are split in parts of at most this many bytes, so a frame is always far smaller than a block. */
export const PART_BYTES = 512;
/** Erased blocks always kept free: room to copy a whole live block forward while reclaiming. */
export const RESERVE_BLOCKS = 2;
const OP_PUT = 0;
const OP_PART = 1;
const OP_DEL = 2;
const OP_DROP = 3;
const FORM_PLAIN = 0;
const FORM_NUMBERED = 1;
const FORM_DICT = 2;
/**
 * Key heads the session writes most (pending readings, messages, flight records), each with its number width: such a
 * key costs 1 byte + a varint on flash. Part of the on-flash format: append only, never reorder.
 */
const KEY_HEADS: ReadonlyArray<readonly [head: string, width: number]> = [
  ["smp.r", 10],
  ["o/", 8],
  ["f/", 8],
];
/** Index entry of a one-part value: flash offset * LOC_SCALE + length. */
const LOC_SCALE = 1024;
/** How often a commit is retried in a new block after a frame failed its read-back. */
const MAX_WRITE_RETRIES = 3;

/** The key a StorageError names when the log itself (not one value) is damaged. */
export const LOG_NAME = "(flash log)";

type BlockState = 0 | 1 | 2 | 3;
const FREE: BlockState = 0; // erased and verified blank
const USED: BlockState = 1; // formatted, part of the log
const RETIRED: BlockState = 2; // failed to erase, verify or program: never used again (this boot)
const FAILING: BlockState = 3; // part of the log but a program failed in it: retired when reclaimed

/** A value of several parts: its length and the flash offset of each part. */
interface MultiEntry {
  length: number;
  parts: number[];
}
type Entry = number | MultiEntry;

/** One encoded op and where its value bytes sit inside it (for the index). */
interface EncodedOp {
  bytes: Uint8Array;
  key: string;
  type: number;
  /** PUT/PART: index of the part, its offset inside `bytes`, its length; total value length. */
  part: number;
  valueAt: number;
  valueLength: number;
  total: number;
  /** DEL of numbered keys: how many consecutive numbers. */
  count: number;
  /** DEL: every key the op deletes. */
  keys: string[] | undefined;
}

export interface FlashLogStats {
  /** Blocks in the partition and how many are free, used, retired. */
  blocks: number;
  free: number;
  used: number;
  retired: number;
  /** Indices of the retired blocks (their erase counts no longer matter for wear). */
  retiredBlocks: number[];
  /** Bytes programmed and blocks erased by this store since it was opened (headers, frames, copies). */
  programmedBytes: number;
  erases: number;
  /** Bytes of live values re-programmed by reclaim since open (part of programmedBytes). */
  copiedBytes: number;
  /** Erase count of each block (from its header; an estimate for blocks found blank or damaged). */
  eraseCounts: number[];
  /** Bytes the live values take on flash (as a reclaim would copy them). */
  liveBytes: number;
  /** Most bytes of live values the log takes (the commit that would pass it is refused with StoreFullError). */
  liveLimit: number;
}

export interface FlashLogOptions {
  /** Called when a block is retired (failed erase, verify or program): the device keeps going on fewer blocks. */
  onRetire?: (block: number, reason: string) => void;
}

/** A SessionStore over a NOR flash partition; see the top of this file. Use openFlashLog(). */
export class FlashLogStore extends StagedStore {
  private readonly flash: NorFlash;
  private readonly blockSize: number;
  private readonly blockCount: number;
  private readonly onRetire: ((block: number, reason: string) => void) | undefined;
  private index: Map<string, Entry>;
  private state: Uint8Array;
  private seqOf: number[];
  private eraseCount: number[];
  private liveParts: Int32Array;
  /** Used blocks, oldest (tail) first; the last one is the head. */
  private order: number[];
  private headOffset: number;
  /** The head may not take more frames (a torn frame, an unfinished commit or a failed program is in it). */
  private headSealed: boolean;
  private lastSeq: number;
  private liveStored = 0;
  private reclaiming = false;
  /** A commit's MORE frame is on flash and its FINAL is not: a new head then carries the commit on (CARRY). */
  private openCommit = false;
  private programmed = 0;
  private erased = 0;
  private copied = 0;
  /** liveLimit() until a block goes bad: it walks every block, and capacityBytes() runs at every commit. */
  private cachedLiveLimit = -1;

  private constructor(flash: NorFlash, boot: BootResult, options: FlashLogOptions) {
    super(boot.index.keys());
    this.flash = flash;
    this.blockSize = flash.blockSize;
    this.blockCount = flash.byteLength / flash.blockSize;
    this.onRetire = options.onRetire;
    this.index = boot.index;
    this.state = boot.state;
    this.seqOf = boot.seqOf;
    this.eraseCount = boot.eraseCount;
    this.order = boot.order;
    this.headOffset = boot.headOffset;
    this.headSealed = boot.headSealed;
    this.lastSeq = boot.lastSeq;
    this.liveParts = new Int32Array(this.blockCount);
    this.adopt(boot);
  }

  /** Takes the state a scan found as the store's own (at open, and in restore() after a failed commit). */
  private adopt(boot: BootResult): void {
    this.index = boot.index;
    this.state = boot.state;
    this.seqOf = boot.seqOf;
    this.eraseCount = boot.eraseCount;
    this.order = boot.order;
    this.headOffset = boot.headOffset;
    this.headSealed = boot.headSealed;
    this.lastSeq = boot.lastSeq;
    this.openCommit = false;
    this.cachedLiveLimit = -1;
    this.liveStored = 0;
    this.liveParts = new Int32Array(this.blockCount);
    for (const [key, entry] of this.index) {
      this.liveStored += storedSize(key, entry);
      this.forEachPart(entry, (offset) => this.liveParts[this.blockOf(offset)]++);
    }
    this.erased += boot.erases;
  }

  /**
   * After a commit failed on flash (its read-back kept failing): the same scan as open(), so a commit whose last frame
   * is not on flash does not count, and the store goes on from what is durable (SessionStore.recover).
   */
  protected override restore(): Iterable<string> {
    this.adopt(scan(this.flash, this.onRetire));
    return this.index.keys();
  }

  /**
   * Scans the partition and opens the log: erases blocks that are not part of it (blank ones are left alone),
   * rebuilds the index. Throws StorageError when the log is damaged beyond what a power cut can do.
   */
  static open(flash: NorFlash, options: FlashLogOptions = {}): FlashLogStore {
    checkGeometry(flash);
    const boot = scan(flash, options.onRetire);
    return new FlashLogStore(flash, boot, options);
  }

  /** The boot scan checked every frame's CRC; values are read from flash as they were verified then. */
  verify(): void {}

  capacityBytes(): number {
    // Stored size of a value is at most key + value + 4 bytes (+1 % for parts): for values of 16 bytes or more,
    // 4/5 of the stored limit is a bound on key + value bytes.
    return Math.floor((this.liveLimit() * 4) / 5);
  }

  stats(): FlashLogStats {
    let free = 0;
    let used = 0;
    const retiredBlocks: number[] = [];
    for (let b = 0; b < this.blockCount; b++) {
      if (this.state[b] === FREE) free++;
      else if (this.state[b] === RETIRED) retiredBlocks.push(b);
      else used++;
    }
    return {
      blocks: this.blockCount, free, used, retired: retiredBlocks.length, retiredBlocks,
      programmedBytes: this.programmed, erases: this.erased, copiedBytes: this.copied,
      eraseCounts: this.eraseCount.slice(), liveBytes: this.liveStored, liveLimit: this.liveLimit(),
    };
  }

  protected override readCommitted(key: string): Uint8Array {
    const entry = this.index.get(key);
    if (entry === undefined) throw new StorageError("committed value is missing from the flash log index", key);
    if (typeof entry === "number") {
      const length = entry % LOC_SCALE;
      return length === 0 ? new Uint8Array(0) : this.flash.read(Math.floor(entry / LOC_SCALE), length);
    }
    const out = new Uint8Array(entry.length);
    for (let i = 0; i < entry.parts.length; i++) {
      const start = i * PART_BYTES;
      out.set(this.flash.read(entry.parts[i], Math.min(PART_BYTES, entry.length - start)), start);
    }
    return out;
  }

  protected override persist(ops: readonly StagedOp[]): void {
    const encoded = encodeOps(ops, this.index);
    let newStored = 0;
    let replaced = 0;
    for (const [key, value] of ops) {
      const old = this.index.get(key);
      if (old !== undefined) replaced += storedSize(key, old);
      if (value !== null) newStored += storedValueSize(key, value.length);
    }
    let written = 0;
    for (const op of encoded) written += op.bytes.length;
    // After the commit its live values must fit the limit; while it is written, the old values it replaces stay live
    // beside its frames, which may take half a block of the reserve (reclaim always keeps one erased block to copy into).
    const limit = this.liveLimit();
    if (this.liveStored - replaced + newStored > limit || this.liveStored + written > limit + (this.blockSize >> 1)) {
      throw new StoreFullError(
        `flash log full: ${this.liveStored} bytes live, a commit of ${written} bytes would pass the limit of ${limit}; delete older entries first`,
      );
    }
    for (let attempt = 0; ; attempt++) {
      const locations = this.writeFrames(encoded, false);
      if (locations !== undefined) {
        this.apply(encoded, locations);
        return;
      }
      if (attempt >= MAX_WRITE_RETRIES) throw new StorageError(`flash log: ${attempt + 1} attempts to program a commit failed their read-back`);
    }
  }

  /** Most bytes of live values: every good block but the head and the reserve, less the worst waste at a block's end. */
  private liveLimit(): number {
    if (this.cachedLiveLimit >= 0) return this.cachedLiveLimit;
    let good = 0;
    for (let b = 0; b < this.blockCount; b++) if (this.state[b] !== RETIRED && this.state[b] !== FAILING) good++;
    const perBlock = this.blockSize - HEADER_BYTES - maxOpBytes() - FRAME_HEADER_BYTES;
    return (this.cachedLiveLimit = Math.max(0, (good - 1 - RESERVE_BLOCKS) * perBlock));
  }

  /**
   * Programs `ops` as frames (kind COPY when `copy`, else MORE... FINAL) and returns the flash offset of each op, or
   * undefined when a frame failed its read-back (the head is then sealed and marked failing; the caller retries).
   */
  private writeFrames(ops: readonly EncodedOp[], copy: boolean): number[] | undefined {
    const locations: number[] = [];
    const maxBody = this.blockSize - HEADER_BYTES - FRAME_HEADER_BYTES;
    let i = 0;
    while (i < ops.length) {
      let bodyLength = 0;
      let end = i;
      while (end < ops.length && bodyLength + ops[end].bytes.length <= maxBody) bodyLength += ops[end++].bytes.length;
      const kind = copy ? KIND_COPY : end === ops.length ? KIND_FINAL : KIND_MORE;
      this.makeRoom(FRAME_HEADER_BYTES + bodyLength);
      // The head may have moved (and reclaim run) inside makeRoom: the room is there now, in whichever block is head.
      const at = this.order[this.order.length - 1] * this.blockSize + this.headOffset;
      const frame = new Uint8Array(FRAME_HEADER_BYTES + bodyLength);
      const lengthWord = bodyLength | (kind << 14);
      frame[0] = lengthWord & 0xff;
      frame[1] = lengthWord >>> 8;
      let p = FRAME_HEADER_BYTES;
      for (let k = i; k < end; k++) {
        locations[k] = at + p;
        frame.set(ops[k].bytes, p);
        p += ops[k].bytes.length;
      }
      writeU32(frame, 2, crc32(frame, FRAME_HEADER_BYTES, frame.length, crc32(frame, 0, 2)));
      if (!this.program(at, frame)) {
        const head = this.order[this.order.length - 1];
        this.state[head] = FAILING;
        this.cachedLiveLimit = -1;
        this.headSealed = true;
        if (copy) throw new StorageError(`flash log: a frame copied forward failed its read-back in block ${head}`);
        this.openCommit = false; // the retry starts in a new block without CARRY, which drops these frames at boot
        return undefined;
      }
      this.headOffset += frame.length;
      if (kind === KIND_MORE) this.openCommit = true;
      else if (kind === KIND_FINAL) this.openCommit = false;
      i = end;
    }
    return locations;
  }

  /**
   * Makes the head take `bytes` more: moves to a new block when it cannot. A move reclaims, and the copies it makes go
   * to the new head first, so that head may be left without the room either: then move again.
   */
  private makeRoom(bytes: number): void {
    for (let moves = 0; this.order.length === 0 || this.headSealed || this.headOffset + bytes > this.blockSize; moves++) {
      if (moves > this.blockCount) throw new StorageError(`flash log: no block has room for a frame of ${bytes} bytes`);
      this.moveHead();
    }
  }

  /** Formats a free block as the new head; then, outside reclaim, reclaims the oldest blocks until the reserve is free. */
  private moveHead(): void {
    for (;;) {
      const block = this.nextFree();
      if (block === undefined) throw new StorageError("flash log: no free block left to write to (every block is used or retired)");
      const header = encodeHeader(this.lastSeq + 1, this.order.length > 0 ? this.seqOf[this.order[0]] : this.lastSeq + 1,
        this.eraseCount[block], this.order.length > 0 ? this.headOffset : 0, this.openCommit ? FLAG_CARRY : 0);
      if (!this.program(block * this.blockSize, header)) {
        this.retire(block, "header failed its read-back");
        continue;
      }
      this.lastSeq++;
      this.state[block] = USED;
      this.seqOf[block] = this.lastSeq;
      this.order.push(block);
      this.headOffset = HEADER_BYTES;
      this.headSealed = false;
      break;
    }
    if (this.reclaiming) return;
    this.reclaiming = true;
    try {
      // Bounded: with live bytes under liveLimit() a pass over the log always frees blocks.
      for (let n = 0; n < this.blockCount && this.freeCount() < RESERVE_BLOCKS && this.order.length > 1; n++) this.reclaimTail();
    } finally {
      this.reclaiming = false;
    }
  }

  /** Copies the live values of the oldest block forward, writes its DROP, then erases it (or retires it). */
  private reclaimTail(): void {
    const tail = this.order[0];
    if (this.liveParts[tail] > 0) {
      const copies: EncodedOp[] = [];
      const targets: Array<[key: string, part: number]> = [];
      const lo = tail * this.blockSize;
      const hi = lo + this.blockSize;
      for (const [key, entry] of this.index) {
        if (typeof entry === "number") {
          const offset = Math.floor(entry / LOC_SCALE);
          if (offset >= lo && offset < hi) {
            copies.push(encodeValueOp(OP_PUT, key, 0, this.readCommitted(key), entry % LOC_SCALE));
            targets.push([key, 0]);
          }
        } else {
          for (let i = 0; i < entry.parts.length; i++) {
            if (entry.parts[i] < lo || entry.parts[i] >= hi) continue;
            const length = Math.min(PART_BYTES, entry.length - i * PART_BYTES);
            copies.push(encodeValueOp(OP_PART, key, i, this.flash.read(entry.parts[i], length), entry.length));
            targets.push([key, i]);
          }
        }
      }
      const locations = this.writeFrames(copies, true) as number[];
      for (let k = 0; k < copies.length; k++) {
        const [key, part] = targets[k];
        this.copied += copies[k].bytes.length;
        this.movePart(key, part, locations[k] + copies[k].valueAt);
      }
    }
    this.writeFrames([encodeDrop(this.seqOf[tail])], true);
    this.order.shift();
    this.seqOf[tail] = -1;
    this.eraseBlock(tail);
  }

  /** Erases `block` and checks it reads blank: FREE, or RETIRED when either fails. */
  private eraseBlock(block: number): void {
    this.eraseCount[block]++;
    this.cachedLiveLimit = -1;
    if (eraseAndVerify(this.flash, block)) this.state[block] = FREE;
    else this.retire(block, "erase failed or the block does not read blank after it");
    this.erased++;
  }

  private retire(block: number, reason: string): void {
    this.state[block] = RETIRED;
    this.cachedLiveLimit = -1;
    this.onRetire?.(block, reason);
  }

  private nextFree(): number | undefined {
    const start = this.order.length > 0 ? this.order[this.order.length - 1] + 1 : 0;
    for (let n = 0; n < this.blockCount; n++) {
      const block = (start + n) % this.blockCount;
      if (this.state[block] === FREE) return block;
    }
    return undefined;
  }

  private freeCount(): number {
    let free = 0;
    for (let b = 0; b < this.blockCount; b++) if (this.state[b] === FREE) free++;
    return free;
  }

  /** Programs and reads back; false when the read-back differs (the bytes are then not to be trusted). */
  private program(offset: number, bytes: Uint8Array): boolean {
    this.programmed += bytes.length;
    try {
      this.flash.write(offset, bytes);
    } catch {
      // A failed program is judged by its read-back below, like a silent one.
    }
    const back = this.flash.read(offset, bytes.length);
    for (let i = 0; i < bytes.length; i++) if (back[i] !== bytes[i]) return false;
    return true;
  }

  /** Applies a written commit to the index: each op at its flash location. */
  private apply(ops: readonly EncodedOp[], locations: readonly number[]): void {
    for (let k = 0; k < ops.length; k++) {
      const op = ops[k];
      if (op.type === OP_DEL) {
        for (const key of op.keys as string[]) this.removeEntry(key);
      } else if (op.type === OP_PUT) {
        this.removeEntry(op.key);
        const at = locations[k] + op.valueAt;
        const entry: Entry = op.total <= PART_BYTES ? at * LOC_SCALE + op.total : { length: op.total, parts: [at] };
        this.index.set(op.key, entry);
        this.liveParts[this.blockOf(at)]++;
        this.liveStored += storedSize(op.key, entry);
      } else if (op.type === OP_PART) {
        const entry = this.index.get(op.key) as MultiEntry;
        const at = locations[k] + op.valueAt;
        entry.parts[op.part] = at; // its stored size was counted with the PUT
        this.liveParts[this.blockOf(at)]++;
      }
    }
  }

  /** Points part `part` of `key` at a copy (reclaim): the block it leaves loses one live part. */
  private movePart(key: string, part: number, at: number): void {
    const entry = this.index.get(key) as Entry;
    if (typeof entry === "number") {
      this.liveParts[this.blockOf(Math.floor(entry / LOC_SCALE))]--;
      this.index.set(key, at * LOC_SCALE + (entry % LOC_SCALE));
    } else {
      this.liveParts[this.blockOf(entry.parts[part])]--;
      entry.parts[part] = at;
    }
    this.liveParts[this.blockOf(at)]++;
  }

  private removeEntry(key: string): void {
    const entry = this.index.get(key);
    if (entry === undefined) return;
    this.forEachPart(entry, (offset) => this.liveParts[this.blockOf(offset)]--);
    this.liveStored -= storedSize(key, entry);
    this.index.delete(key);
  }

  private forEachPart(entry: Entry, visit: (offset: number) => void): void {
    if (typeof entry === "number") visit(Math.floor(entry / LOC_SCALE));
    else for (const offset of entry.parts) visit(offset);
  }

  private blockOf(offset: number): number {
    return Math.floor(offset / this.blockSize);
  }
}

/** Opens the log, or, when it is damaged, reports the StorageError to `onReset`, erases the partition and opens it empty. */
export function openFlashLogOrReset(flash: NorFlash, onReset: (error: StorageError) => void, options: FlashLogOptions = {}): FlashLogStore {
  try {
    return FlashLogStore.open(flash, options);
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    onReset(error);
    eraseFlashLog(flash);
    return FlashLogStore.open(flash, options);
  }
}

/** Erases every block of the partition (the way out after a StorageError on a damaged log). */
export function eraseFlashLog(flash: NorFlash): void {
  checkGeometry(flash);
  for (let b = 0; b < flash.byteLength / flash.blockSize; b++) flash.erase(b);
}

function checkGeometry(flash: NorFlash): void {
  const { blockSize, byteLength } = flash;
  if (!Number.isInteger(blockSize) || blockSize < 1024 || blockSize > 16384 || byteLength % blockSize !== 0) {
    throw new StorageError(`flash partition of ${byteLength} bytes in blocks of ${blockSize} cannot hold the log (blocks of 1-16 KB, a whole number of them)`, LOG_NAME);
  }
  if (byteLength / blockSize < RESERVE_BLOCKS + 2) {
    throw new StorageError(`flash partition of ${byteLength} bytes is too small: the log needs at least ${RESERVE_BLOCKS + 2} blocks of ${blockSize}`, LOG_NAME);
  }
}

function eraseAndVerify(flash: NorFlash, block: number): boolean {
  try {
    flash.erase(block);
  } catch {
    // A failed erase is judged by reading the block back, like a silent one.
  }
  return isBlank(flash.read(block * flash.blockSize, flash.blockSize), 0);
}

function isBlank(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0xff) return false;
  return true;
}

// ---- boot scan -------------------------------------------------------------------------------------------------

interface BootResult {
  index: Map<string, Entry>;
  state: Uint8Array;
  seqOf: number[];
  eraseCount: number[];
  order: number[];
  headOffset: number;
  headSealed: boolean;
  lastSeq: number;
  erases: number;
}

interface Header {
  seq: number;
  tailSeq: number;
  eraseCount: number;
  prevEnd: number;
  flags: number;
}

/** A parsed op during the scan: location of its value. */
interface ScannedOp {
  type: number;
  key: string;
  keys: string[] | undefined;
  part: number;
  total: number;
  at: number;
  seq: number;
}

/**
 * Boot: read every block's header; the log is the run of blocks from the highest tailSeq (or past the newest DROP in
 * the head block) to the highest seq, which must have no gap. Each is parsed oldest first up to the prevEnd its
 * successor names; commits apply at their FINAL frame, COPY frames at once. Blocks outside the log are erased unless
 * blank. The head is sealed (the next commit goes to a new block) when it ends in a torn frame, non-blank bytes or an
 * unfinished commit.
 */
function scan(flash: NorFlash, onRetire: ((block: number, reason: string) => void) | undefined): BootResult {
  const blockSize = flash.blockSize;
  const count = flash.byteLength / blockSize;
  const headers: Array<Header | undefined> = [];
  let maxErase = 0;
  let head = -1;
  let tailSeq = 0;
  for (let b = 0; b < count; b++) {
    const header = decodeHeader(flash.read(b * blockSize, HEADER_BYTES));
    headers.push(header);
    if (header === undefined) continue;
    maxErase = Math.max(maxErase, header.eraseCount);
    tailSeq = Math.max(tailSeq, header.tailSeq);
    if (head < 0 || header.seq > (headers[head] as Header).seq) head = b;
  }
  const index = new Map<string, Entry>();
  const state = new Uint8Array(count);
  const seqOf: number[] = new Array<number>(count).fill(-1);
  const eraseCount = headers.map((h) => (h === undefined ? maxErase : h.eraseCount));
  const order: number[] = [];
  let headOffset = 0;
  let headSealed = false;
  let lastSeq = 0;

  if (head >= 0) {
    const headSeq = (headers[head] as Header).seq;
    lastSeq = headSeq;
    const headBytes = flash.read(head * blockSize, blockSize);
    for (const op of parseFrames(headBytes, blockSize, head * blockSize).ops) {
      if (op.type === OP_DROP) tailSeq = Math.max(tailSeq, op.seq + 1);
    }
    const bySeq = new Map<number, number>();
    for (let b = 0; b < count; b++) {
      const header = headers[b];
      if (header === undefined || header.seq < tailSeq) continue;
      if (bySeq.has(header.seq)) throw new StorageError(`blocks ${bySeq.get(header.seq)} and ${b} both claim log position ${header.seq}; erase the store`, LOG_NAME);
      bySeq.set(header.seq, b);
    }
    for (let seq = Math.min(tailSeq, headSeq); seq <= headSeq; seq++) {
      const block = bySeq.get(seq);
      if (block === undefined) throw new StorageError(`log block at position ${seq} is missing (between ${tailSeq} and ${headSeq}); erase the store`, LOG_NAME);
      order.push(block);
    }
    let pending: ScannedOp[] = [];
    for (let k = 0; k < order.length; k++) {
      const block = order[k];
      const header = headers[block] as Header;
      if ((header.flags & FLAG_CARRY) === 0) pending = [];
      const bytes = block === head ? headBytes : flash.read(block * blockSize, blockSize);
      const next = k + 1 < order.length ? (headers[order[k + 1]] as Header) : undefined;
      const parsed = parseFrames(bytes, next === undefined ? blockSize : next.prevEnd, block * blockSize);
      if (next !== undefined && parsed.end !== next.prevEnd) {
        throw new StorageError(`log block ${block} (position ${header.seq}) ends at byte ${parsed.end}, its successor says ${next.prevEnd}: flash is damaged; erase the store`, LOG_NAME);
      }
      for (const group of parsed.groups) {
        if (group.kind === KIND_COPY) applyScanned(index, group.ops);
        else {
          for (const op of group.ops) pending.push(op);
          if (group.kind === KIND_FINAL) {
            applyScanned(index, pending);
            pending = [];
          }
        }
      }
      state[block] = USED;
      seqOf[block] = header.seq;
      if (block === head) {
        headOffset = parsed.end;
        headSealed = parsed.torn || pending.length > 0 || !isBlank(bytes, parsed.end);
      }
    }
  }

  for (const [key, entry] of index) {
    if (typeof entry === "number") continue;
    for (let i = 0; i * PART_BYTES < entry.length; i++) {
      if (entry.parts[i] === undefined) throw new StorageError(`value has lost part ${i} of ${Math.ceil(entry.length / PART_BYTES)}: flash is damaged; erase the store`, key);
    }
  }

  let erases = 0;
  for (let b = 0; b < count; b++) {
    if (state[b] === USED) continue;
    const bytes = flash.read(b * blockSize, blockSize);
    if (isBlank(bytes, 0)) continue; // FREE
    erases++;
    eraseCount[b]++;
    if (!eraseAndVerify(flash, b)) {
      state[b] = RETIRED;
      onRetire?.(b, "erase failed or the block does not read blank after it");
    }
  }
  return { index, state, seqOf, eraseCount, order, headOffset, headSealed, lastSeq, erases };
}

interface FrameGroup {
  kind: number;
  ops: ScannedOp[];
}

/** Parses the frames of one block up to `limit`: where valid frames end, and whether a damaged frame stopped it. */
function parseFrames(bytes: Uint8Array, limit: number, base: number): { groups: FrameGroup[]; ops: ScannedOp[]; end: number; torn: boolean } {
  const groups: FrameGroup[] = [];
  const all: ScannedOp[] = [];
  let at = HEADER_BYTES;
  let torn = false;
  while (at + FRAME_HEADER_BYTES <= limit) {
    const word = bytes[at] | (bytes[at + 1] << 8);
    if (word === BLANK_FRAME) break;
    const length = word & 0x3fff;
    const kind = word >>> 14;
    const end = at + FRAME_HEADER_BYTES + length;
    if (kind > KIND_COPY || end > limit || readU32(bytes, at + 2) !== crc32(bytes, at + FRAME_HEADER_BYTES, end, crc32(bytes, at, at + 2))) {
      torn = true;
      break;
    }
    const ops = decodeOps(bytes, at + FRAME_HEADER_BYTES, end, base);
    if (ops === undefined) {
      torn = true;
      break;
    }
    groups.push({ kind, ops });
    for (const op of ops) all.push(op);
    at = end;
  }
  return { groups, ops: all, end: at, torn };
}

function applyScanned(index: Map<string, Entry>, ops: readonly ScannedOp[]): void {
  for (const op of ops) {
    if (op.type === OP_DEL) {
      for (const key of op.keys as string[]) index.delete(key);
    } else if (op.type === OP_PUT) {
      index.set(op.key, op.total <= PART_BYTES ? op.at * LOC_SCALE + op.total : { length: op.total, parts: [op.at] });
    } else if (op.type === OP_PART) {
      let entry = index.get(op.key);
      if (entry === undefined || typeof entry === "number" || entry.length !== op.total) {
        // A copy of part i of a value whose PUT was reclaimed earlier: the copy carries the length.
        entry = { length: op.total, parts: [] };
        index.set(op.key, entry);
      }
      entry.parts[op.part] = op.at;
    }
  }
}

/** Decodes the ops of one frame body; undefined when they do not parse (the CRC passed: treat the frame as damaged). */
function decodeOps(bytes: Uint8Array, start: number, end: number, base: number): ScannedOp[] | undefined {
  const ops: ScannedOp[] = [];
  const at = { i: start };
  while (at.i < end) {
    const head = bytes[at.i++];
    const type = head & 3;
    if (type === OP_DROP) {
      const seq = readVarint(bytes, at, end);
      if (seq === undefined) return undefined;
      ops.push({ type, key: "", keys: undefined, part: 0, total: 0, at: 0, seq });
      continue;
    }
    const key = decodeKey(bytes, head, at, end);
    if (key === undefined) return undefined;
    if (type === OP_DEL) {
      let keys = [key.text];
      if (key.number !== undefined) {
        const count = readVarint(bytes, at, end);
        if (count === undefined || count < 1) return undefined;
        keys = [];
        for (let n = 0; n < count; n++) keys.push(key.head + pad36(key.number + n, key.width));
      }
      ops.push({ type, key: key.text, keys, part: 0, total: 0, at: 0, seq: 0 });
      continue;
    }
    const part = type === OP_PART ? readVarint(bytes, at, end) : 0;
    const total = readVarint(bytes, at, end);
    if (part === undefined || total === undefined) return undefined;
    const length = Math.min(PART_BYTES, total - part * PART_BYTES);
    if (length < 0 || at.i + length > end || (type === OP_PART && part * PART_BYTES >= total && total > 0)) return undefined;
    ops.push({ type, key: key.text, keys: undefined, part, total, at: base + at.i, seq: 0 });
    at.i += length;
  }
  return ops;
}

// ---- encoding --------------------------------------------------------------------------------------------------

function encodeHeader(seq: number, tailSeq: number, eraseCount: number, prevEnd: number, flags: number): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES);
  writeU32(bytes, 0, MAGIC);
  writeU32(bytes, 4, seq);
  writeU32(bytes, 8, tailSeq);
  writeU32(bytes, 12, eraseCount);
  bytes[16] = prevEnd & 0xff;
  bytes[17] = prevEnd >>> 8;
  bytes[18] = flags;
  bytes[19] = FORMAT_VERSION;
  writeU32(bytes, 20, crc32(bytes, 0, 20));
  return bytes;
}

function decodeHeader(bytes: Uint8Array): Header | undefined {
  if (readU32(bytes, 0) !== MAGIC || bytes[19] !== FORMAT_VERSION || readU32(bytes, 20) !== crc32(bytes, 0, 20)) return undefined;
  return { seq: readU32(bytes, 4), tailSeq: readU32(bytes, 8), eraseCount: readU32(bytes, 12), prevEnd: bytes[16] | (bytes[17] << 8), flags: bytes[18] };
}

/** How a key is written: plain, numbered with its head, or a dictionary head. */
interface KeyForm {
  form: number;
  text: string;
  head: string;
  width: number;
  number: number | undefined;
  dict: number;
  size: number;
}

const DIGITS = /^[0-9a-z]+$/;

function pad36(n: number, width: number): string {
  return n.toString(36).padStart(width, "0");
}

/** The shortest form of `key` (numbered forms only when the digits read back exactly). */
function keyForm(key: string): KeyForm {
  const plain: KeyForm = { form: FORM_PLAIN, text: key, head: key, width: 0, number: undefined, dict: 0, size: key.length };
  for (let d = 0; d < KEY_HEADS.length; d++) {
    const [head, width] = KEY_HEADS[d];
    if (key.length === head.length + width && key.startsWith(head)) {
      const digits = key.slice(head.length);
      if (DIGITS.test(digits)) {
        const n = parseInt(digits, 36);
        if (pad36(n, width) === digits) return { form: FORM_DICT, text: key, head, width, number: n, dict: d, size: varintSize(n) };
      }
    }
  }
  let run = 0;
  while (run < key.length && run < 10 && /[0-9a-z]/.test(key[key.length - 1 - run])) run++;
  if (run >= 4) {
    const head = key.slice(0, key.length - run);
    const digits = key.slice(key.length - run);
    const n = parseInt(digits, 36);
    if (pad36(n, run) === digits) {
      const size = 1 + head.length + varintSize(n);
      if (size < plain.size) return { form: FORM_NUMBERED, text: key, head, width: run, number: n, dict: 0, size };
    }
  }
  return plain;
}

function pushKey(out: number[], type: number, form: KeyForm): void {
  if (form.form === FORM_DICT) {
    out.push(type | (FORM_DICT << 2) | (form.dict << 4));
    pushVarint(out, form.number as number);
  } else if (form.form === FORM_NUMBERED) {
    out.push(type | (FORM_NUMBERED << 2) | (form.head.length << 4), form.width);
    for (let i = 0; i < form.head.length; i++) out.push(form.head.charCodeAt(i));
    pushVarint(out, form.number as number);
  } else {
    out.push(type | (FORM_PLAIN << 2) | (form.text.length << 4));
    for (let i = 0; i < form.text.length; i++) out.push(form.text.charCodeAt(i));
  }
}

function decodeKey(bytes: Uint8Array, head: number, at: { i: number }, end: number): { text: string; head: string; width: number; number: number | undefined } | undefined {
  const form = (head >>> 2) & 3;
  const field = head >>> 4;
  let keyHead: string;
  let width: number;
  if (form === FORM_DICT) {
    if (field >= KEY_HEADS.length) return undefined;
    [keyHead, width] = KEY_HEADS[field];
  } else if (form === FORM_NUMBERED) {
    if (at.i >= end) return undefined;
    width = bytes[at.i++];
    if (at.i + field > end || width < 1 || width > 10 || field + width > 15) return undefined;
    keyHead = String.fromCharCode(...bytes.subarray(at.i, at.i + field));
    at.i += field;
  } else if (form === FORM_PLAIN) {
    if (field < 1 || at.i + field > end) return undefined;
    const text = String.fromCharCode(...bytes.subarray(at.i, at.i + field));
    at.i += field;
    try {
      checkKey(text);
    } catch {
      return undefined;
    }
    return { text, head: text, width: 0, number: undefined };
  } else return undefined;
  const n = readVarint(bytes, at, end);
  if (n === undefined) return undefined;
  const text = keyHead + pad36(n, width);
  if (text.length > 15) return undefined;
  return { text, head: keyHead, width, number: n };
}

/** PUT (part 0 of a new value) or PART `part` of a value `total` bytes long; `value` is that part's bytes only for PART. */
function encodeValueOp(type: number, key: string, part: number, value: Uint8Array, total: number): EncodedOp {
  const out: number[] = [];
  pushKey(out, type, keyForm(key));
  if (type === OP_PART) pushVarint(out, part);
  pushVarint(out, total);
  const valueAt = out.length;
  const length = Math.min(PART_BYTES, total - part * PART_BYTES);
  const bytes = new Uint8Array(valueAt + length);
  bytes.set(out);
  bytes.set(value.subarray(0, length), valueAt);
  return { bytes, key, type, part, valueAt, valueLength: length, total, count: 0, keys: undefined };
}

function encodeDrop(seq: number): EncodedOp {
  const out: number[] = [OP_DROP];
  pushVarint(out, seq);
  return { bytes: Uint8Array.from(out), key: "", type: OP_DROP, part: 0, valueAt: 0, valueLength: 0, total: 0, count: 0, keys: undefined };
}

/** A commit's ops: puts (split in parts), and deletes, consecutive numbered keys folded into one ranged DEL. */
function encodeOps(ops: readonly StagedOp[], index: ReadonlyMap<string, Entry>): EncodedOp[] {
  const out: EncodedOp[] = [];
  const numbered: Array<{ form: KeyForm; key: string }> = [];
  for (const [key, value] of ops) {
    if (value !== null) {
      out.push(encodeValueOp(OP_PUT, key, 0, value, value.length));
      for (let part = 1; part * PART_BYTES < value.length; part++) {
        out.push(encodeValueOp(OP_PART, key, part, value.subarray(part * PART_BYTES), value.length));
      }
      continue;
    }
    if (!index.has(key)) continue; // never committed: nothing on flash to delete
    const form = keyForm(key);
    if (form.number !== undefined) numbered.push({ form, key });
    else {
      const bytes: number[] = [];
      pushKey(bytes, OP_DEL, form);
      out.push({ bytes: Uint8Array.from(bytes), key, type: OP_DEL, part: 0, valueAt: 0, valueLength: 0, total: 0, count: 1, keys: [key] });
    }
  }
  numbered.sort((a, b) => (a.form.head < b.form.head ? -1 : a.form.head > b.form.head ? 1 : a.form.width - b.form.width || (a.form.number as number) - (b.form.number as number)));
  for (let i = 0; i < numbered.length; ) {
    const first = numbered[i].form;
    const keys = [numbered[i].key];
    let j = i + 1;
    while (j < numbered.length && numbered[j].form.head === first.head && numbered[j].form.width === first.width
      && numbered[j].form.number === (first.number as number) + (j - i)) keys.push(numbered[j++].key);
    const bytes: number[] = [];
    pushKey(bytes, OP_DEL, first);
    pushVarint(bytes, keys.length);
    out.push({ bytes: Uint8Array.from(bytes), key: first.text, type: OP_DEL, part: 0, valueAt: 0, valueLength: 0, total: 0, count: keys.length, keys });
    i = j;
  }
  return out;
}

/** Largest single op: a full part with the longest key and varints. */
function maxOpBytes(): number {
  return 1 + 1 + 15 + 3 + 3 + PART_BYTES;
}

/** Bytes a reclaim would program to copy `entry` forward (its ops, without frame headers). */
function storedSize(key: string, entry: Entry): number {
  if (typeof entry === "number") return storedValueSize(key, entry % LOC_SCALE);
  return storedValueSize(key, entry.length);
}

function storedValueSize(key: string, length: number): number {
  const keySize = 1 + keyForm(key).size;
  if (length <= PART_BYTES) return keySize + varintSize(length) + length;
  let size = 0;
  for (let part = 0; part * PART_BYTES < length; part++) size += keySize + varintSize(part) + varintSize(length) + Math.min(PART_BYTES, length - part * PART_BYTES);
  return size;
}

function varintSize(value: number): number {
  let size = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return size;
}

function readVarint(bytes: Uint8Array, at: { i: number }, end: number): number | undefined {
  let value = 0;
  let scale = 1;
  for (let n = 0; n < 8; n++) {
    if (at.i >= end) return undefined;
    const b = bytes[at.i++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 0x80;
  }
  return undefined;
}

