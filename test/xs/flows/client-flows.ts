// The client's core flows as engine-neutral scripts (run on Node and in xsnap), each returning its transcript:
// every byte the client wrote, every byte the broker sent, and every event, in order.
import { MqttClient } from "../../../src/mqtt/client";
import type { ClientOptions } from "../../../src/mqtt/client-api";
import { PacketType as P } from "../../../src/mqtt/constants";
import { encodeUtf8, decodeUtf8 } from "../../../src/mqtt/utf8";
import { MemoryStore } from "../../../src/store/memory-store";
import { FakeClock } from "../../support/fake-clock";
import { check, hex, NeutralBroker, runScenarios, type Transcript } from "./neutral-broker";

export type { Transcript };

interface Rig {
  client: MqttClient;
  broker: NeutralBroker;
  clock: FakeClock;
  store: MemoryStore;
  log: string[];
  delivered: number;
  messages: string[];
}

function rig(log: string[], shared: { broker?: NeutralBroker; clock?: FakeClock; flash?: Map<string, Uint8Array> } = {}, options: Partial<ClientOptions> = {}): Rig {
  const broker = shared.broker ?? new NeutralBroker(log);
  const clock = shared.clock ?? new FakeClock(1000);
  const store = new MemoryStore(shared.flash ?? new Map());
  const r: Rig = { client: undefined as unknown as MqttClient, broker, clock, store, log, delivered: 0, messages: [] };
  r.client = new MqttClient(
    { clientId: "dev-1", keepAliveSeconds: 60, ...options },
    { transport: broker.transport, clock, store, random: () => 0.5 },
    {
      onConnect: (info) => log.push(`event connect sessionPresent=${info.sessionPresent}`),
      onDisconnect: (info) => log.push(`event disconnect ${info.reason} retry=${info.willReconnectInMs}`),
      onMessage: (m) => {
        r.messages.push(decodeUtf8(m.payload));
        log.push(`event message ${m.topic} q${m.qos} ${hex(m.payload)}`);
      },
      onDelivered: (info) => {
        r.delivered++;
        log.push(`event delivered id=${info.messageId} ${info.topic} q${info.qos}`);
      },
      onDropped: (info) => log.push(`event dropped id=${info.messageId}`),
      onError: (error) => log.push(`event error ${error.name}: ${error.message}`),
    },
  );
  return r;
}

function handshake(r: Rig, sessionPresent = false): void {
  r.broker.link.open();
  r.broker.link.expect({ type: P.CONNECT, clientId: "dev-1", cleanSession: false, keepAlive: 60 });
  r.broker.link.send({ type: P.CONNACK, sessionPresent, returnCode: 0 });
}

const text = (s: string) => encodeUtf8(s);

