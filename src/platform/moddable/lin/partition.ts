// mcsim (lin) adapter: lin has no `flash` module, so the same flash log runs over a NOR image emulated in a file with
// the SDK's `file` module, with the NOR rules enforced (a program only clears bits; erase sets a block to 0xFF).
import config from "mc/config";
import { File } from "file";
import type { NorFlash } from "../../../ports";

const IMAGE_NAME = "xs-mqtt-flash.img";
/** Same geometry as the ESP32 partition (partitions/flashlog-4mb.csv): 256 KB in 4 KB blocks. */
const IMAGE_BYTES = 256 * 1024;
const BLOCK_BYTES = 4096;

function imagePath(): string {
  const file = (config as { file?: { root?: unknown } }).file;
  return (typeof file?.root === "string" ? file.root : "/tmp/") + IMAGE_NAME;
}

class FileImageFlash implements NorFlash {
  readonly blockSize = BLOCK_BYTES;
  readonly byteLength = IMAGE_BYTES;
  private readonly file: File;

  constructor(path: string) {
    this.file = new File(path, true);
    // A new image is an erased chip; one cut short while it was made is finished with blank blocks.
    const blank = new Uint8Array(BLOCK_BYTES).fill(0xff);
    for (let at = Math.floor(this.file.length / BLOCK_BYTES) * BLOCK_BYTES; at < IMAGE_BYTES; at += BLOCK_BYTES) {
      this.file.position = at;
      this.file.write(blank.buffer);
    }
  }

  read(offset: number, length: number): Uint8Array {
    this.file.position = offset;
    return new Uint8Array(this.file.read(ArrayBuffer, length));
  }

  write(offset: number, bytes: Uint8Array): void {
    const old = this.read(offset, bytes.length);
    for (let i = 0; i < bytes.length; i++) {
      if ((old[i] & bytes[i]) !== bytes[i]) throw new Error(`flash image: a program at byte ${offset + i} would set bits (NOR flash cannot)`);
      old[i] &= bytes[i];
    }
    this.file.position = offset;
    this.file.write(old.buffer as ArrayBuffer);
  }

  erase(block: number): void {
    this.file.position = block * BLOCK_BYTES;
    this.file.write(new Uint8Array(BLOCK_BYTES).fill(0xff).buffer);
  }
}

export function openPartition(): NorFlash {
  return new FileImageFlash(imagePath());
}

export const PARTITION_DESCRIPTION = `flash image ${imagePath()}`;
