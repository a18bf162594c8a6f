// The flash log's on-flash format byte by byte, written from the layout at the top of src/store/flash-log.ts and
// docs/flash-log.md: block header, frame word and CRC, each op and key form. Also frames crafted with a right CRC and
// a body no encoder writes (boot must stop the log there), the geometry checks, and the capacity figures.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { crc32 } from "../../src/store/crc32";
import type { StorageError } from "../../src/errors";
import type { FlashLogStore } from "../../src/store/flash-log";
import { SimNorFlash } from "./nor-flash";
import { thrown } from "../support/thrown";

/**
 * The flash log and its errors, imported afresh for every test: its key dictionary, names and patterns are
 * module-level code, and StrykerJS activates a mutant there only in tests that load the module themselves. The
 * expected bytes use the CRC imported above, checked against known answers in crc32.test.ts.
 */
let m: typeof import("../../src/store/flash-log") & typeof import("../../src/errors");

beforeEach(async () => {
  vi.resetModules();
  const [log, errors] = await Promise.all([import("../../src/store/flash-log"), import("../../src/errors")]);
  m = { ...log, ...errors };
});

/** A number as the log's varint: 7 bits a byte, low first, high bit set on all but the last. */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
  return [...out, n];
}

const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));

/** A block header as the format says: magic, seq, tailSeq, eraseCount, prevEnd, flags, version 1, CRC. */
function header(seq: number, tailSeq: number, eraseCount: number, prevEnd: number, flags: number): number[] {
  const bytes = [...ascii("FLG1"), ...le32(seq), ...le32(tailSeq), ...le32(eraseCount), prevEnd & 0xff, prevEnd >>> 8, flags, 1];
  return [...bytes, ...le32(crc32(Uint8Array.from(bytes)))];
}

/** A frame: u16 (length | kind << 14), CRC-32 of that word and the body, the body. */
function frame(kind: number, body: number[]): number[] {
  const word = [body.length & 0xff, (body.length >>> 8) | (kind << 6)];
  return [...word, ...le32(crc32(Uint8Array.from([...word, ...body]))), ...body];
}

const FINAL = 0;
const MORE = 1;
const COPY = 2;

function fresh(blocks = 4, blockSize = 1024): { flash: SimNorFlash; store: FlashLogStore } {
  const flash = new SimNorFlash(blocks * blockSize, blockSize);
  return { flash, store: m.FlashLogStore.open(flash) };
}

function commit(store: FlashLogStore, changes: Array<[string, number[] | null]>): void {
  for (const [key, value] of changes) {
    if (value === null) store.delete(key);
    else store.put(key, Uint8Array.from(value));
  }
  store.commit();
}

const bytesOf = (flash: SimNorFlash, at: number, length: number) => Array.from(flash.read(at, length));

