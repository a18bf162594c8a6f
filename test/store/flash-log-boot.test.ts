// The flash log's boot scan and bookkeeping at their edges: what a reopen counts (live bytes, erases, stored sizes,
// reclaim's copies), blocks whose header is not the log's, a head left clean or torn, frames whose CRC fails, ranged
// deletes, the live limit to the byte, bad blocks, a commit that never programs; and the frame programmed past its
// block's end that these tests found. Written for the mutants of flash-log.ts that survived its first mutation run
// (docs/reliability.md).
import { describe, expect, it } from "vitest";
import { StorageError, StoreFullError } from "../../src/errors";
import { writeU32 } from "../../src/store/bytes";
import { crc32 } from "../../src/store/crc32";
import { FlashLogStore, HEADER_BYTES } from "../../src/store/flash-log";
import { filled, SimNorFlash } from "./nor-flash";
import { thrown } from "../support/thrown";

const BLOCK = 1024;

function commitAll(store: FlashLogStore, values: Record<string, Uint8Array>): void {
  for (const [key, value] of Object.entries(values)) store.put(key, value);
  store.commit();
}

/** Block 0's header with one field changed and, unless `keepCrc`, its CRC made right again: a header the log never wrote. */
function forgedHeader(flash: SimNorFlash, change: (bytes: Uint8Array) => void, keepCrc = false): Uint8Array {
  const bytes = flash.read(0, HEADER_BYTES);
  change(bytes);
  if (!keepCrc) writeU32(bytes, 20, crc32(bytes, 0, 20));
  return bytes;
}

/** A SimNorFlash that notes every program crossing the end of its block (the log catches what write() throws). */
class BlockBoundFlash extends SimNorFlash {
  readonly crossings: string[] = [];
  override write(offset: number, bytes: Uint8Array): void {
    const blockEnd = (Math.floor(offset / this.blockSize) + 1) * this.blockSize;
    if (offset + bytes.length > blockEnd) this.crossings.push(`${bytes.length} bytes at ${offset}, block end ${blockEnd}`);
    super.write(offset, bytes);
  }
}

describe("flash log: reclaim's copies filling the new head", () => {
  it("a frame never crosses its block's end, even when the copies leave the new head without room for it", () => {
    // Found by the test below: a 700-byte value copied forward filled most of the new head, and the commit's frame
    // was then programmed past the block's end, into the next block (the log then failed to open: "flash is damaged").
    const flash = new BlockBoundFlash(10 * BLOCK, BLOCK);
    const store = FlashLogStore.open(flash);
    commitAll(store, { small: filled(100, 1), large: filled(700, 2) });
    for (let i = 0; i < 60; i++) commitAll(store, { churn: filled(300, i) });
    expect(flash.crossings).toEqual([]);
    const reopened = FlashLogStore.open(flash);
    expect([reopened.get("small"), reopened.get("large"), reopened.get("churn")]).toEqual([filled(100, 1), filled(700, 2), filled(300, 59)]);
  });
});

