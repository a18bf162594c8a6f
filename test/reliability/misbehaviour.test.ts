// Broker misbehaviour against the whole device (config, simulated sensor, sampler, client, store on a fake clock):
// each case gives the error text a user would see, memory stays bounded, the device keeps sampling and queueing, and
// once a well-behaved broker appears every reading taken meanwhile arrives, with consecutive seq numbers.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Device, type DevicePlatform } from "../../src/app/device";
import { ConnectionRefusedError, ProtocolError } from "../../src/errors";
import { MqttClient } from "../../src/mqtt/client";
import { PacketType } from "../../src/mqtt/constants";
import type { Packet } from "../../src/mqtt/packets";
import { encodeUtf8 } from "../../src/mqtt/utf8";
import { decodeTelemetry } from "../../src/sampler/payload";
import { createSimulatedSensor } from "../../src/sensors/simulated";
import { MemoryStore } from "../../src/store/memory-store";
import { FakeClock } from "../support/fake-clock";
import { ScriptedBroker, type ScriptedLink } from "../support/scripted-broker";
import { handshake, makeClient } from "../client/harness";
import { BrokerModel } from "./support/broker-model";

const P = PacketType;
const ROOT = join(__dirname, "..", "..");

/** The desktop board with its channel deadbands removed, so config deadband "0" reports every reading. */
function board(): unknown {
  const raw = JSON.parse(readFileSync(join(ROOT, "boards/lin.json"), "utf8")) as { sensors: Array<{ channels: Array<Record<string, unknown>> }> };
  for (const sensor of raw.sensors) for (const channel of sensor.channels) delete channel.deadband;
  return raw;
}

const CONFIG = {
  health_s: "0", interval_ms: "1000", deadband: "0", heartbeat_s: "0", batch_max: "1", batch_window_ms: "0",
  mqtt_qos: "1", mqtt_keepalive: "10", queue_max: "300",
};

interface Rig {
  device: Device;
  client: MqttClient;
  clock: FakeClock;
  broker: ScriptedBroker;
  flash: Map<string, Uint8Array>;
  errors: Error[];
  warnings: string[];
  disconnects: Array<{ reason: string; error?: Error; willReconnectInMs?: number }>;
}