describe("flash log format", () => {
  it("a first commit formats block 0 (seq 1, no predecessor) and writes one FINAL frame", () => {
    const { flash, store } = fresh();
    commit(store, [["abc", [1, 2, 3]]]);
    const expected = [...header(1, 1, 0, 0, 0), ...frame(FINAL, [0x30, ...ascii("abc"), 3, 1, 2, 3])];
    expect(bytesOf(flash, 0, expected.length)).toEqual(expected);
    expect(flash.read(expected.length, 2)).toEqual(Uint8Array.of(0xff, 0xff));
    expect(m.HEADER_BYTES).toBe(24);
  });

  it("writes each key in its shortest form: plain, numbered (head, width, varint) or a dictionary head", () => {
    const { flash, store } = fresh();
    commit(store, [
      ["q/0000a1", [7]], // numbered: 0x24 = PUT | NUMBERED << 2 | 2 << 4, width 6, "q/", varint 361
      ["o/00000001", [8]], // dictionary head 1 ("o/", 8 digits)
      ["smp.r000000001e", [9]], // dictionary head 0 ("smp.r", 10 digits)
      ["f/0000000a", []], // dictionary head 2 ("f/", 8 digits), an empty value
      ["ab12", [5]], // all base-36 digits: as a number (3 bytes) no shorter than plain
      ["X0001", [6]], // a head that is not a digit, 4 digits: 1 + 1 + 1 + 1 bytes against plain 5
    ]);
    const body = [
      0x24, 6, ...ascii("q/"), 0xe9, 0x02, 1, 7,
      0x18, 0x01, 1, 8,
      0x08, 0x32, 1, 9,
      0x28, 0x0a, 0,
      0x40, ...ascii("ab12"), 1, 5,
      0x14, 4, ...ascii("X"), 1, 1, 6,
    ];
    const expected = frame(FINAL, body);
    expect(bytesOf(flash, m.HEADER_BYTES, expected.length)).toEqual(expected);
    const again = m.FlashLogStore.open(flash.reboot());
    expect(again.list("")).toEqual(["X0001", "ab12", "f/0000000a", "o/00000001", "q/0000a1", "smp.r000000001e"]);
    expect(Array.from(again.get("q/0000a1") as Uint8Array)).toEqual([7]);
    expect(Array.from(again.get("smp.r000000001e") as Uint8Array)).toEqual([9]);
    expect(again.get("f/0000000a")).toEqual(new Uint8Array(0));
  });

  it("numbers a key whose width no dictionary head has, and keeps capitals plain", () => {
    const { flash, store } = fresh();
    commit(store, [
      ["o/0000001", [1]], // 7 digits: not the dictionary head's 8
      ["o/ABCDEFGH", [2]], // not base-36 lower case
    ]);
    // "o/0000001" has 7 digits, not the dictionary's 8: numbered with width 7 (5 bytes against plain 9).
    const numbered = [0x24, 7, ...ascii("o/"), 1, 1, 1];
    const plainCaps = [0xa0, ...ascii("o/ABCDEFGH"), 1, 2];
    expect(bytesOf(flash, m.HEADER_BYTES, 6 + numbered.length + plainCaps.length)).toEqual(frame(FINAL, [...numbered, ...plainCaps]));
    expect(m.FlashLogStore.open(flash.reboot()).list("o/")).toEqual(["o/0000001", "o/ABCDEFGH"]);
  });

  it("deletes consecutive numbered keys with one ranged DEL, plain keys one by one", () => {
    const { flash, store } = fresh();
    commit(store, [
      ["o/00000001", [1]],
      ["o/00000002", [2]],
      ["o/00000003", [3]],
      ["o/00000005", [5]],
      ["abc", [9]],
    ]);
    const first = frame(FINAL, [0x18, 1, 1, 1, 0x18, 2, 1, 2, 0x18, 3, 1, 3, 0x18, 5, 1, 5, 0x30, ...ascii("abc"), 1, 9]);
    commit(store, [
      ["o/00000003", null],
      ["abc", null],
      ["o/00000001", null],
      ["o/00000002", null],
      ["o/00000005", null],
      ["never", null],
    ]);
    // Plain deletes first (in staging order), then numbered runs sorted: 1..3 as one DEL of 3, then 5.
    const second = frame(FINAL, [0x32, ...ascii("abc"), 0x1a, 1, 3, 0x1a, 5, 1]);
    expect(bytesOf(flash, m.HEADER_BYTES + first.length, second.length)).toEqual(second);
    expect(m.FlashLogStore.open(flash.reboot()).list("")).toEqual([]);
  });

  it("splits a value past 512 bytes in parts: PUT with the total, then PART with its index", () => {
    const { flash, store } = fresh(4, 2048);
    const value = Array.from({ length: 600 }, (_, i) => (i * 5) & 0xff);
    commit(store, [["big", value]]);
    expect(m.PART_BYTES).toBe(512);
    const put = [0x30, ...ascii("big"), 0xd8, 0x04, ...value.slice(0, 512)];
    const part = [0x31, ...ascii("big"), 1, 0xd8, 0x04, ...value.slice(512)];
    const expected = frame(FINAL, [...put, ...part]);
    expect(bytesOf(flash, m.HEADER_BYTES, expected.length)).toEqual(expected);
    expect(Array.from(m.FlashLogStore.open(flash.reboot()).get("big") as Uint8Array)).toEqual(value);
  });

  it("a commit larger than a block's room goes out as MORE frames then a FINAL one", () => {
    const { flash, store } = fresh(6, 1024);
    const a = Array.from({ length: 500 }, (_, i) => i & 0xff);
    const b = Array.from({ length: 500 }, (_, i) => (i + 1) & 0xff);
    commit(store, [
      ["a", a],
      ["b", b],
    ]);
    const opA = [0x10, ...ascii("a"), 0xf4, 0x03, ...a];
    const opB = [0x10, ...ascii("b"), 0xf4, 0x03, ...b];
    const more = frame(MORE, opA);
    expect(bytesOf(flash, m.HEADER_BYTES, more.length)).toEqual(more);
    // The FINAL frame did not fit after it: block 1 continues the commit (CARRY) after block 0's 24 + 508 bytes.
    const next = [...header(2, 1, 0, m.HEADER_BYTES + more.length, 1), ...frame(FINAL, opB)];
    expect(bytesOf(flash, 1024, next.length)).toEqual(next);
    const again = m.FlashLogStore.open(flash.reboot());
    expect(Array.from(again.get("b") as Uint8Array)).toEqual(b);
    expect(COPY).toBe(2);
  });
});