describe("flash log: what a reopen counts", () => {
  it("live bytes and erase counts are the same after a reopen, and values kept across it survive the log wrapping", () => {
    const flash = new SimNorFlash(10 * BLOCK, BLOCK);
    const kept = { small: filled(100, 1), large: filled(700, 2) };
    const store = FlashLogStore.open(flash);
    commitAll(store, kept);
    const before = store.stats();
    const reopened = FlashLogStore.open(flash);
    expect(reopened.stats().liveBytes).toBe(before.liveBytes);
    for (let i = 0; i < 60; i++) commitAll(reopened, { churn: filled(300, i) });
    expect(reopened.stats().erases).toBeGreaterThan(10); // wrapped: the blocks kept ones were in reclaimed too
    const erased = reopened.stats();
    const again = FlashLogStore.open(flash);
    expect(again.stats().eraseCounts).toEqual(erased.eraseCounts);
    expect(again.stats().liveBytes).toBe(erased.liveBytes);
    for (const [key, value] of Object.entries(kept)) expect(again.get(key)).toEqual(value);
  });

  it("a deleted value stops counting as live at once, plain or numbered key", () => {
    const store = FlashLogStore.open(new SimNorFlash(4 * BLOCK, BLOCK));
    commitAll(store, { plain: filled(50, 15), "o/00000001": filled(50, 16) });
    store.delete("plain");
    store.delete("o/00000001");
    store.commit();
    expect(store.stats().liveBytes).toBe(0);
  });

  it("live bytes count each value as reclaim would copy it: op byte, key, varints, bytes; a value in parts per part", () => {
    const store = FlashLogStore.open(new SimNorFlash(8 * BLOCK, BLOCK));
    const liveOf = (key: string, length: number) => {
      commitAll(store, { [key]: filled(length, 17) });
      const live = store.stats().liveBytes;
      store.delete(key);
      store.commit();
      return live;
    };
    expect(liveOf("a", 127)).toBe(1 + 1 + 1 + 127);
    expect(liveOf("a", 128)).toBe(1 + 1 + 2 + 128);
    expect(liveOf("a", 512)).toBe(1 + 1 + 2 + 512);
    // 1,100 bytes: parts of 512, 512 and 76, each with the key ("big"), its index and the total.
    expect(liveOf("big", 1100)).toBe(2 * (1 + 3 + 1 + 2 + 512) + (1 + 3 + 1 + 2 + 76));
  });

  it("live bytes count a key in the shortest form that reads back: dictionary head, numbered tail (4 to 10 digits) or plain", () => {
    const flash = new SimNorFlash(8 * BLOCK, BLOCK);
    const store = FlashLogStore.open(flash);
    const liveOf = (key: string) => {
      commitAll(store, { [key]: filled(10, 3) });
      const live = store.stats().liveBytes;
      store.delete(key);
      store.commit();
      return live - (1 + 1 + 10); // less the op byte, the length varint and the value: the key's bytes
    };
    // Dictionary heads: the number's varint alone (50; 1,295).
    expect(liveOf("smp.r000000001e")).toBe(1);
    expect(liveOf("smp.r00000000zz")).toBe(2);
    expect(liveOf("o/00000001")).toBe(1);
    // Numbered: width byte, head, varint of the base-36 tail, when shorter than plain.
    expect(liveOf("t.00a1")).toBe(1 + 2 + 2); // 361
    expect(liveOf("00a1")).toBe(1 + 0 + 2); // a tail of the whole key
    expect(liveOf("K.001")).toBe(5); // three digits: plain
    // Tails longer than 10 digits: the last 10 are the number (3456789012 in base 36 is 7 varint bytes).
    expect(liveOf("123456789012")).toBe(1 + 2 + 7);
    expect(liveOf("zz3456789012")).toBe(1 + 2 + 7);
    // Each form reads back as the same key.
    const keys = ["smp.r000000001e", "t.00a1", "00a1", "K.001", "zz3456789012"];
    for (const key of keys) store.put(key, filled(10, key.length));
    store.commit();
    const reopened = FlashLogStore.open(flash);
    expect(reopened.list("").sort()).toEqual([...keys].sort());
    for (const key of keys) expect(reopened.get(key), key).toEqual(filled(10, key.length));
  });

  it("reclaim copies the oldest block's live values and nothing else", () => {
    const store = FlashLogStore.open(new SimNorFlash(6 * BLOCK, BLOCK));
    commitAll(store, { a: filled(100, 18) });
    for (let i = 0; store.stats().erases === 0; i++) commitAll(store, { churn: filled(300, i) });
    expect(store.stats().copiedBytes).toBe(1 + 1 + 1 + 100);
    expect(FlashLogStore.open(new SimNorFlash(6 * BLOCK, BLOCK)).stats().copiedBytes).toBe(0);
  });

  it("stats() hands out a copy of the erase counts", () => {
    const store = FlashLogStore.open(new SimNorFlash(4 * BLOCK, BLOCK));
    store.stats().eraseCounts[0] = 999;
    expect(store.stats().eraseCounts[0]).toBe(0);
  });
});

