// What spans the flash log's blocks: commits (the CARRY flag of each header), with reclaim's copies landing between a
// commit's frames, frames that fail their read-back part way through such a commit or while reclaim copies; values in
// parts, copied block by block; the chain of blocks the boot scan follows; and a partition where no header programs.
// Written for the mutants of flash-log.ts that survived its mutation runs (docs/reliability.md): the values read back
// were right, but nothing looked at the headers the boot scan trusts or at what each reclaim copied.
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/errors";
import { readU32 } from "../../src/store/bytes";
import { crc32 } from "../../src/store/crc32";
import { FlashLogStore, HEADER_BYTES } from "../../src/store/flash-log";
import { filled, SimNorFlash } from "./nor-flash";
import { thrown } from "../support/thrown";

const BLOCK = 1024;
const FRAME_HEADER_BYTES = 6;
const MAGIC = 0x31474c46; // "FLG1"
const KIND_FINAL = 0;
const KIND_MORE = 1;
const KIND_COPY = 2;
const FLAG_CARRY = 1;
const isHeader = (flash: SimNorFlash, offset: number) => offset % flash.blockSize === 0;
/** The kind of a frame program (its first u16 holds kind << 14). */
const frameKind = (bytes: Uint8Array) => bytes[1] >>> 6;

interface BlockView {
  block: number;
  seq: number;
  carry: boolean;
  /** Kinds of the frames whose CRC holds, in order, up to erased flash or the first frame that fails. */
  kinds: number[];
  /** A frame failed its CRC (a failed program or a torn one) before erased flash. */
  spoilt: boolean;
}

/** Reads every block the log holds, oldest first, as the format in flash-log.ts describes it. */
function readLog(flash: SimNorFlash): BlockView[] {
  const blocks: BlockView[] = [];
  for (let block = 0; block < flash.byteLength / flash.blockSize; block++) {
    const bytes = flash.read(block * flash.blockSize, flash.blockSize);
    if (readU32(bytes, 0) !== MAGIC || readU32(bytes, 20) !== crc32(bytes, 0, 20)) continue;
    const view: BlockView = { block, seq: readU32(bytes, 4), carry: (bytes[18] & FLAG_CARRY) !== 0, kinds: [], spoilt: false };
    for (let at = HEADER_BYTES; at + FRAME_HEADER_BYTES <= bytes.length; ) {
      const word = bytes[at] | (bytes[at + 1] << 8);
      if (word === 0xffff) break;
      const end = at + FRAME_HEADER_BYTES + (word & 0x3fff);
      if (end > bytes.length || readU32(bytes, at + 2) !== crc32(bytes, at + FRAME_HEADER_BYTES, end, crc32(bytes, at, at + 2))) {
        view.spoilt = true;
        break;
      }
      view.kinds.push(word >>> 14);
      at = end;
    }
    blocks.push(view);
  }
  return blocks.sort((a, b) => a.seq - b.seq);
}

/**
 * The CARRY rule: a block carries a commit on exactly when one is open where the block before it ends (its last
 * MORE not yet followed by a FINAL; reclaim's COPY frames in between change nothing). A block that ends on a failed
 * frame closes it: the retry starts afresh. The oldest block has no predecessor left to compare with.
 */
function carryMismatches(log: BlockView[]): string[] {
  const out: string[] = [];
  let open = false;
  for (const [k, view] of log.entries()) {
    if (k > 0 && view.carry !== open) out.push(`block ${view.block} (seq ${view.seq}) CARRY ${view.carry}, a commit ${open ? "is" : "is not"} open`);
    if (!view.carry) open = false;
    for (const kind of view.kinds) {
      if (kind === KIND_MORE) open = true;
      else if (kind === KIND_FINAL) open = false;
    }
    if (view.spoilt) open = false;
  }
  return out;
}

