// The queue's byte limit follows the store's real capacity (issue 10 #8): offline on a 24 KB NVS, the firmware must
// keep sampling for days without the store ever failing a write, dropping the oldest readings by the drop policy, counted.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Firmware } from "../../src/app/firmware";
import { encode, PacketDecoder } from "../../src/mqtt/codec";
import { PacketType } from "../../src/mqtt/constants";
import type { ClientEvents } from "../../src/mqtt/client-api";
import { MESSAGE_STORE_OVERHEAD } from "../../src/mqtt/session";
import type { Transport, TransportHandlers } from "../../src/ports";
import { createSimulatedSensor } from "../../src/sensors/simulated";
import { JournaledStore } from "../../src/store/journaled-store";
import type { SessionStore } from "../../src/store/session-store";
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

/** A link that fails at once, as with the broker out of reach. */
function unreachable(handlers: TransportHandlers): Transport {
  queueMicrotask(() => handlers.onClose(new Error("no route to host")));
  return { write: () => 0, close: () => {} };
}

/** A broker that accepts everything: CONNACK, SUBACK granting QoS 1, PUBACK for each QoS 1 PUBLISH (counted). */
function acceptingBroker(handlers: TransportHandlers, onPuback: () => void): Transport {
  const decoder = new PacketDecoder({ maxPacketSize: 1 << 20 });
  const answer = (bytes: Uint8Array) => queueMicrotask(() => handlers.onData(bytes));
  queueMicrotask(() => handlers.onConnect());
  return {
    write: (bytes) => {
      decoder.push(bytes, (packet) => {
        if (packet.type === PacketType.CONNECT) answer(encode({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 }));
        if (packet.type === PacketType.SUBSCRIBE) answer(encode({ type: PacketType.SUBACK, packetId: packet.packetId, granted: [1] }));
        if (packet.type === PacketType.PUBLISH && packet.qos === 1) {
          onPuback();
          answer(encode({ type: PacketType.PUBACK, packetId: packet.packetId ?? 0 }));
        }
      });
      return bytes.length;
    },
    close: () => {},
  };
}

/** The firmware sampling every 10 s with no deadband, on `store`, reaching the broker through `transport`. */
function firmwareOn(store: SessionStore, clock: FakeClock, warnings: string[], transport: (handlers: TransportHandlers) => Transport, health_s: string, events?: ClientEvents): Firmware {
  return new Firmware(
    { config: { device_id: "d1", interval_ms: "10000", deadband: "0", heartbeat_s: "0", health_s, presync_max: "0", batch_window_ms: "60000" }, board: EVERY_SAMPLE, boardFile: "boards/lin.json" },
    {
      clock,
      store,
      defaultDeviceId: "d1",
      logger: { info: () => {}, warn: (m) => warnings.push(m) },
      createSensor: (spec, _b, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
      transport,
      random: () => 0.5,
      // Telemetry stored inside its queued message, as on NVS before the flash log: the client's queue is what fills the store.
      telemetryFromRecords: false,
    },
    events,
  );
}

describe("offline on a 24 KB NVS (the issue: full in 1.25 h, then every timer threw)", () => {
  it("6 h offline, deadband 0, 10 s interval: no write ever fails, the queue stays within its share, drops are counted", () => {
    const prefs = new NvsSpaceModel(DEFAULT_NVS_PARTITION_BYTES);
    const store = JournaledStore.open(new PreferenceBackend(prefs, "mqtt"));
    const clock = new FakeClock();
    const warnings: string[] = [];
    const firmware = firmwareOn(store, clock, warnings, unreachable, "300");
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
    const transport = (handlers: TransportHandlers) => (online ? acceptingBroker(handlers, () => acked++) : unreachable(handlers));
    const firmware = firmwareOn(store, clock, warnings, transport, "0", { onError: (e) => errors.push(e.message) });
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
