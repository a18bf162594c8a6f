// The ESP32 partition adapter (src/platform/moddable/esp32/partition.ts) over the fake `flash` module: the log's
// partition by name, byte-granular programs that only clear bits, 4 KB block erases, and the SDK's error when the
// build's partition table has no "xsmqtt".
import { beforeEach, describe, expect, it } from "vitest";
import { openPartition, PARTITION_DESCRIPTION } from "../../src/platform/moddable/esp32/partition";
import { NorRuleError } from "../store/nor-flash";
import { LOG_PARTITION, LOG_PARTITION_BYTES, resetSdk, sdk } from "./fakes/sdk";

describe("ESP32 flash partition adapter", () => {
  beforeEach(() => {
    resetSdk();
  });

  it("opens the partition named in partitions/flashlog-4mb.csv with its geometry", () => {
    const flash = openPartition();
    expect(flash.byteLength).toBe(LOG_PARTITION_BYTES);
    expect(flash.blockSize).toBe(4096);
    expect(PARTITION_DESCRIPTION).toBe('flash partition "xsmqtt"');
  });

  it("programs bytes at an offset, reads them back, erases a block to 0xFF", () => {
    const flash = openPartition();
    flash.write(4096 + 10, new Uint8Array([0x12, 0x34, 0x56]));
    expect(flash.read(4096 + 9, 5)).toEqual(new Uint8Array([0xff, 0x12, 0x34, 0x56, 0xff]));
    // A view into a larger buffer: only its own bytes are written.
    const backing = new Uint8Array([1, 2, 3, 4]);
    flash.write(0, backing.subarray(1, 3));
    expect(flash.read(0, 3)).toEqual(new Uint8Array([2, 3, 0xff]));
    flash.erase(1);
    expect(flash.read(4096, 4096).every((b) => b === 0xff)).toBe(true);
    expect(flash.read(0, 2)).toEqual(new Uint8Array([2, 3]));
    expect(sdk().flash.get(LOG_PARTITION)?.erases[1]).toBe(1);
  });

  it("a program that would set a bit is refused (NOR flash only clears bits; an erase sets them)", () => {
    const flash = openPartition();
    flash.write(0, new Uint8Array([0x0f]));
    expect(() => flash.write(0, new Uint8Array([0xf0]))).toThrow(NorRuleError);
    flash.write(0, new Uint8Array([0x03]));
    expect(flash.read(0, 1)).toEqual(new Uint8Array([0x03]));
  });

  it("a build whose partition table has no log partition: the SDK's error", () => {
    sdk().flash.delete(LOG_PARTITION);
    expect(() => openPartition()).toThrow("can't find partition");
  });
});
