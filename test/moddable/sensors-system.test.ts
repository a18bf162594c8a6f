// The Moddable sensor adapter (ECMA-419 drivers through `modules`, retried when absent or failing), the system probes
// (free heap through `instrumentation`, device id from the MAC through `net`) and the move of an earlier firmware's NVS
// session store into the flash log, against the SDK fakes (the log on the fake `flash` partition).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import type { Board, BoardSensor } from "../../src/boards/schema";
import { CONFIG_DEFAULTS } from "../../src/config/defaults";
import type { StorageError } from "../../src/errors";
import { openPartition } from "../../src/platform/moddable/esp32/partition";
import { migratePreferenceStore } from "../../src/platform/moddable/preference-store";
import { createModdableSensor } from "../../src/platform/moddable/sensors";
import { defaultDeviceId, freeHeapBytes } from "../../src/platform/moddable/system";
import type { Logger } from "../../src/ports";
import { openFlashLogOrReset } from "../../src/store/flash-log";
import { openVerifiedOrReset } from "../../src/store/journaled-store";
import { PreferenceBackend } from "../../src/store/preference-backend";
import Preference from "./fakes/preference";
import { LOG_PARTITION, resetSdk, sdk } from "./fakes/sdk";

const NODEMCU = JSON.parse(readFileSync(join(import.meta.dirname, "../../boards/esp32/nodemcu.json"), "utf8")) as Board;
const SHT3X: BoardSensor = { id: "env", driver: "sht3x", bus: "i2c", address: 0x44, channels: [] };

