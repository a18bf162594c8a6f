// The command inbox's limits: rate, flash-write budget, forced reads against a filling queue, retained commands,
// refusal replies that say the limit once, and a flood of cmd/read that must evict no reading.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMAND_BUDGET } from "../../src/app/command-inbox";
import { Device } from "../../src/app/device";
import { Firmware } from "../../src/app/firmware";
import { PacketType as P } from "../../src/mqtt/constants";
import type { Packet } from "../../src/mqtt/packets";
import { encodeUtf8 } from "../../src/mqtt/utf8";
import { decodeTelemetry } from "../../src/sampler/payload";
import { createSimulatedSensor } from "../../src/sensors/simulated";
import { MemoryStore } from "../../src/store/memory-store";
import { FakeClock } from "../support/fake-clock";
import { NeutralBroker, QUIET } from "../xs/flows/neutral-broker";
import { RecordingPublisher } from "../sampler/support/recording-publisher";

const BOARD = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "boards", "lin.json"), "utf8")) as unknown;

function device(config: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const publisher = new RecordingPublisher();
  const warnings: string[] = [];
  const d = new Device(
    { config: { health_s: "0", interval_ms: "60000", ...config }, board: BOARD, boardFile: "boards/lin.json" },
    {
      clock,
      store: new MemoryStore(new Map()),
      logger: { info: () => {}, warn: (m) => warnings.push(m) },
      defaultDeviceId: "d1",
      createSensor: (spec, _board, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
      publisher: () => publisher,
    },
  );
  d.start();
  d.onConnect();
  const send = (name: string, payload: string, retain = false) => {
    for (const s of publisher.subscriptions) s.handler({ topic: `${d.topics.commandPrefix}${name}`, payload: encodeUtf8(payload), qos: 1, retain });
  };
  const replies = () => publisher.on(d.topics.reply).map((p) => ({ ...JSON.parse(p.text), qos: p.qos }));
  return { d, clock, publisher, send, replies, warnings };
}

describe("command inbox", () => {
  it(`rate limit: ${COMMAND_BUDGET.burst} at once, then one every ${COMMAND_BUDGET.refillMs / 1000} s; the first refusal says so, the rest are counted silently`, () => {
    const h = device();
    for (let i = 0; i < 20; i++) h.send("heartbeat", '{"s":"bad"}');
    h.clock.advance(0);
    const replies = h.replies();
    expect(replies.filter((r) => /must be an integer/.test(r.error))).toHaveLength(COMMAND_BUDGET.burst - 1); // one waits: inbox holds 4
    const limited = replies.filter((r) => /rate limited/.test(r.error) || /busy/.test(r.error));
    expect(limited).toHaveLength(1);
    expect(h.d.commands.counters.drop).toBe(20 - (COMMAND_BUDGET.burst - 1));
    h.clock.advance(COMMAND_BUDGET.refillMs);
    h.send("heartbeat", '{"s":"bad"}');
    h.clock.advance(0);
    expect(h.replies().length).toBe(replies.length + 1);
    expect(h.replies().every((r) => r.qos === 0)).toBe(true);
  });

  it("the rate-limit reply names the limit", () => {
    const h = device();
    for (let i = 0; i < COMMAND_BUDGET.burst + 1; i++) {
      h.send("heartbeat", '{"s":"x"}'); // runs (an error reply) without spending flash
      h.clock.advance(0);
    }
    expect(h.replies().pop().error).toBe(`rate limited: at most ${COMMAND_BUDGET.burst} commands at once, then one every 30 s; next in 30 s`);
  });

  it(`flash budget: ${COMMAND_BUDGET.flashBurst} settings changes at once, then 12 an hour; refused ones change nothing`, () => {
    const h = device();
    const last = () => {
      for (let i = h.publisher.published.length - 1; i >= 0; i--) if (h.publisher.published[i].topic === h.d.topics.reply) return JSON.parse(h.publisher.published[i].text);
      return undefined;
    };
    const results: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      h.send("interval", `{"ms":${1000 + i}}`);
      h.clock.advance(COMMAND_BUDGET.refillMs); // inside the rate limit
      results.push(last().ok);
    }
    expect(results.slice(0, 5)).toEqual([true, true, true, true, false]);
    expect(h.d.commands.counters).toMatchObject({ ok: 4, err: 2 });
    expect(h.d.sampler.interval("env")).toBe(1003);
    // Only the first budget refusal in a row is answered: a flood costs no replies.
    const refusals = h.replies().filter((r) => /flash-write budget/.test(r.error ?? ""));
    expect(refusals).toHaveLength(1);
    expect(refusals[0].error).toMatch(/flash-write budget used: .* 4 at once, then 12 an hour; next in \d+ s/);
    h.clock.advance(COMMAND_BUDGET.flashRefillMs);
    h.send("interval", '{"ms":2000}');
    h.clock.advance(0);
    expect(h.replies().pop()).toMatchObject({ ok: true });
    // Over 24 hours of one settings command every 30 s (the rate limit), at most 4 + 24 x 12 reach flash.
    let ok = 0;
    for (let i = 0; i < 24 * 120; i++) {
      h.send("heartbeat", `{"s":${i % 100}}`);
      h.clock.advance(COMMAND_BUDGET.refillMs);
      if (last().ok) ok++;
    }
    expect(ok).toBeLessThanOrEqual(4 + 24 * 12);
    expect(ok).toBeGreaterThanOrEqual(24 * 12 - 1);
  });

  it("a forced read is refused while the queue is half full, so it never pushes a reading out", () => {
    const h = device({ queue_max: "100" });
    h.publisher.queue = { depth: 50, bytes: 5000, oldestAgeMs: 10 };
    h.send("read", "{}");
    h.clock.advance(0);
    expect(h.replies().pop()).toMatchObject({ ok: false, error: expect.stringMatching(/queue holds 50 messages \(limit for a forced read: 50\)/) });
    h.publisher.queue = { depth: 49, bytes: 5000, oldestAgeMs: 10 };
    h.send("read", "{}");
    h.clock.advance(0);
    expect(h.replies().pop()).toMatchObject({ ok: true });
  });

  it("a retained command is not run; the reply says why", () => {
    const h = device();
    h.send("interval", '{"ms":5000,"id":"retained-cmd"}', true);
    h.clock.advance(0);
    expect(h.replies().pop()).toMatchObject({ ok: false, error: expect.stringMatching(/retained command ignored/) });
    expect(h.d.sampler.interval("env")).toBe(60_000);
  });

  it("a read whose later turn throws is logged and counted; the timer goes on, and health reports the counts", () => {
    const h = device({ health_s: "0" });
    h.d.sampler.readNow = () => {
      throw new RangeError("store unusable");
    };
    h.send("read", "{}");
    h.clock.advance(0);
    expect(h.replies().pop()).toMatchObject({ ok: true, sensor: "*" });
    expect(h.warnings.some((w) => /command failed after its reply: store unusable/.test(w))).toBe(true);
    h.send("health", "{}");
    h.clock.advance(0);
    const health = h.publisher.on(h.d.topics.health);
    expect(JSON.parse(health[health.length - 1].text).cmd).toEqual({ ok: 2, err: 1, drop: 0 });
  });

  it("a command never runs on the receive turn; each runs in a turn of its own", () => {
    const h = device();
    h.send("health", "{}");
    h.send("health", "{}");
    expect(h.replies()).toHaveLength(0);
    expect(h.clock.pending).toBeGreaterThan(0);
    h.clock.advance(0);
    expect(h.replies()).toHaveLength(2);
  });
});