const SCENARIOS: Record<string, (log: string[]) => void> = {
  "connect and subscribe": (log) => {
    const r = rig(log, {}, { username: "u", password: "p", will: { topic: "s/dev-1", payload: "offline", qos: 1, retain: true } });
    r.client.subscribe("cmd/#", 1, () => {});
    r.client.start();
    handshake(r);
    r.broker.link.expect({ type: P.SUBSCRIBE, packetId: 1 });
    r.broker.link.send({ type: P.SUBACK, packetId: 1, granted: [1] });
    r.clock.advance(60_000);
    r.broker.link.expect({ type: P.PINGREQ });
    r.broker.link.send({ type: P.PINGRESP });
    r.broker.link.expectNothing();
  },
  "QoS 1 publish and ack": (log) => {
    const r = rig(log);
    r.client.start();
    handshake(r);
    r.client.publish("t/a", "hello", { qos: 1, retain: true });
    r.broker.link.expect({ type: P.PUBLISH, topic: "t/a", qos: 1, retain: true, dup: false, packetId: 1, payload: text("hello") });
    check(r.store.list("o/").length === 1, "the QoS 1 message is stored until acked");
    r.broker.link.send({ type: P.PUBACK, packetId: 1 });
    check(r.delivered === 1 && r.store.list("o/").length === 0, "PUBACK delivers it and empties the store");
  },
  "QoS 1 resent with DUP after a cut": (log) => {
    const r = rig(log);
    r.client.start();
    handshake(r);
    r.client.publish("t/a", "v", { qos: 1 });
    r.broker.link.expect({ type: P.PUBLISH, packetId: 1, dup: false });
    r.broker.link.cut();
    r.clock.advance(1000);
    handshake(r, true);
    r.broker.link.expect({ type: P.PUBLISH, packetId: 1, dup: true, payload: text("v") });
    r.broker.link.expectNothing();
    r.broker.link.send({ type: P.PUBACK, packetId: 1 });
    check(r.delivered === 1, "delivered once after the resend");
  },
  "QoS 2 full flow": (log) => {
    const r = rig(log);
    r.client.start();
    handshake(r);
    r.client.publish("t/q2", "z", { qos: 2 });
    r.broker.link.expect({ type: P.PUBLISH, qos: 2, packetId: 1 });
    r.broker.link.send({ type: P.PUBREC, packetId: 1 });
    r.broker.link.expect({ type: P.PUBREL, packetId: 1 });
    check(r.delivered === 0, "not delivered before PUBCOMP");
    r.broker.link.send({ type: P.PUBCOMP, packetId: 1 });
    check(r.delivered === 1 && r.store.list("o/").length === 0, "PUBCOMP delivers it and empties the store");
  },
  "QoS 2 PUBREL resent after a cut": (log) => {
    const r = rig(log);
    r.client.start();
    handshake(r);
    r.client.publish("t/q2", "z", { qos: 2 });
    r.broker.link.expect({ type: P.PUBLISH, packetId: 1 });
    r.broker.link.send({ type: P.PUBREC, packetId: 1 });
    r.broker.link.expect({ type: P.PUBREL, packetId: 1 });
    r.broker.link.cut();
    r.clock.advance(1000);
    handshake(r, true);
    r.broker.link.expect({ type: P.PUBREL, packetId: 1 });
    r.broker.link.expectNothing();
    r.broker.link.send({ type: P.PUBCOMP, packetId: 1 });
    check(r.delivered === 1, "PUBCOMP after the resent PUBREL delivers it");
  },
  "session present 0 republishes in order": (log) => {
    const r = rig(log);
    r.client.subscribe("cmd/#", 1, () => {});
    r.client.start();
    handshake(r);
    r.broker.link.expect({ type: P.SUBSCRIBE, packetId: 1 });
    r.broker.link.send({ type: P.SUBACK, packetId: 1, granted: [1] });
    r.client.publish("t", "a", { qos: 1 });
    r.client.publish("t", "b", { qos: 2 });
    r.broker.link.expect({ type: P.PUBLISH, packetId: 2, payload: text("a") });
    r.broker.link.expect({ type: P.PUBLISH, packetId: 3, payload: text("b") });
    r.broker.link.send({ type: P.PUBREC, packetId: 3 });
    r.broker.link.expect({ type: P.PUBREL, packetId: 3 });
    r.broker.link.cut();
    r.clock.advance(1000);
    handshake(r, false);
    r.broker.link.expect({ type: P.SUBSCRIBE });
    r.broker.link.expect({ type: P.PUBLISH, payload: text("a"), dup: false });
    r.broker.link.expect({ type: P.PUBLISH, payload: text("b"), dup: false });
    r.broker.link.expectNothing();
  },
  "incoming QoS 2 exactly once": (log) => {
    const r = rig(log);
    r.client.subscribe("in/#", 2, () => {});
    r.client.start();
    handshake(r);
    r.broker.link.drain();
    const publish = { type: P.PUBLISH, topic: "in/x", payload: text("once"), qos: 2 as const, retain: false, dup: false, packetId: 7 };
    r.broker.link.send(publish);
    r.broker.link.expect({ type: P.PUBREC, packetId: 7 });
    r.broker.link.send({ ...publish, dup: true });
    r.broker.link.expect({ type: P.PUBREC, packetId: 7 });
    r.broker.link.send({ type: P.PUBREL, packetId: 7 });
    r.broker.link.expect({ type: P.PUBCOMP, packetId: 7 });
    r.broker.link.send({ type: P.PUBREL, packetId: 7 });
    r.broker.link.expect({ type: P.PUBCOMP, packetId: 7 });
    check(r.messages.length === 1 && r.messages[0] === "once", `delivered exactly once, got ${r.messages.length}`);
  },
  "reboot from a MemoryStore map": (log) => {
    const flash = new Map<string, Uint8Array>();
    const broker = new NeutralBroker(log);
    const clock = new FakeClock(1000);
    const first = rig(log, { broker, clock, flash });
    first.client.start();
    handshake(first);
    first.client.publish("t/1", "one", { qos: 1 });
    first.client.publish("t/2", "two", { qos: 2 });
    first.broker.link.expect({ type: P.PUBLISH, packetId: 1 });
    first.broker.link.expect({ type: P.PUBLISH, packetId: 2 });
    first.broker.link.send({ type: P.PUBREC, packetId: 2 });
    first.broker.link.expect({ type: P.PUBREL, packetId: 2 });
    const incoming = { type: P.PUBLISH, topic: "in/x", payload: text("in"), qos: 2 as const, retain: false, dup: false, packetId: 9 };
    first.broker.link.send(incoming);
    first.broker.link.expect({ type: P.PUBREC, packetId: 9 });
    // Power cut: the first client and its RAM are gone; the committed map stays.
    log.push("reboot");
    const second = rig(log, { broker, clock, flash });
    second.client.start();
    handshake(second, true);
    second.broker.link.expect({ type: P.PUBLISH, packetId: 1, dup: true, payload: text("one") });
    second.broker.link.expect({ type: P.PUBREL, packetId: 2 });
    second.broker.link.expectNothing();
    second.broker.link.send({ ...incoming, dup: true });
    second.broker.link.expect({ type: P.PUBREC, packetId: 9 });
    check(second.messages.length === 0, "the incoming QoS 2 id survived the reboot: no second delivery");
    second.broker.link.send({ type: P.PUBACK, packetId: 1 }, { type: P.PUBCOMP, packetId: 2 }, { type: P.PUBREL, packetId: 9 });
    second.broker.link.expect({ type: P.PUBCOMP, packetId: 9 });
    check(second.delivered === 2 && second.store.list("o/").length === 0, "both resent messages delivered and gone from the store");
  },
};