function logger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`) };
}

describe("Moddable sensors", () => {
  beforeEach(() => {
    resetSdk();
  });

  it("opens the ECMA-419 driver on the board's I2C pins and address, and samples it", () => {
    const opened: Array<Record<string, unknown>> = [];
    class I2C {}
    sdk().modules.set("embedded:io/i2c", I2C);
    sdk().modules.set("embedded:sensor/Humidity-Temperature/SHT3x", class {
      constructor(options: { sensor: Record<string, unknown> }) {
        opened.push(options.sensor);
      }
      sample() {
        return { thermometer: { temperature: 21.5 }, hygrometer: { humidity: 40 } };
      }
    });
    const sensor = createModdableSensor(SHT3X, NODEMCU, CONFIG_DEFAULTS, 1, logger());
    expect(opened).toEqual([{ io: I2C, data: NODEMCU.pins.i2c_sda, clock: NODEMCU.pins.i2c_scl, address: 0x44 }]);
    expect(sensor.sample()).toEqual({ thermometer: { temperature: 21.5 }, hygrometer: { humidity: 40 } });
  });

  it("a driver missing from the build reads as no data, names the manifest to fix, once; it works once it appears", () => {
    const log = logger();
    const sensor = createModdableSensor(SHT3X, NODEMCU, CONFIG_DEFAULTS, 1, log);
    expect(sensor.sample()).toBeUndefined();
    expect(sensor.sample()).toBeUndefined();
    expect(log.lines).toEqual([
      'warn sensor env (sht3x): module "embedded:sensor/Humidity-Temperature/SHT3x" is not in this build (driver sht3x): add its manifest to this board\'s platforms entry in manifest.json',
    ]);
    sdk().modules.set("embedded:io/i2c", class {});
    sdk().modules.set("embedded:sensor/Humidity-Temperature/SHT3x", class {
      sample() {
        return { thermometer: { temperature: 1 } };
      }
    });
    expect(sensor.sample()).toEqual({ thermometer: { temperature: 1 } });
    expect(log.lines.at(-1)).toBe("info sensor env (sht3x): working again");
  });

  it("a driver that throws from sample() is closed and reopened at the next sample", () => {
    const log = logger();
    let opens = 0;
    let closes = 0;
    sdk().modules.set("embedded:io/i2c", class {});
    sdk().modules.set("embedded:sensor/Humidity-Temperature/SHT3x", class {
      readonly n = ++opens;
      sample() {
        if (this.n === 1) throw new Error("I2C NACK");
        return { thermometer: { temperature: 2 } };
      }
      close() {
        closes++;
      }
    });
    const sensor = createModdableSensor(SHT3X, NODEMCU, CONFIG_DEFAULTS, 1, log);
    expect(sensor.sample()).toBeUndefined();
    expect(closes).toBe(1);
    expect(sensor.sample()).toEqual({ thermometer: { temperature: 2 } });
    expect(opens).toBe(2);
    expect(log.lines).toEqual(["warn sensor env (sht3x): I2C NACK", "info sensor env (sht3x): working again"]);
  });

  it("a simulated sensor on the desktop board needs no module", () => {
    const sensor = createModdableSensor({ id: "env", driver: "bme68x", bus: "sim", channels: [] }, NODEMCU, CONFIG_DEFAULTS, 1);
    expect(sensor.sample()).toMatchObject({ thermometer: { temperature: expect.any(Number) } });
  });
});

describe("Moddable system probes", () => {
  beforeEach(() => {
    resetSdk();
  });

  it("free heap from instrumentation, or undefined where the build has none or reports 0", () => {
    expect(freeHeapBytes()).toBeUndefined();
    sdk().instrumentation.set("System Free Memory", { index: 3, value: 123_456 });
    expect(freeHeapBytes()).toBe(123_456);
    sdk().instrumentation.set("System Free Memory", { index: 3, value: 0 });
    expect(freeHeapBytes()).toBeUndefined();
  });

  it("device id: the MAC as 12 lowercase hex digits, or the fallback where there is none or Net.get throws", () => {
    expect(defaultDeviceId("mcsim")).toBe("mcsim");
    sdk().net.MAC = "A4:D1:8C:DB:C0:20";
    expect(defaultDeviceId("mcsim")).toBe("a4d18cdbc020");
    sdk().netThrows.add("MAC");
    expect(defaultDeviceId("mcsim")).toBe("mcsim");
  });
});

describe("Moddable session store: the NVS store of an earlier firmware moved into the flash log", () => {
  beforeEach(() => {
    resetSdk();
  });

  const noReset = (error: StorageError) => {
    throw new Error(`not corrupt, yet reset: ${error.message}`);
  };
  /** The flash log on the fake `flash` partition, opened as the firmware opens it. */
  const openLog = () => openFlashLogOrReset(openPartition(), noReset);
  /** What firmware before the flash log left in NVS: a journaled store in preference domain "mqtt". */
  function oldNvsStore(values: Record<string, number[]>): void {
    const old = openVerifiedOrReset(new PreferenceBackend(Preference, "mqtt"), noReset);
    for (const [key, bytes] of Object.entries(values)) old.put(key, Uint8Array.from(bytes));
    old.commit();
  }

  it("moves every value into the log in one commit, erases the NVS domain, and does it once", () => {
    oldNvsStore({ "m/1": [1, 2, 3], "s/next": [0, 7] });
    expect(sdk().preferences.get("mqtt")?.size ?? 0).toBeGreaterThan(0);
    const log = openLog();
    expect(migratePreferenceStore("mqtt", log, noReset)).toBe(2);
    expect(sdk().preferences.get("mqtt")?.size ?? 0).toBe(0);
    // After a reboot the values are read from flash, and there is nothing left to move.
    const again = openLog();
    expect(again.get("m/1")).toEqual(new Uint8Array([1, 2, 3]));
    expect(again.get("s/next")).toEqual(new Uint8Array([0, 7]));
    expect(migratePreferenceStore("mqtt", again, noReset)).toBe(0);
    expect(again.list("").sort()).toEqual(["m/1", "s/next"]);
  });

  it("a log that already holds the session (a cut after the move's commit) keeps it: the NVS copy is only erased", () => {
    oldNvsStore({ "m/1": [9, 9] });
    const log = openLog();
    log.put("m/1", new Uint8Array([1]));
    log.commit();
    expect(migratePreferenceStore("mqtt", log, noReset)).toBe(0);
    expect(log.get("m/1")).toEqual(new Uint8Array([1]));
    expect(sdk().preferences.get("mqtt")?.size ?? 0).toBe(0);
  });

  it("no NVS store: nothing moved, the log untouched", () => {
    const log = openLog();
    expect(migratePreferenceStore("mqtt", log, noReset)).toBe(0);
    expect(log.list("")).toEqual([]);
    expect(sdk().flash.get(LOG_PARTITION)?.programmedBytes.every((n) => n === 0)).toBe(true);
  });

  it("a corrupt NVS store is reported with the StorageError, nothing moved, the domain erased", () => {
    sdk().preferences.set("mqtt", new Map<string, string | boolean | number | ArrayBuffer>([["m/1", new Uint8Array(12).fill(7).buffer]]));
    const errors: string[] = [];
    const log = openLog();
    expect(migratePreferenceStore("mqtt", log, (error) => errors.push(`${error.name}: ${error.message}`))).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^StorageError: /);
    expect(log.list("")).toEqual([]);
    expect(sdk().preferences.get("mqtt")?.size ?? 0).toBe(0);
  });
});