describe("flash log boot: frames whose CRC passes but whose body no encoder writes", () => {
  /** Block 0 with a good first commit, then one crafted frame after it; opens the log on it. */
  function withFrame(kind: number, body: number[]): FlashLogStore {
    const { flash, store } = fresh();
    commit(store, [["good", [1]]]);
    const at = m.HEADER_BYTES + frame(FINAL, [0x40, ...ascii("good"), 1, 1]).length;
    flash.write(at, Uint8Array.from(frame(kind, body)));
    return m.FlashLogStore.open(flash.reboot());
  }

  it("stops at the crafted frame, keeps what came before, and writes the next commit in a new block", () => {
    const refused: Array<[string, number, number[]]> = [
      ["kind 3", 3, [0x30, ...ascii("abc"), 1, 1]],
      ["empty plain key", FINAL, [0x00, 1, 1]],
      ["unprintable key", FINAL, [0x10, 0x07, 1, 1]],
      ["key past the body", FINAL, [0x50, ...ascii("ab")]],
      ["value past the body", FINAL, [0x10, ...ascii("a"), 5, 1]],
      ["unfinished varint", FINAL, [0x10, ...ascii("a"), 0x80]],
      ["varint of nine bytes", FINAL, [0x10, ...ascii("a"), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
      ["dictionary index 3", FINAL, [0x38, 1, 1, 1]],
      ["key form 3", FINAL, [0x0c, 1, 1, 1]],
      ["numbered width 0", FINAL, [0x14, 0, ...ascii("x"), 1, 1, 1]],
      ["numbered width 11", FINAL, [0x14, 11, ...ascii("x"), 1, 1, 1]],
      ["numbered head past the body", FINAL, [0x54, 4, ...ascii("x")]],
      ["numbered key past 15 characters", FINAL, [0x64, 10, ...ascii("abcdef"), 1, 1, 1]],
      ["numbered with no width byte", FINAL, [0x14]],
      ["ranged DEL of 0", FINAL, [0x1a, 1, 0]],
      ["PART past the total", FINAL, [0x31, ...ascii("abc"), 2, 0x80, 0x08]],
      ["PART 3 of a 1040-byte value", FINAL, [0x31, ...ascii("abc"), 3, 0x90, 0x08]],
      ["PART whose bytes run past the body", FINAL, [0x31, ...ascii("abc"), 2, 0x90, 0x08, 1]],
      ["PART 1 of a 512-byte value", FINAL, [0x11, ...ascii("a"), 1, 0x80, 0x04]],
      ["DROP without its varint", FINAL, [0x03]],
      ["dictionary key whose number needs 11 digits", FINAL, [0x08, ...varint(36 ** 10), 1, 1]],
    ];
    for (const [why, kind, body] of refused) {
      const store = withFrame(kind, body);
      expect(store.list(""), why).toEqual(["good"]);
      store.put("next", Uint8Array.of(2));
      store.commit();
      expect(store.stats().used, `${why}: the sealed head is left for a new block`).toBe(2);
    }
  });

  it("takes a crafted frame that is valid: the format, not the encoder, is the rule", () => {
    const store = withFrame(FINAL, [0x10, ...ascii("z"), 2, 4, 5, 0x12, ...ascii("x")]);
    expect(store.list("")).toEqual(["good", "z"]);
    expect(Array.from(store.get("z") as Uint8Array)).toEqual([4, 5]);
    // Numbered keys at the edges of the form: width 1, width 10, head and number 15 characters together.
    const edges = withFrame(FINAL, [0x14, 1, ...ascii("x"), 5, 1, 9, 0x14, 10, ...ascii("x"), 7, 1, 9, 0x54, 10, ...ascii("abcde"), 7, 1, 9]);
    expect(edges.list("")).toEqual(["abcde0000000007", "good", "x0000000007", "x5"]);
    const deleted = withFrame(FINAL, [0x42, ...ascii("good")]);
    expect(deleted.list("")).toEqual([]);
    // A PART 0 alone is a copy of a value's first part: boot then misses part 1 and says so.
    const lostPart: StorageError = thrown(m.StorageError, () => withFrame(FINAL, [0x31, ...ascii("big"), 0, 0x90, 0x04, ...new Array<number>(512).fill(3)]));
    expect(lostPart.message).toBe('value has lost part 1 of 2: flash is damaged; erase the store (key "big")');
  });

  it("drops the ops of a MORE frame that no FINAL frame closes", () => {
    const store = withFrame(MORE, [0x10, ...ascii("z"), 1, 4]);
    expect(store.list("")).toEqual(["good"]);
  });

  it("a COPY frame takes effect at once", () => {
    const store = withFrame(COPY, [0x10, ...ascii("z"), 1, 4]);
    expect(store.list("")).toEqual(["good", "z"]);
  });
});

describe("flash log geometry and capacity", () => {
  function geometryError(byteLength: number, blockSize: number): string {
    const flash = { blockSize, byteLength, read: () => new Uint8Array(0), write: () => {}, erase: () => {} };
    const caught: StorageError = thrown(m.StorageError, () => m.FlashLogStore.open(flash));
    expect(caught.key).toBe(m.LOG_NAME);
    expect(thrown(Error, () => m.eraseFlashLog(flash)).message).toBe(caught.message);
    return caught.message;
  }

  it("takes blocks of 1 to 16 KB, a whole number of them, at least four", () => {
    expect(m.LOG_NAME).toBe("(flash log)");
    expect(m.RESERVE_BLOCKS).toBe(2);
    const blocks = (byteLength: number, blockSize: number) =>
      `flash partition of ${byteLength} bytes in blocks of ${blockSize} cannot hold the log (blocks of 1-16 KB, a whole number of them) (key "(flash log)")`;
    expect(geometryError(4 * 1023, 1023)).toBe(blocks(4092, 1023));
    expect(geometryError(4 * 16385, 16385)).toBe(blocks(65540, 16385));
    expect(geometryError(4 * 1024 + 1, 1024)).toBe(blocks(4097, 1024));
    expect(geometryError(4096, 1024.5)).toBe(blocks(4096, 1024.5));
    expect(geometryError(3 * 1024, 1024)).toBe('flash partition of 3072 bytes is too small: the log needs at least 4 blocks of 1024 (key "(flash log)")');
    expect(() => m.FlashLogStore.open(new SimNorFlash(4 * 1024, 1024))).not.toThrow();
    expect(() => m.FlashLogStore.open(new SimNorFlash(4 * 16384, 16384))).not.toThrow();
  });

  it("limits live bytes to every good block but the head and two in reserve, less a worst-case op each", () => {
    // Per block: 4096 - 24 (header) - 535 (largest op: 1 + 1 + 15 + 3 + 3 + 512) - 6 (frame header) = 3531.
    const store = m.FlashLogStore.open(new SimNorFlash(16 * 4096, 4096));
    expect(store.stats()).toEqual({
      blocks: 16, free: 16, used: 0, retired: 0, retiredBlocks: [],
      programmedBytes: 0, erases: 0, copiedBytes: 0,
      eraseCounts: new Array(16).fill(0), liveBytes: 0, liveLimit: 13 * 3531,
    });
    expect(store.capacityBytes()).toBe(Math.floor((13 * 3531 * 4) / 5));
    store.put("abc", Uint8Array.of(1, 2, 3));
    store.commit();
    // Live: op head 1 + key 3 + varint 1 + 3 bytes; programmed: the header and the frame.
    expect(store.stats()).toMatchObject({ free: 15, used: 1, liveBytes: 8, programmedBytes: 24 + 6 + 8 });
    expect(m.FlashLogStore.open(new SimNorFlash(4 * 1024, 1024)).stats().liveLimit).toBe(1 * (1024 - 24 - 535 - 6));
  });

  it("refuses a commit past the limit with StoreFullError saying the figures", () => {
    const store = m.FlashLogStore.open(new SimNorFlash(4 * 1024, 1024));
    // liveLimit 459: a value of 452 bytes under a 1-byte key stores 1 + 1 + 2 + 452 = 456.
    store.put("a", new Uint8Array(452));
    store.commit();
    store.put("b", new Uint8Array(1));
    expect(thrown(m.StoreFullError, () => store.commit()).message).toBe("flash log full: 456 bytes live, a commit of 4 bytes would pass the limit of 459; delete older entries first");
    store.delete("b");
    store.put("a", new Uint8Array(453)); // replaces itself: 457 live after, within the limit
    store.commit();
    expect(store.stats().liveBytes).toBe(457);
  });

  it("m.openFlashLogOrReset passes on errors that are not about the log", () => {
    const flash = new SimNorFlash(4 * 1024, 1024);
    const failing = Object.assign(Object.create(flash) as SimNorFlash, {
      read(): Uint8Array {
        throw new TypeError("driver bug");
      },
    });
    expect(() => m.openFlashLogOrReset(failing, () => {})).toThrow(TypeError);
  });
});