export const CLIENT_FLOW_NAMES = Object.keys(SCENARIOS);

/** Runs every scenario; a failed step ends that scenario's transcript with "FAILED: <why>". */
export function runClientFlows(): Transcript[] {
  return runScenarios(SCENARIOS);
}

/** A connected client whose broker acks every QoS 1 PUBLISH at once: the unit of the publish benchmarks. */
export class AckingLoop {
  private readonly r: Rig;
  private readonly payload = text('{"v":1,"n":"env","b":3,"s":120,"u":5000,"dt":[],"c":{"t":[2,2153]}}');

  constructor() {
    this.r = rig([]);
    this.r.client.start();
    handshake(this.r);
    this.r.log.length = 0;
  }

  /** `count` cycles of publish (QoS 1) + PUBACK; returns messages delivered so far. */
  run(count: number): number {
    const link = this.r.broker.link;
    for (let i = 0; i < count; i++) {
      this.r.client.publish("xsms/dev-1/telemetry", this.payload, { qos: 1 });
      const packet = link.written.shift() as { packetId?: number } | undefined;
      if (packet?.packetId === undefined) throw new Error("no PUBLISH written");
      link.send({ type: P.PUBACK, packetId: packet.packetId });
      this.r.log.length = 0; // the transcript is not part of what is measured
    }
    this.r.log.length = 0;
    return this.r.delivered;
  }
}
