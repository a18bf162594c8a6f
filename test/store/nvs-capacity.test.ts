// The queue's byte limit follows the store's real capacity (issue 10 #8): offline on a 24 KB NVS, the firmware must
// keep sampling for days without the store ever failing a write, dropping the oldest readings by the drop policy, counted.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Firmware } from "../../src/app/firmware";
import { MESSAGE_STORE_OVERHEAD } from "../../src/mqtt/session";
import { createSimulatedSensor } from "../../src/sensors/simulated";
import { JournaledStore } from "../../src/store/journaled-store";
import { DEFAULT_NVS_PARTITION_BYTES, PreferenceBackend, nvsCapacityBytes } from "../../src/store/preference-backend";
import { FakeClock } from "../support/fake-clock";
import { NvsSpaceModel } from "../support/nvs-space-model";
import { FakePreference } from "./fakes";

const board = JSON.parse(readFileSync(join(__dirname, "..", "..", "boards", "lin.json"), "utf8")) as unknown;
const EVERY_SAMPLE = JSON.parse(JSON.stringify(board), (key, value: unknown) => (key === "deadband" ? undefined : value)) as unknown;

describe("PreferenceBackend.capacityBytes", () => {
  it("is every NVS page but the GC page and one for ESP-IDF's own data: 16,128 bytes of entries on the default 24 KB partition", () => {
    expect(DEFAULT_NVS_PARTITION_BYTES).toBe(24 * 1024);
    expect(nvsCapacityBytes(DEFAULT_NVS_PARTITION_BYTES)).toBe(4 * 126 * 32);
    const store = JournaledStore.open(new PreferenceBackend(new FakePreference(), "mqtt"));
    expect(store.capacityBytes()).toBe(16_128);
    expect(JournaledStore.open(new PreferenceBackend(new FakePreference(), "mqtt", 4000, 0x10000)).capacityBytes()).toBe(14 * 126 * 32);
    expect(() => new PreferenceBackend(new FakePreference(), "mqtt", 4000, 100)).toThrow(RangeError);
  });
});