describe("flash log boot: blocks that are not the log's", () => {
  it.each([
    ["another magic", (b: Uint8Array) => { b[0] = 0x45; }, false], // "ELG1"
    ["another format version", (b: Uint8Array) => { b[19] = 2; }, false],
    ["a CRC that does not match", (b: Uint8Array) => { b[4] = 9; }, true],
  ])("a header with %s (claiming a later position) is erased at boot, the log kept", (_what, change, keepCrc) => {
    const flash = new SimNorFlash(4 * BLOCK, BLOCK);
    commitAll(FlashLogStore.open(flash), { a: filled(10, 3) });
    const header = forgedHeader(flash, (b) => { b[4] = 2; change(b); }, keepCrc);
    flash.write(2 * BLOCK, header);
    const store = FlashLogStore.open(flash);
    expect(store.get("a")).toEqual(filled(10, 3));
    expect(Array.from(flash.read(2 * BLOCK, BLOCK)).every((b) => b === 0xff)).toBe(true);
    expect(flash.erases).toEqual([0, 0, 1, 0]);
    expect(store.stats()).toMatchObject({ erases: 1, eraseCounts: [0, 0, 1, 0] });
  });

  it("a block of garbage that will not erase blank is retired at boot, with the reason", () => {
    const flash = new SimNorFlash(5 * BLOCK, BLOCK);
    commitAll(FlashLogStore.open(flash), { a: filled(10, 4) });
    flash.write(3 * BLOCK + 7, Uint8Array.of(0x12, 0x34));
    flash.badErase.add(3);
    const retired: Array<[number, string]> = [];
    const store = FlashLogStore.open(flash, { onRetire: (block, reason) => retired.push([block, reason]) });
    expect(retired).toEqual([[3, "erase failed or the block does not read blank after it"]]);
    expect(store.stats()).toMatchObject({ retired: 1, retiredBlocks: [3], erases: 1 });
    expect(store.get("a")).toEqual(filled(10, 4));
  });
});

describe("flash log boot: the head block", () => {
  it("a head that ends clean takes the next commit after its last frame", () => {
    const flash = new SimNorFlash(4 * BLOCK, BLOCK);
    commitAll(FlashLogStore.open(flash), { a: filled(10, 5) });
    const store = FlashLogStore.open(flash);
    commitAll(store, { b: filled(10, 6) });
    expect(flash.programmedBytes.slice(1)).toEqual([0, 0, 0]);
    expect(store.stats().used).toBe(1);
  });

  it("a head that ends in a torn frame is sealed: the next commit goes to a new block", () => {
    const flash = new SimNorFlash(4 * BLOCK, BLOCK);
    commitAll(FlashLogStore.open(flash), { a: filled(10, 7) });
    const end = flash.read(0, BLOCK).findIndex((b, i) => i >= HEADER_BYTES && b === 0xff && flash.read(i, 8).every((x) => x === 0xff));
    flash.write(end, Uint8Array.of(0x05, 0x00, 0x12)); // a frame word and the start of a CRC, cut there
    const store = FlashLogStore.open(flash);
    expect(store.get("a")).toEqual(filled(10, 7));
    commitAll(store, { b: filled(10, 8) });
    expect(flash.programmedBytes[1]).toBeGreaterThan(0);
    expect(FlashLogStore.open(flash).get("b")).toEqual(filled(10, 8));
  });
});

describe("flash log boot: frames and deletes", () => {
  it("a frame whose CRC fails is not applied, though its body would decode", () => {
    const flash = new SimNorFlash(4 * BLOCK, BLOCK);
    const store = FlashLogStore.open(flash);
    commitAll(store, { a: filled(10, 20) });
    commitAll(store, { b: Uint8Array.of(0xff, 0xff, 0xff) });
    // Clear one bit of b's value, as a bit that failed to hold its charge would.
    const at = flash.read(0, BLOCK).findIndex((x, i) => i > HEADER_BYTES && x === 0xff && flash.read(i, 3).every((y) => y === 0xff));
    flash.write(at + 1, Uint8Array.of(0xfe));
    const reopened = FlashLogStore.open(flash);
    expect(reopened.list("")).toEqual(["a"]);
  });

  it("a ranged delete never takes keys of another head or another width", () => {
    const flash = new SimNorFlash(4 * BLOCK, BLOCK);
    const store = FlashLogStore.open(flash);
    const one = Uint8Array.of(1);
    commitAll(store, { "f/00000001": one, "f/00000002": one, "o/00000002": one });
    for (const key of ["f/00000001", "o/00000002"]) store.delete(key);
    store.commit();
    expect(FlashLogStore.open(flash).list("")).toEqual(["f/00000002"]);
    commitAll(store, { "k-0001": one, "k-0002": one, "k-00002": one });
    for (const key of ["k-0001", "k-00002"]) store.delete(key);
    store.commit();
    expect(FlashLogStore.open(flash).list("")).toEqual(["f/00000002", "k-0002"]);
  });

  it("a block cut short in the middle of the log is reported with where it ends and where its successor says", () => {
    const flash = new SimNorFlash(4 * BLOCK, BLOCK);
    const store = FlashLogStore.open(flash);
    for (let i = 0; store.stats().used < 2; i++) commitAll(store, { k: filled(200, i) });
    flash.data[HEADER_BYTES + 6 + 10] ^= 0x01; // a byte inside block 0's first frame
    expect(() => FlashLogStore.open(flash)).toThrow(
      /^log block 0 \(position 1\) ends at byte 24, its successor says \d+: flash is damaged; erase the store \(key "\(flash log\)"\)$/,
    );
  });
});