describe("a flood of 5,000 cmd/read at QoS 1 through the firmware", () => {
  it("evicts no reading, keeps telemetry flowing and counts what it dropped", () => {
    const clock = new FakeClock();
    const broker = new NeutralBroker(QUIET);
    const firmware = new Firmware(
      { config: { device_id: "f1", interval_ms: "1000", deadband: "0", batch_max: "1", batch_window_ms: "0", health_s: "0", queue_max: "50" }, board: JSON.parse(JSON.stringify(BOARD), (k, v: unknown) => (k === "deadband" ? undefined : v)), boardFile: "boards/lin.json" },
      {
        clock,
        store: new MemoryStore(new Map()),
        wallClock: () => 1_718_000_000_000 + clock.now(),
        defaultDeviceId: "unused",
        createSensor: (spec, _board, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
        transport: broker.transport,
        random: () => 0.5,
      },
    );
    const seqs: number[] = [];
    // A slow broker: it acknowledges every 2 s, so without limits forced readings would fill the 50-message queue.
    const unacked: number[] = [];
    const serve = (ack: boolean) => {
      for (const packet of broker.link.drain() as Packet[]) {
        if (packet.type === P.CONNECT) broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
        else if (packet.type === P.SUBSCRIBE) broker.link.send({ type: P.SUBACK, packetId: packet.packetId, granted: packet.subscriptions.map((s) => s.qos) });
        else if (packet.type === P.PINGREQ) broker.link.send({ type: P.PINGRESP });
        else if (packet.type === P.PUBLISH) {
          if (packet.topic.endsWith("/telemetry")) for (const r of decodeTelemetry(packet.payload).readings) seqs.push(r.seq);
          if (packet.qos === 1) unacked.push(packet.packetId as number);
        }
      }
      if (ack) for (const packetId of unacked.splice(0)) broker.link.send({ type: P.PUBACK, packetId });
    };
    firmware.start();
    broker.link.open();
    serve(true);
    serve(true);
    let id = 1;
    for (let second = 0; second < 50; second++) {
      for (let k = 0; k < 100; k++) {
        broker.link.send({ type: P.PUBLISH, topic: "xsms/f1/cmd/read", payload: encodeUtf8("{}"), qos: 1, retain: false, dup: false, packetId: id++ });
      }
      clock.advance(1000);
      serve(second % 2 === 1);
    }
    for (let t = 0; t < 10; t++) {
      clock.advance(1000);
      serve(true);
    }
    expect(firmware.client.counters.dropped).toBe(0);
    expect(firmware.client.counters.reconnects).toBe(0);
    expect(firmware.device.sampler.stats().dropped).toBe(0);
    const counters = firmware.device.commands.counters;
    expect(counters.ok + counters.err + counters.drop).toBe(5000);
    expect(counters.ok).toBeLessThanOrEqual(COMMAND_BUDGET.flashBurst);
    // Telemetry kept flowing: every seq taken was delivered, in order, no gap.
    const taken = firmware.device.sampler.stats().nextSeq;
    expect(taken).toBeGreaterThanOrEqual(60);
    expect([...new Set(seqs)].sort((a, b) => a - b)).toEqual(Array.from({ length: taken }, (_, i) => i));
  });
});