describe("offline on a 24 KB NVS (the issue: full in 1.25 h, then every timer threw)", () => {
  it("6 h offline, deadband 0, 10 s interval: no write ever fails, the queue stays within its share, drops are counted", () => {
    const prefs = new NvsSpaceModel(DEFAULT_NVS_PARTITION_BYTES);
    const store = JournaledStore.open(new PreferenceBackend(prefs, "mqtt"));
    const clock = new FakeClock();
    const warnings: string[] = [];
    const firmware = new Firmware(
      { config: { device_id: "d1", interval_ms: "10000", deadband: "0", heartbeat_s: "0", health_s: "300", presync_max: "0", batch_window_ms: "60000" }, board: EVERY_SAMPLE, boardFile: "boards/lin.json" },
      {
        clock,
        store,
        defaultDeviceId: "d1",
        logger: { info: () => {}, warn: (m) => warnings.push(m) },
        createSensor: (spec, _b, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
        transport: (handlers) => {
          queueMicrotask(() => handlers.onClose(new Error("no route to host")));
          return { write: () => 0, close: () => {} };
        },
        random: () => 0.5,
      },
    );
    firmware.start();
    for (let t = 0; t < 6 * 3600; t += 10) clock.advance(10_000); // throws if any timer throws
    const stats = firmware.client.queueStats();
    const budget = Math.floor(16_128 / 2);
    expect(stats.bytes + stats.depth * MESSAGE_STORE_OVERHEAD).toBeLessThanOrEqual(budget);
    expect(stats.depth).toBeGreaterThan(10);
    expect(firmware.client.counters.dropped).toBeGreaterThan(0); // the oldest went, counted
    expect(prefs.peak).toBeLessThan(prefs.limit);
    expect(firmware.device.sampler.stats().nextSeq).toBe(6 * 360 + 1);
    expect(warnings.filter((w) => /store|nvs/i.test(w))).toEqual([]);
  });
});

describe("a store write that fails anyway (a capacity that lied, flash worn out): counted drops, never a throw", () => {
  it("NVS model of 24 KB behind a backend told 64 KB: 6 h offline, then online: timers never throw, the oldest go, counted; the rest is delivered", () => {
    const prefs = new NvsSpaceModel(DEFAULT_NVS_PARTITION_BYTES);
    const store = JournaledStore.open(new PreferenceBackend(prefs, "mqtt", 4000, 0x10000));
    const clock = new FakeClock();
    const warnings: string[] = [];
    let online = false;
    let acked = 0;
    const errors: string[] = [];
    const firmware = new Firmware(
      { config: { device_id: "d1", interval_ms: "10000", deadband: "0", heartbeat_s: "0", health_s: "0", presync_max: "0", batch_window_ms: "60000" }, board: EVERY_SAMPLE, boardFile: "boards/lin.json" },
      {
        clock,
        store,
        defaultDeviceId: "d1",
        logger: { info: () => {}, warn: (m) => warnings.push(m) },
        createSensor: (spec, _b, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
        transport: (handlers) => {
          if (!online) {
            queueMicrotask(() => handlers.onClose(new Error("no route to host")));
            return { write: () => 0, close: () => {} };
          }
          // A broker that accepts everything: CONNACK, SUBACK, PUBACK (packets parsed just enough).
          let buffer: number[] = [];
          queueMicrotask(() => handlers.onConnect());
          return {
            write: (bytes) => {
              buffer = buffer.concat(Array.from(bytes));
              for (;;) {
                if (buffer.length < 2) break;
                let length = 0;
                let mul = 1;
                let i = 1;
                for (; i < 5; i++) {
                  length += (buffer[i] & 0x7f) * mul;
                  mul *= 128;
                  if ((buffer[i] & 0x80) === 0) break;
                }
                const total = i + 1 + length;
                if (buffer.length < total) break;
                const packet = buffer.slice(0, total);
                buffer = buffer.slice(total);
                const type = packet[0] >> 4;
                const body = packet.slice(i + 1);
                queueMicrotask(() => {
                  if (type === 1) handlers.onData(Uint8Array.of(0x20, 2, 0, 0));
                  if (type === 8) handlers.onData(Uint8Array.of(0x90, 3, body[0], body[1], 1));
                  if (type === 3 && ((packet[0] >> 1) & 3) === 1) {
                    const topicLength = (body[0] << 8) | body[1];
                    acked++;
                    handlers.onData(Uint8Array.of(0x40, 2, body[2 + topicLength], body[3 + topicLength]));
                  }
                });
              }
              return bytes.length;
            },
            close: () => {},
          };
        },
        random: () => 0.5,
      },
      { onError: (e) => errors.push(e.message) },
    );
    firmware.start();
    const run = async (ms: number) => {
      for (let t = 0; t < ms; t += 1000) {
        clock.advance(1000);
        await Promise.resolve();
        await Promise.resolve();
      }
    };
    return (async () => {
      await run(6 * 3600_000); // would throw "store unusable after a failed commit" from a timer without the recovery
      expect(firmware.client.counters.storeFailures).toBeGreaterThan(0);
      expect(firmware.client.counters.dropped).toBeGreaterThan(0);
      expect(errors.some((e) => /^store write failed \(nvs set fail\); the oldest queued messages are dropped/.test(e))).toBe(true);
      expect(firmware.device.sampler.stats().sensors[Object.keys(firmware.device.sampler.stats().sensors)[0]].reads).toBe(6 * 360 + 1);
      online = true;
      await run(15 * 60_000);
      expect(firmware.client.state).toBe("connected");
      expect(firmware.client.queueStats().depth).toBe(0);
      expect(acked).toBeGreaterThan(10);
      expect(prefs.used).toBeLessThan(prefs.limit);
    })();
  }, 120_000);
});