describe("flash log: the live limit to the byte", () => {
  it("a commit that brings live bytes exactly to the limit is taken; one byte more is refused", () => {
    const store = FlashLogStore.open(new SimNorFlash(4 * BLOCK, BLOCK));
    const limit = store.stats().liveLimit;
    // A plain one-letter key stores as op byte + key + 2-byte length + value.
    commitAll(store, { a: filled(limit - 4, 9) });
    expect(store.stats().liveBytes).toBe(limit);
    store.put("b", Uint8Array.of(1));
    expect(() => store.commit()).toThrow(StoreFullError);
  });

  it("replacing a large value near the limit is refused: old and new would be on flash together", () => {
    const store = FlashLogStore.open(new SimNorFlash(8 * BLOCK, BLOCK));
    const limit = store.stats().liveLimit;
    commitAll(store, { big: filled(600, 10) });
    for (let i = 0; limit - store.stats().liveBytes > 50; i++) commitAll(store, { [`f${i}`]: filled(Math.min(400, limit - store.stats().liveBytes - 45), i) });
    store.put("big", filled(600, 12));
    expect(() => store.commit()).toThrow(StoreFullError);
    store.recover();
    commitAll(store, { f0: filled(400, 13) }); // a smaller replacement fits beside its old value
    expect(store.get("big")).toEqual(filled(600, 10));
  });
});

describe("flash log: bad blocks and the live limit", () => {
  const perBlock = BLOCK - HEADER_BYTES - (1 + 1 + 15 + 3 + 3 + 512) - 6;

  it("a block whose header will not program is retired, with the reason, and the limit drops by a block", () => {
    const flash = new SimNorFlash(6 * BLOCK, BLOCK);
    flash.badProgram.add(0);
    const retired: Array<[number, string]> = [];
    const store = FlashLogStore.open(flash, { onRetire: (block, reason) => retired.push([block, reason]) });
    expect(store.stats().liveLimit).toBe(3 * perBlock);
    commitAll(store, { a: filled(10, 19) });
    expect(retired).toEqual([[0, "header failed its read-back"]]);
    expect(store.stats().liveLimit).toBe(2 * perBlock);
    expect(FlashLogStore.open(flash).get("a")).toEqual(filled(10, 19));
  });

  it("a block that will not erase blank when reclaimed is retired, with the reason, and the limit drops by a block", () => {
    const flash = new SimNorFlash(6 * BLOCK, BLOCK);
    flash.badErase.add(0);
    const retired: Array<[number, string]> = [];
    const store = FlashLogStore.open(flash, { onRetire: (block, reason) => retired.push([block, reason]) });
    for (let i = 0; retired.length === 0; i++) commitAll(store, { churn: filled(300, i) });
    expect(retired).toEqual([[0, "erase failed or the block does not read blank after it"]]);
    expect(store.stats().liveLimit).toBe(2 * perBlock);
  });
});

describe("flash log: a commit that never programs", () => {
  it("every frame failing its read-back: four attempts in four blocks, then a StorageError that says so", () => {
    const flash = new SimNorFlash(8 * BLOCK, BLOCK);
    // Headers program fine; every frame comes back wrong.
    flash.spoil = (_offset, bytes) => bytes.length !== HEADER_BYTES;
    const store = FlashLogStore.open(flash);
    const limit = store.stats().liveLimit;
    store.put("a", filled(10, 14));
    expect(thrown(StorageError, () => store.commit()).message).toBe("flash log: 4 attempts to program a commit failed their read-back");
    expect(store.stats().used).toBe(4);
    expect(store.stats().liveLimit).toBe(limit - 4 * (limit / 5)); // the four failing blocks no longer count
  });
});
