// ESP32 adapter: the flash log's NOR partition is the data partition "xsmqtt" of partitions/flashlog-4mb.csv, through
// the SDK's `flash` module (esp_partition_read/write/erase_range: byte-granular programs, 4 KB erase blocks).
import Flash from "flash";
import type { NorFlash } from "../../../ports";

/** Partition name in partitions/flashlog-4mb.csv (type data, subtype 0x99; not "xs", which mcconfig keeps for mods). */
export const PARTITION_NAME = "xsmqtt";

class FlashPartition implements NorFlash {
  readonly blockSize: number;
  readonly byteLength: number;
  constructor(private readonly flash: Flash) {
    this.blockSize = flash.blockSize;
    this.byteLength = flash.byteLength;
  }
  read(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.flash.read(offset, length));
  }
  write(offset: number, bytes: Uint8Array): void {
    this.flash.write(offset, bytes.length, bytes);
  }
  erase(block: number): void {
    this.flash.erase(block);
  }
}

/** The log's partition; throws (SDK "can't find partition") when the build did not use our partitions file. */
export function openPartition(): NorFlash {
  return new FlashPartition(new Flash(PARTITION_NAME));
}

/** Where the log lives, for the boot message. */
export const PARTITION_DESCRIPTION = `flash partition "${PARTITION_NAME}"`;
