// The composed firmware (real client + device + simulated sensors) against a scripted broker: birth, telemetry,
// commands, offline queueing, clean stop with an "offline" status.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Firmware } from "../../src/app/firmware";
import { PacketType } from "../../src/mqtt/constants";
import type { PublishPacket } from "../../src/mqtt/packets";
import { decodeTelemetry } from "../../src/sampler/payload";
import { RECORD_PREFIX } from "../../src/sampler/persist";
import { createSimulatedSensor } from "../../src/sensors/simulated";
import { MemoryStore } from "../../src/store/memory-store";
import { FakeClock } from "../support/fake-clock";
import { ScriptedBroker } from "../support/scripted-broker";

const P = PacketType;
const BOARD_FILE = "boards/lin.json";
const board = JSON.parse(readFileSync(join(__dirname, "..", "..", BOARD_FILE), "utf8"));
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function boot(config: Record<string, unknown>, flash = new Map<string, Uint8Array>(), clock = new FakeClock(), broker = new ScriptedBroker()) {
  const firmware = new Firmware(
    { config: { device_id: "sim-1", prefix: "t", health_s: "0", interval_ms: "1000", batch_max: "5", batch_window_ms: "0", mqtt_qos: "1", ...config }, board, boardFile: BOARD_FILE },
    {
      clock,
      store: new MemoryStore(flash),
      wallClock: () => 1_700_000_000_000 + clock.now(),
      defaultDeviceId: "unused",
      createSensor: (spec, _board, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
      transport: broker.transport,
      random: () => 0.5,
    },
  );
  return { firmware, clock, broker, flash };
}

function ackAll(broker: ScriptedBroker): PublishPacket[] {
  const publishes: PublishPacket[] = [];
  for (const packet of broker.link.drain()) {
    if (packet.type === P.PUBLISH) {
      publishes.push(packet);
      if (packet.qos === 1) broker.link.send({ type: P.PUBACK, packetId: packet.packetId as number });
    } else if (packet.type === P.SUBSCRIBE) {
      broker.link.send({ type: P.SUBACK, packetId: packet.packetId, granted: packet.subscriptions.map((s) => s.qos) });
    }
  }
  return publishes;
}

function seqs(publishes: PublishPacket[], topic: string): number[] {
  const out: number[] = [];
  for (const p of publishes.filter((p) => p.topic === topic)) {
    for (const reading of decodeTelemetry(p.payload).readings) out.push(reading.seq);
  }
  return out;
}

describe("firmware", () => {
  it("connects with the offline will, subscribes to commands, says online and publishes telemetry", () => {
    const { firmware, broker, clock } = boot({});
    firmware.start();
    broker.link.open();
    broker.link.expect({ type: P.CONNECT, clientId: "sim-1", will: { topic: "t/sim-1/status", retain: true } });
    broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
    let publishes = ackAll(broker);
    expect(publishes.find((p) => p.topic === "t/sim-1/status")).toMatchObject({ retain: true });
    expect(text(publishes.find((p) => p.topic === "t/sim-1/status")!.payload)).toBe("online");
    for (let i = 0; i < 12; i++) {
      clock.advance(1000);
      publishes = publishes.concat(ackAll(broker));
    }
    const got = seqs(publishes, "t/sim-1/telemetry");
    expect(got.length).toBeGreaterThan(0);
    // From seq 0 (a fresh device) and consecutive: a gap, or a lost first reading, would mean a loss.
    expect(got).toEqual(got.map((_, i) => i));
  });

  it("readings taken while the broker is away are delivered after it returns, seq without gaps", () => {
    const { firmware, broker, clock } = boot({});
    firmware.start();
    broker.link.open();
    broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
    let publishes = ackAll(broker);
    clock.advance(3000);
    publishes = publishes.concat(ackAll(broker));
    const seqBeforeCut = firmware.device.sampler.stats().nextSeq;
    broker.link.cut();
    clock.advance(20_000); // offline: attempts time out unanswered while readings pile up
    const attempts = broker.attempts;
    for (let i = 0; i < 1000 && broker.attempts === attempts; i++) clock.advance(100);
    const last = broker.link;
    expect(last.closed).toBe(false);
    last.open();
    last.expect({ type: P.CONNECT });
    last.send({ type: P.CONNACK, sessionPresent: true, returnCode: 0 });
    clock.advance(10); // let queued batches drain
    publishes = publishes.concat(ackAll(broker));
    firmware.device.sampler.flush();
    clock.advance(10);
    publishes = publishes.concat(ackAll(broker));
    const got = seqs(publishes, "t/sim-1/telemetry");
    const assigned = firmware.device.sampler.stats().nextSeq;
    expect(assigned).toBeGreaterThan(seqBeforeCut); // readings were taken while offline
    expect(got).toEqual(Array.from({ length: assigned }, (_, i) => i)); // every one delivered once, in order, no gap
  });

  it("answers a bad command with an error reply and keeps sampling", () => {
    const { firmware, broker, clock } = boot({});
    firmware.start();
    broker.link.open();
    broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
    ackAll(broker);
    broker.link.send({ type: P.PUBLISH, topic: "t/sim-1/cmd/interval", payload: new TextEncoder().encode('{"ms":"fast"}'), qos: 1, retain: false, dup: false, packetId: 99 });
    // The receive turn only acknowledges and queues the command; it runs in the next turn.
    expect(ackAll(broker).filter((p) => p.topic === "t/sim-1/reply")).toHaveLength(0);
    clock.advance(0);
    const replies = ackAll(broker).filter((p) => p.topic === "t/sim-1/reply");
    expect(replies).toHaveLength(1);
    expect(replies[0].qos).toBe(0);
    expect(JSON.parse(text(replies[0].payload))).toMatchObject({ ok: false });
    // Still sampling (the board's deadbands decide what is published): a read every second.
    const readsBefore = firmware.device.sampler.stats().sensors.env.reads;
    clock.advance(6000);
    expect(firmware.device.sampler.stats().sensors.env.reads).toBe(readsBefore + 6);
    expect(firmware.client.state).toBe("connected");
  });

  it("stop() flushes, says offline (retained) and disconnects cleanly once everything is acknowledged", () => {
    const { firmware, broker, clock } = boot({});
    firmware.start();
    broker.link.open();
    broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
    ackAll(broker);
    clock.advance(2500);
    ackAll(broker);
    let stopped = false;
    firmware.stop(() => { stopped = true; });
    const last = ackAll(broker);
    expect(text(last[last.length - 1].payload)).toBe("offline");
    expect(last[last.length - 1]).toMatchObject({ topic: "t/sim-1/status", retain: true });
    broker.link.expect({ type: P.DISCONNECT });
    expect(stopped).toBe(true);
  });

  it("a bad config value stops the boot with an error naming the key", () => {
    expect(() => boot({ mqtt_port: "eighty" })).toThrow(/mqtt_port/);
  });
});

describe("firmware with a full queue", () => {
  it("a reading the full queue drops has its record deleted in the turn that dropped it (telemetry from records)", () => {
    // batch_max 1: each reading is one message. Offline, every new reading's publish drops the oldest; the sampler
    // settles that drop after its publish returns (not inside it: XS stack depth), and must commit it in that turn.
    const { firmware, clock, flash } = boot({ queue_max: "9", batch_max: "1", heartbeat_s: "1" });
    firmware.start();
    const records = () => [...flash.keys()].filter((key) => key.startsWith(RECORD_PREFIX)).length;
    for (let i = 0; i < 30; i++) {
      clock.advance(1000);
      // Committed records = readings queued (one a message) + readings still pending: none left behind staged.
      expect(records(), `after ${i + 1} s`).toBe(firmware.client.queueStats().depth + firmware.device.sampler.stats().pending);
    }
    expect(firmware.client.counters.dropped).toBeGreaterThan(0);
    expect(firmware.device.sampler.stats().dropped).toBe(firmware.client.counters.dropped); // each dropped reading counted
    const again = boot({ queue_max: "9", batch_max: "1", heartbeat_s: "1" }, flash);
    expect(again.firmware.client.queueStats().depth + again.firmware.device.sampler.stats().pending).toBe(records());
  });

  it("the birth never pushes a queued reading out: it waits for room, then goes", () => {
    // queue_max 9 (the smallest above the in-flight window of 8); batch_max 1 so each reading is one message.
    const { firmware, broker, clock } = boot({ queue_max: "9", batch_max: "1", heartbeat_s: "1" });
    firmware.start();
    for (let i = 0; i < 30; i++) clock.advance(1000); // offline: more readings than fit; the oldest are dropped, counted
    const droppedWhileOffline = firmware.client.counters.dropped;
    expect(droppedWhileOffline).toBeGreaterThan(0);
    const queuedSeqs = () => firmware.client.queueStats().depth;
    expect(queuedSeqs()).toBe(9);
    for (let i = 0; i < 100 && broker.link.closed; i++) clock.advance(100);
    broker.link.open();
    broker.link.expect({ type: P.CONNECT });
    broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
    expect(firmware.client.counters.dropped).toBe(droppedWhileOffline); // the birth did not evict a reading
    let publishes: PublishPacket[] = [];
    for (let i = 0; i < 5; i++) publishes = publishes.concat(ackAll(broker));
    const birth = publishes.find((p) => p.topic === "t/sim-1/status" && text(p.payload) === "online");
    expect(birth, "the birth was sent once room was freed").toBeDefined();
    expect(firmware.client.counters.dropped).toBe(droppedWhileOffline);
  });
});