describe("flash log: commits that span blocks", () => {
  it("CARRY is set exactly where a commit goes on, also when reclaim's copies push its last frame on to a third block", () => {
    const flash = new SimNorFlash(16 * BLOCK, BLOCK);
    const store = FlashLogStore.open(flash);
    const expected = new Map<string, Uint8Array>([["kept", filled(1500, 99)]]);
    store.put("kept", filled(1500, 99));
    store.commit();
    let copiesInsideCommits = 0;
    for (let i = 0; i < 40; i++) {
      // Values of 1,500 bytes are three parts, three frames of about 520 bytes: each commit spans blocks, and the
      // reclaim a new head starts copies the kept value's parts in among them.
      const key = `v${i % 2}`;
      expected.set(key, filled(1500, i));
      store.put(key, filled(1500, i));
      if (i % 4 === 0) {
        expected.set("small", filled(40, i));
        store.put("small", filled(40, i));
      }
      store.commit();
      const log = readLog(flash);
      expect(carryMismatches(log), `after commit ${i}`).toEqual([]);
      // A block a commit was carried into, that took reclaim's copies and no more of the commit: it goes on further.
      copiesInsideCommits += log.filter((view) => view.carry && view.kinds.length > 0 && view.kinds.every((kind) => kind === KIND_COPY)).length;
    }
    expect(copiesInsideCommits).toBeGreaterThan(0); // the case this test is for happened
    const reopened = FlashLogStore.open(flash);
    for (const [key, value] of expected) expect(reopened.get(key), key).toEqual(value);
  });

  it("a commit whose frame fails on its second block is retried in a new block without CARRY, and the failed frames count for nothing", () => {
    const flash = new SimNorFlash(12 * BLOCK, BLOCK);
    const store = FlashLogStore.open(flash);
    store.put("kept", filled(1500, 1));
    store.commit();
    // The next commit's second frame (a MORE) fails once; its first frame is already on flash.
    let frames = 0;
    flash.spoil = (offset, bytes) => !isHeader(flash, offset) && frameKind(bytes) !== KIND_COPY && ++frames === 2;
    store.put("kept", filled(1500, 2));
    store.put("other", filled(30, 3));
    store.commit();
    expect(frames).toBeGreaterThan(3); // failed, then retried whole
    const log = readLog(flash);
    expect(log.filter((view) => view.spoilt)).toHaveLength(1);
    expect(carryMismatches(log)).toEqual([]);
    const failed = log.findIndex((view) => view.spoilt);
    expect(log[failed].carry).toBe(true); // the failed attempt was carried on into it
    expect(log[failed + 1].carry).toBe(false);
    const reopened = FlashLogStore.open(flash);
    expect([reopened.get("kept"), reopened.get("other")]).toEqual([filled(1500, 2), filled(30, 3)]);
  });

  it("a frame reclaim copies that fails its read-back: a StorageError naming the block; recover() keeps every committed value", () => {
    const flash = new SimNorFlash(6 * BLOCK, BLOCK);
    const store = FlashLogStore.open(flash);
    store.put("kept", filled(300, 1));
    store.commit();
    let failedAt = -1;
    flash.spoil = (offset, bytes) => {
      if (failedAt >= 0 || isHeader(flash, offset) || frameKind(bytes) !== KIND_COPY) return false;
      failedAt = Math.floor(offset / BLOCK);
      return true;
    };
    let error: StorageError | undefined;
    for (let i = 0; error === undefined && i < 40; i++) {
      store.put("churn", filled(300, i));
      try {
        store.commit();
      } catch (e) {
        if (!(e instanceof StorageError)) throw e;
        error = e;
      }
    }
    expect(error?.message).toBe(`flash log: a frame copied forward failed its read-back in block ${failedAt}`);
    flash.spoil = () => false;
    store.recover();
    expect(store.get("kept")).toEqual(filled(300, 1));
    store.put("after", filled(20, 9));
    store.commit();
    const reopened = FlashLogStore.open(flash);
    expect([reopened.get("kept"), reopened.get("after")]).toEqual([filled(300, 1), filled(20, 9)]);
  });

  it("no header will program anywhere: every block retired with its reason, then a StorageError that says none is left", () => {
    const flash = new SimNorFlash(4 * BLOCK, BLOCK);
    flash.spoil = (offset) => isHeader(flash, offset);
    const retired: Array<[number, string]> = [];
    const store = FlashLogStore.open(flash, { onRetire: (block, reason) => retired.push([block, reason]) });
    store.put("a", filled(10, 1));
    expect(thrown(StorageError, () => store.commit()).message).toBe("flash log: no free block left to write to (every block is used or retired)");
    expect(retired).toEqual([0, 1, 2, 3].map((block) => [block, "header failed its read-back"]));
  });
});

describe("flash log: values in parts across reclaim", () => {
  for (const length of [1000, 1024]) {
    it(`a ${length}-byte value is copied a part at a time, each reclaim taking the part in its block; live bytes are what the copies cost`, () => {
      const flash = new SimNorFlash(8 * BLOCK, BLOCK);
      const store = FlashLogStore.open(flash);
      store.put("big", filled(length, 5));
      store.commit();
      // Its two parts' frames do not fit one block (about 520 bytes each): part 0 is in block 0, part 1 in block 1.
      const live = store.stats().liveBytes;
      const partBytes = (part: number) => 1 + 3 + 1 + 2 + Math.min(512, length - part * 512); // op, key, index, total, bytes
      expect(live).toBe(partBytes(0) + partBytes(1));
      const copiedWhen = (erased: number) => {
        for (let i = 0; store.stats().eraseCounts[erased] === 0; i++) {
          store.put("churn", filled(40, i));
          store.commit();
        }
        return store.stats().copiedBytes;
      };
      expect(copiedWhen(0)).toBe(partBytes(0));
      expect(copiedWhen(1)).toBe(live);
      expect(FlashLogStore.open(flash).get("big")).toEqual(filled(length, 5));
    });
  }
});

describe("flash log: the chain of blocks", () => {
  it("a block erased out of the middle of the log: open refuses it, naming the position missing and the span", () => {
    const flash = new SimNorFlash(8 * BLOCK, BLOCK);
    const store = FlashLogStore.open(flash);
    for (const key of ["a", "b", "c"]) {
      store.put(key, filled(700, key.charCodeAt(0)));
      store.commit();
    }
    expect(readLog(flash).map((view) => [view.block, view.seq])).toEqual([[0, 1], [1, 2], [2, 3]]);
    flash.erase(1);
    const error = thrown(StorageError, () => FlashLogStore.open(flash));
    expect(error.message).toBe('log block at position 2 is missing (between 1 and 3); erase the store (key "(flash log)")');
  });
});
