// The mcsim (lin) flash adapter (src/platform/moddable/lin/partition.ts) over the fake `file` module
// (test/moddable/fakes/file.ts, written from lin/modFile.c): the NOR image is a file under config.file.root, made at
// 256 KB of 0xFF when missing, finished with blank blocks when cut short, used as it is when longer; programs only
// clear bits (a program that would set one is refused whole, the file untouched); an erase blanks one 4 KB block;
// the flash log runs over it and finds its data after a reboot.
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { NorFlash } from "../../src/ports";
import { FlashLogStore } from "../../src/store/flash-log";
import { resetSdk, sdk } from "./fakes/sdk";

const IMAGE_BYTES = 256 * 1024;
const BLOCK = 4096;
const ROOT = "/build/prefs/";
const IMAGE = `${ROOT}xs-mqtt-flash.img`;

/** Imports the adapter as a boot would (it reads mc/config when loaded), on the fakes' current file system. */
async function boot(config: Record<string, unknown> = { file: { root: ROOT } }): Promise<{ flash: NorFlash; description: string }> {
  sdk().config = config;
  vi.resetModules();
  const partition = await import("../../src/platform/moddable/lin/partition");
  return { flash: partition.openPartition(), description: partition.PARTITION_DESCRIPTION };
}

function image(path = IMAGE): Uint8Array {
  const bytes = sdk().files.get(path);
  if (bytes === undefined) throw new Error(`no file ${path}`);
  return bytes;
}

const blank = (bytes: Uint8Array) => bytes.every((b) => b === 0xff);

describe("mcsim flash image (lin partition over the `file` module)", () => {
  beforeEach(() => {
    resetSdk();
  });

  it("makes a missing image under config.file.root: 256 KB of erased (0xFF) flash in 4 KB blocks", async () => {
    const { flash, description } = await boot();
    expect(description).toBe(`flash image ${IMAGE}`);
    expect(sdk().fileOpens).toEqual([`rw ${IMAGE}`]);
    expect(flash.byteLength).toBe(IMAGE_BYTES);
    expect(flash.blockSize).toBe(BLOCK);
    expect(image().length).toBe(IMAGE_BYTES);
    expect(blank(image())).toBe(true);
    expect(blank(flash.read(IMAGE_BYTES - 16, 16))).toBe(true);
  });

  it("without config.file.root the image goes to /tmp/", async () => {
    const { description } = await boot({});
    expect(description).toBe("flash image /tmp/xs-mqtt-flash.img");
    expect(image("/tmp/xs-mqtt-flash.img").length).toBe(IMAGE_BYTES);
  });

  it("programs only clear bits: a program that would set one is refused whole and the file is left as it was", async () => {
    const { flash } = await boot();
    flash.write(BLOCK + 10, new Uint8Array([0x0f, 0xf0, 0x55]));
    expect(flash.read(BLOCK + 9, 5)).toEqual(new Uint8Array([0xff, 0x0f, 0xf0, 0x55, 0xff]));
    // Clearing more bits of programmed bytes is a legal program.
    flash.write(BLOCK + 10, new Uint8Array([0x0e, 0x80]));
    expect(flash.read(BLOCK + 10, 3)).toEqual(new Uint8Array([0x0e, 0x80, 0x55]));
    const before = image().slice();
    // The first byte is fine (0xff -> 0x00 at BLOCK + 9), the second would set bit 4 of 0x0e: nothing is written.
    expect(() => flash.write(BLOCK + 9, new Uint8Array([0x00, 0x1e]))).toThrow(`flash image: a program at byte ${BLOCK + 11 - 1} would set bits (NOR flash cannot)`);
    expect(image()).toEqual(before);
    // A view into a larger buffer programs only its own bytes.
    const backing = new Uint8Array([1, 2, 3, 4]);
    flash.write(0, backing.subarray(1, 3));
    expect(flash.read(0, 3)).toEqual(new Uint8Array([2, 3, 0xff]));
  });

  it("an erase blanks exactly one block; its bytes can then be programmed again", async () => {
    const { flash } = await boot();
    for (const block of [0, 1, 2]) flash.write(block * BLOCK, new Uint8Array(BLOCK).fill(block));
    flash.erase(1);
    expect(blank(flash.read(BLOCK, BLOCK))).toBe(true);
    expect(flash.read(0, BLOCK).every((b) => b === 0)).toBe(true);
    expect(flash.read(2 * BLOCK, BLOCK).every((b) => b === 2)).toBe(true);
    flash.write(BLOCK + 5, new Uint8Array([0x42]));
    expect(flash.read(BLOCK + 5, 1)).toEqual(new Uint8Array([0x42]));
    expect(image().length).toBe(IMAGE_BYTES);
  });

  it("keeps the image across a reboot: nothing rewritten, the bytes are there", async () => {
    const first = await boot();
    first.flash.write(77, new Uint8Array([0x12, 0x34]));
    const kept = image();
    const second = await boot();
    expect(image()).toBe(kept); // the same bytes object: nothing was written at open
    expect(second.flash.read(76, 4)).toEqual(new Uint8Array([0xff, 0x12, 0x34, 0xff]));
  });

  it("an image cut short while it was made is finished with blank blocks; whole blocks before the cut are kept", async () => {
    const short = new Uint8Array(2 * BLOCK + 1000).fill(0x00);
    sdk().files.set(IMAGE, short);
    const { flash } = await boot();
    expect(image().length).toBe(IMAGE_BYTES);
    expect(flash.read(0, 2 * BLOCK).every((b) => b === 0)).toBe(true);
    // The block the cut fell in is rewritten blank as a whole (it was being written blank when power went).
    expect(blank(flash.read(2 * BLOCK, IMAGE_BYTES - 2 * BLOCK))).toBe(true);
  });

  it("an image longer than 256 KB (another build's) is used as it is: its first 256 KB, the rest untouched", async () => {
    const long = new Uint8Array(IMAGE_BYTES + 3 * BLOCK).fill(0xff);
    long[5] = 0x00;
    long[IMAGE_BYTES + 1] = 0x00;
    sdk().files.set(IMAGE, long);
    const { flash } = await boot();
    expect(flash.byteLength).toBe(IMAGE_BYTES);
    expect(image()).toBe(long);
    expect(image().length).toBe(IMAGE_BYTES + 3 * BLOCK);
    expect(flash.read(4, 2)).toEqual(new Uint8Array([0xff, 0x00]));
    flash.erase(0);
    expect(image()[IMAGE_BYTES + 1]).toBe(0x00);
  });

  it("a disk that cannot take the image makes opening fail with the file system's error (the platform retries)", async () => {
    sdk().fileWriteError = "file write failed";
    await expect(boot()).rejects.toThrow("file write failed");
  });

  it("carries the flash log: what it committed is there after a reboot", async () => {
    const first = await boot();
    const log = FlashLogStore.open(first.flash);
    log.put("session/1", new Uint8Array([1, 2, 3]));
    log.put("session/2", new Uint8Array(3000).fill(9));
    log.commit();
    const second = await boot();
    const again = FlashLogStore.open(second.flash);
    expect(again.get("session/1")).toEqual(new Uint8Array([1, 2, 3]));
    expect(again.get("session/2")).toEqual(new Uint8Array(3000).fill(9));
  });
});
