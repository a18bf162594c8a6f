// The Moddable sensor adapter (ECMA-419 drivers through `modules`, retried when absent or failing), the system probes
// (free heap through `instrumentation`, device id from the MAC through `net`) and the preference-backed session store,
// against the SDK fakes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import type { Board, BoardSensor } from "../../src/boards/schema";
import { CONFIG_DEFAULTS } from "../../src/config/defaults";
import { openSessionStore } from "../../src/platform/moddable/preference-store";
import { createModdableSensor } from "../../src/platform/moddable/sensors";
import { defaultDeviceId, freeHeapBytes } from "../../src/platform/moddable/system";
import type { Logger } from "../../src/ports";
import { resetSdk, sdk } from "./fakes/sdk";

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

describe("Moddable session store (preference)", () => {
  beforeEach(() => {
    resetSdk();
  });

  it("commits through the preference domain and reads back after a reboot", () => {
    const store = openSessionStore("mqtt", () => {
      throw new Error("not corrupt");
    });
    store.put("m/1", new Uint8Array([1, 2, 3]));
    store.commit();
    expect(sdk().preferences.get("mqtt")?.has("m/1")).toBe(true);
    const again = openSessionStore("mqtt", () => {
      throw new Error("not corrupt");
    });
    expect(again.get("m/1")).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("a corrupt item is reported with the StorageError, the domain erased, the store empty", () => {
    sdk().preferences.set("mqtt", new Map<string, string | boolean | number | ArrayBuffer>([["m/1", new Uint8Array(12).fill(7).buffer]]));
    const errors: string[] = [];
    const store = openSessionStore("mqtt", (error) => errors.push(`${error.name}: ${error.message}`));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^StorageError: /);
    expect(store.list("")).toEqual([]);
    expect(sdk().preferences.get("mqtt")?.size ?? 0).toBe(0);
  });
});