/** Boots the device on `flash` (a reboot when reused) with the real client on a scripted broker; the client is started. */
function boot(config: Record<string, string> = {}, flash = new Map<string, Uint8Array>()): Rig {
  const clock = new FakeClock(0);
  const broker = new ScriptedBroker();
  const store = new MemoryStore(flash);
  const errors: Error[] = [];
  const warnings: string[] = [];
  const disconnects: Rig["disconnects"] = [];
  const logger = { info: () => {}, warn: (m: string) => warnings.push(m) };
  let device: Device | undefined;
  let client: MqttClient | undefined;
  const platform: DevicePlatform = {
    clock,
    store,
    wallClock: () => 1_718_000_000_000 + clock.now(),
    logger,
    defaultDeviceId: "a4cf12b3c4d5",
    createSensor: (spec, _board, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
    publisher: (options) =>
      (client = new MqttClient(options, { transport: broker.transport, clock, store, random: () => 0.5, logger }, {
        onConnect: () => device?.onConnect(),
        onDisconnect: (info) => {
          disconnects.push(info);
          device?.onDisconnect();
        },
        onError: (error) => errors.push(error),
      })),
  };
  device = new Device({ config: { ...CONFIG, ...config }, board: board(), boardFile: "boards/lin.json" }, platform);
  device.start();
  (client as MqttClient).start();
  return { device, client: client as MqttClient, clock, broker, flash, errors, warnings, disconnects };
}

/** The bad broker's side of a connection: open the link, take CONNECT, accept it. */
function accept(rig: Rig): ScriptedLink {
  handshake(rig.broker);
  return rig.broker.link;
}

/** Advances the clock `seconds` seconds, one at a time, running `each` after every second. */
function run(rig: Rig, seconds: number, each?: (second: number) => void): void {
  for (let s = 0; s < seconds; s++) {
    rig.clock.advance(1000);
    each?.(s);
  }
}

/** A well-behaved broker takes over (the misbehaving one's open link is dropped) until every queued message is delivered. */
function goodBroker(rig: Rig, model = new BrokerModel("B")): BrokerModel {
  const current = rig.broker.attempts > 0 ? rig.broker.link : undefined;
  if (current && !current.closed && !model.owns(current)) current.cut();
  for (let round = 0; round < 400; round++) {
    const link = rig.broker.attempts > 0 ? rig.broker.link : undefined;
    if (link && !link.closed) model.serve(link);
    if (rig.client.state === "connected" && rig.client.queueStats().depth === 0) break;
    const due = rig.clock.nextDue() as number;
    rig.clock.advance(Math.max(0, due - rig.clock.now()));
  }
  rig.device.stop();
  if (!rig.broker.link.closed) model.serve(rig.broker.link);
  expect(rig.client.state).toBe("connected");
  expect(rig.client.queueStats().depth).toBe(0);
  return model;
}

/** Seqs of every telemetry reading the broker delivered, deduplicated (QoS 1 may repeat) and sorted. */
function seqs(rig: Rig, model: BrokerModel): number[] {
  const out = new Set<number>();
  for (const d of model.witness) {
    if (d.topic !== rig.device.topics.telemetry) continue;
    for (const reading of decodeTelemetry(encodeUtf8(d.text)).readings) out.add(reading.seq);
  }
  return [...out].sort((a, b) => a - b);
}

/** Every reading the sampler took reached the broker: seqs 0..nextSeq-1, none missing. */
function expectAllReadings(rig: Rig, model: BrokerModel, atLeast: number): void {
  const next = rig.device.sampler.stats().nextSeq;
  expect(next).toBeGreaterThanOrEqual(atLeast);
  expect(seqs(rig, model)).toEqual(Array.from({ length: next }, (_, i) => i));
}

const reads = (rig: Rig): number => rig.device.sampler.stats().sensors.env.reads;

describe("packets a broker must never send", () => {
  const ILLEGAL: Array<[string, Packet | Uint8Array, string]> = [
    ["CONNECT", { type: P.CONNECT, clientId: "x", cleanSession: true, keepAlive: 0 }, "CONNECT: a server must not send this packet to a client [MQTT-4.8]"],
    ["SUBSCRIBE", { type: P.SUBSCRIBE, packetId: 5, subscriptions: [{ topic: "a", qos: 0 }] }, "SUBSCRIBE: a server must not send this packet to a client [MQTT-4.8]"],
    ["UNSUBSCRIBE", { type: P.UNSUBSCRIBE, packetId: 5, topics: ["a"] }, "UNSUBSCRIBE: a server must not send this packet to a client [MQTT-4.8]"],
    ["PINGREQ", { type: P.PINGREQ }, "PINGREQ: a server must not send this packet to a client [MQTT-4.8]"],
    ["DISCONNECT", { type: P.DISCONNECT }, "DISCONNECT: a server must not send this packet to a client [MQTT-4.8]"],
    ["reserved type 15", Uint8Array.of(0xf0, 0x00), "RESERVED: packet type 15 is reserved [MQTT-2.2.1]"],
    ["a second CONNACK", { type: P.CONNACK, sessionPresent: false, returnCode: 0 }, "CONNACK: second CONNACK on one connection [MQTT-3.2.0-1]"],
  ];
  for (const [name, packet, text] of ILLEGAL) {
    it(`${name}: a ProtocolError saying so, a disconnect, a reconnect, and no reading lost`, () => {
      const rig = boot();
      const link = accept(rig);
      const model = new BrokerModel("B"); // the same broker: well-behaved for 3 s, then it breaks the protocol
      run(rig, 3, () => link.drain().forEach((p) => model.receive(p).forEach((answer) => link.send(answer))));
      expect(seqs(rig, model)).toEqual([0, 1, 2, 3]);
      if (packet instanceof Uint8Array) link.sendBytes(packet);
      else link.send(packet);
      expect(rig.errors.map((e) => e.message)).toEqual([text]);
      expect(rig.errors[0]).toBeInstanceOf(ProtocolError);
      expect(link.closed).toBe(true);
      expect(rig.disconnects[0]).toMatchObject({ reason: "protocol error", error: rig.errors[0] });
      const before = reads(rig);
      const depth = rig.client.queueStats().depth;
      run(rig, 5); // the broker is gone for 5 s: the device samples and queues
      expect(reads(rig)).toBe(before + 5);
      expect(rig.client.queueStats().depth).toBeGreaterThan(depth);
      expect(rig.broker.attempts).toBeGreaterThan(1); // it tried again on its own
      expectAllReadings(rig, goodBroker(rig, model), 8);
    });
  }
});

describe("acknowledgements that do not fit", () => {
  it("PUBACK, PUBREC and PUBCOMP for ids never used are ignored with a warning naming the id; PUBREL is answered", () => {
    const rig = boot();
    const link = accept(rig);
    link.drain();
    link.send({ type: P.PUBACK, packetId: 999 }, { type: P.PUBREC, packetId: 998 }, { type: P.PUBCOMP, packetId: 997 }, { type: P.PUBREL, packetId: 996 });
    expect(rig.warnings).toEqual(expect.arrayContaining([
      "PUBACK for unknown packet id 999 ignored",
      "PUBREC for unknown packet id 998 ignored",
      "PUBCOMP for unknown packet id 997 ignored",
    ]));
    link.expect({ type: P.PUBCOMP, packetId: 996 });
    expect(link.closed).toBe(false);
    expect(rig.errors).toEqual([]);
    expectAllReadings(rig, goodBroker(rig), 1);
  });

  it("an ack illegal in the message's state (PUBCOMP for a QoS 1 PUBLISH) is a ProtocolError naming id and state; the message is resent", () => {
    const rig = boot();
    const link = accept(rig);
    const first = link.drain().find((p) => p.type === P.PUBLISH && p.qos === 1) as { packetId: number };
    link.send({ type: P.PUBCOMP, packetId: first.packetId });
    expect(rig.errors.map((e) => e.message)).toEqual([
      `PUBCOMP: packet id ${first.packetId} is awaiting PUBACK; PUBCOMP is not a legal answer there [MQTT-4.3]`,
    ]);
    expect(link.closed).toBe(true);
    run(rig, 4);
    expectAllReadings(rig, goodBroker(rig), 4);
  });
});

describe("CONNACK never sent", () => {
  it("each attempt gives up after connectTimeoutMs with a clear reason, retries with backoff, and loses no reading", () => {
    const rig = boot();
    let answered = 0;
    run(rig, 40, () => {
      const link = rig.broker.link;
      if (!link.closed && link.written.length === 0) {
        link.open(); // the TCP connection opens; CONNECT arrives; nothing ever comes back
        answered++;
      }
    });
    expect(answered).toBeGreaterThanOrEqual(2);
    expect(rig.disconnects[0]).toMatchObject({ reason: "connect timeout" });
    expect(rig.disconnects[0].error?.message).toBe("no CONNACK within 10000 ms");
    expect(rig.client.state).not.toBe("connected");
    expect(reads(rig)).toBe(41); // one at start, then one a second
    expect(rig.client.queueStats().depth).toBe(41);
    expectAllReadings(rig, goodBroker(rig), 41);
  });

  it("for long: the queue stops at queue_max, drops the oldest queued with a count, and every reading is delivered or counted", () => {
    const rig = boot({ queue_max: "20" });
    let maxDepth = 0;
    run(rig, 180, () => {
      const link = rig.broker.link;
      if (!link.closed && link.written.length === 0) link.open();
      maxDepth = Math.max(maxDepth, rig.client.queueStats().depth);
    });
    expect(maxDepth).toBe(20);
    expect(rig.client.counters.dropped).toBe(181 - 20);
    // Backoff keeps the attempts far below one a second.
    expect(rig.broker.attempts).toBeLessThan(15);
    const model = goodBroker(rig);
    const got = seqs(rig, model);
    const next = rig.device.sampler.stats().nextSeq;
    expect(got[got.length - 1]).toBe(next - 1);
    // Nothing vanishes silently: each reading (one per message here) reached the broker or was counted as dropped. The
    // drops are not all at the old end: on reconnect the retained birth message evicts the oldest *queued* reading,
    // which sits behind the ones already in flight, so the delivered seqs have a hole (see docs/reliability.md).
    expect(got.length + rig.client.counters.dropped).toBe(next);
  });
});

describe("oversized PUBLISH", () => {
  it("is read past as it streams in, never buffered: the link stays up, it is reported with the limit, and sampling goes on", () => {
    const rig = boot(); // the firmware's default mqtt_max_packet, 4096
    const link = accept(rig);
    link.drain();
    // PUBLISH QoS 0 announcing 65536 body bytes (65540 in all, past the firmware's mqtt_max_packet, 4096), then its body in 1 KiB chunks.
    link.sendBytes(Uint8Array.of(0x30, 0x80, 0x80, 0x04, 0x00, 0x02, 0x74, 0x2f));
    for (let sent = 4; sent < 65536; sent += 1024) link.sendBytes(new Uint8Array(Math.min(1024, 65536 - sent)));
    expect(link.closed).toBe(false);
    expect(rig.errors.map((e) => e.message)).toEqual([
      'PUBLISH: message of 65540 bytes on "t/" (QoS 0) exceeds the maximum packet size of 4096: acknowledged and discarded; ' +
        "clear it at the broker (a retained one: publish an empty retained message)",
    ]);
    expect(rig.client.counters.oversized).toBe(1);
    run(rig, 3);
    expectAllReadings(rig, goodBroker(rig), 4);
  });

  it("the limit is exact: a PUBLISH of maxPacketSize bytes is delivered, one byte more is read past and reported", () => {
    const { client, broker, seen } = makeClient({ maxPacketSize: 1024 });
    client.subscribe("t/", 0, () => {});
    client.start();
    handshake(broker);
    const payload = (size: number) => new Uint8Array(size - 2 - 2 - 3); // fixed header 3, topic length 2 + "t/" 2
    broker.link.send({ type: P.PUBLISH, topic: "t/", payload: payload(1024), qos: 0, retain: false, dup: false });
    expect(seen.messages).toHaveLength(1);
    broker.link.send({ type: P.PUBLISH, topic: "t/", payload: payload(1025), qos: 0, retain: false, dup: false });
    expect(broker.link.closed).toBe(false);
    expect(seen.messages).toHaveLength(1);
    expect(seen.errors[0].message).toMatch(/^PUBLISH: message of 1025 bytes on "t\/" \(QoS 0\) exceeds the maximum packet size of 1024/);
  });
});

describe("slow-loris broker", () => {
  it("one byte a second of a packet that never completes does not count as liveness: keepalive timeout at keepalive + ping timeout", () => {
    const rig = boot(); // mqtt_keepalive 10 s; pingTimeoutMs default 10 s; mqtt_max_packet default 4096
    const link = accept(rig);
    const connackAt = rig.clock.now();
    link.drain();
    link.sendBytes(Uint8Array.of(0x30, 0xa0, 0x1f)); // a PUBLISH announcing 4000 body bytes (under mqtt_max_packet, 4096)
    let closedAt: number | undefined;
    run(rig, 40, () => {
      if (!link.closed) link.sendBytes(Uint8Array.of(0x61));
      else closedAt ??= rig.clock.now();
    });
    expect(rig.disconnects[0]).toMatchObject({ reason: "keepalive timeout" });
    expect(rig.disconnects[0].error?.message).toBe("no answer to PINGREQ within 10000 ms");
    // PINGREQ 10 s after the last whole packet (CONNACK), the link dropped 10 s later: trickled bytes moved nothing.
    expect(closedAt).toBe(connackAt + 20_000);
    expectAllReadings(rig, goodBroker(rig), 40);
  });

  it("the same trickle made of whole packets (PINGRESP, one byte a second) does count: no keepalive timeout", () => {
    const rig = boot({ mqtt_qos: "0" }); // QoS 0: no ack is due, so only keepalive could drop the link
    const link = accept(rig);
    const pingresp = Uint8Array.of(0xd0, 0x00);
    run(rig, 60, (s) => {
      if (!link.closed) link.sendBytes(pingresp.subarray(s % 2, s % 2 + 1));
    });
    expect(link.closed).toBe(false);
    expect(rig.disconnects).toEqual([]);
  });
});

describe("CONNACK refusals", () => {
  const REFUSALS: Array<[number, string, boolean]> = [
    [1, "broker refused MQTT 3.1.1 (return code 1): use a broker that supports protocol level 4", false],
    [2, "broker rejected the client id (return code 2): set a shorter or different device id", false],
    [3, "broker is unavailable (return code 3): will retry slowly", true],
    [4, "broker refused the username or password (return code 4): fix mqtt_user / mqtt_password", false],
    [5, "broker says this client is not authorized (return code 5): check the broker's ACL for this client id", false],
  ];
  for (const [code, text, retryable] of REFUSALS) {
    it(`code ${code}: "${text}"; retries ${retryable ? "slowly" : "every few minutes"}, keeps sampling, and every reading arrives once the broker is fixed`, () => {
      const rig = boot({ queue_max: "1000" }); // room for the readings of the minutes until the next attempt
      rig.broker.link.open();
      rig.broker.link.expect({ type: P.CONNECT });
      rig.broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: code });
      expect(rig.errors).toHaveLength(1);
      expect(rig.errors[0]).toBeInstanceOf(ConnectionRefusedError);
      expect(rig.errors[0].message).toBe(text);
      expect((rig.errors[0] as ConnectionRefusedError).retryable).toBe(retryable);
      run(rig, 29);
      expect(reads(rig)).toBe(30);
      expect(rig.client.queueStats().depth).toBe(30);
      if (retryable) {
        expect(rig.client.state).toBe("waiting");
        expect(rig.disconnects[0].willReconnectInMs).toBeGreaterThanOrEqual(30_000); // near the 60 s cap, never a tight loop
        expect(rig.broker.attempts).toBe(1);
      } else {
        expect(rig.client.state).toBe("waiting");
        // fatalRetryMs (5 min) jittered to 2.5..7.5 min: no tight loop against a refusal only the broker's owner can fix, but no giving up either.
        expect(rig.disconnects[0].willReconnectInMs).toBeGreaterThanOrEqual(150_000);
        expect(rig.disconnects[0].willReconnectInMs).toBeLessThanOrEqual(450_000);
        expect(rig.client.problem()).toMatchObject({ permanent: true, message: `connection refused: ${text}` });
        expect(rig.broker.attempts).toBe(1);
      }
      expectAllReadings(rig, goodBroker(rig), 30);
    });
  }
});
