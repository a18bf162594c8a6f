// The client against a hostile broker (issue 10 #3, #9, #10) as engine-neutral scripts: Node and xsnap must write the
// same bytes and report the same events.
import { TransportError } from "../../../src/errors";
import { MqttClient } from "../../../src/mqtt/client";
import { encode } from "../../../src/mqtt/codec";
import { PacketType as P, type QoS } from "../../../src/mqtt/constants";
import type { PublishPacket } from "../../../src/mqtt/packets";
import { INCOMING_QOS2_KEY } from "../../../src/mqtt/session-records";
import { MemoryStore } from "../../../src/store/memory-store";
import { FakeClock } from "../../support/fake-clock";
import { check, NeutralBroker, runScenarios, type Transcript } from "./neutral-broker";

export type HostileTranscript = Transcript;

function rig(log: string[], random: () => number = () => 0.5) {
  const broker = new NeutralBroker(log);
  const clock = new FakeClock(1000);
  const store = new MemoryStore();
  const client = new MqttClient(
    { clientId: "dev-1", keepAliveSeconds: 60, backoffBaseMs: 100, backoffCapMs: 100_000 },
    { transport: broker.transport, clock, store, random },
    {
      onConnect: () => log.push("event connect"),
      onDisconnect: (i) => log.push(`event disconnect ${i.reason} retry=${i.willReconnectInMs}`),
      onMessage: (m) => log.push(`event message ${m.topic} ${m.payload.length}B`),
      onError: (e) => log.push(`event error ${e.name}: ${e.message}`),
    },
  );
  return { client, broker, clock, store };
}

function connack(broker: NeutralBroker, sessionPresent = false): void {
  broker.link.open();
  broker.link.expect({ type: P.CONNECT });
  broker.link.send({ type: P.CONNACK, sessionPresent, returnCode: 0 });
}

function publish(topic: string, size: number, qos: QoS, packetId?: number): PublishPacket {
  return { type: P.PUBLISH, topic, payload: new Uint8Array(size).fill(0x41), qos, retain: true, dup: false, ...(qos > 0 ? { packetId } : {}) };
}

const SCENARIOS: Record<string, (log: string[]) => void> = {
  "oversized retained QoS 1 command: acknowledged, counted, never delivered, link kept": (log) => {
    const { client, broker } = rig(log);
    client.subscribe("xsms/dev-1/cmd/#", 1, () => {});
    client.start();
    connack(broker);
    broker.link.expect({ type: P.SUBSCRIBE });
    // Fed in 4 KiB chunks, as a socket delivers it: never buffered whole.
    const bytes = encode(publish("xsms/dev-1/cmd/read", 70_000, 1, 17));
    for (let at = 0; at < bytes.length; at += 4096) broker.link.sendBytes(bytes.slice(at, at + 4096));
    broker.link.expect({ type: P.PUBACK, packetId: 17 });
    check(!broker.link.closed && client.counters.oversized === 1, "link kept, counted once");
  },
  "oversized QoS 2: PUBREC, id not recorded; PUBREL answered": (log) => {
    const { client, broker, store } = rig(log);
    client.subscribe("in/#", 2, () => {});
    client.start();
    connack(broker);
    broker.link.drain();
    broker.link.send(publish("in/x", 66_000, 2, 5));
    broker.link.expect({ type: P.PUBREC, packetId: 5 });
    check(store.get(INCOMING_QOS2_KEY) === undefined, "no id recorded");
    broker.link.send({ type: P.PUBREL, packetId: 5 });
    broker.link.expect({ type: P.PUBCOMP, packetId: 5 });
  },
  "300 QoS 2 ids on a topic never subscribed: PUBREC each, nothing recorded, link kept": (log) => {
    const { client, broker, store } = rig(log);
    client.subscribe("in/#", 2, () => {});
    client.start();
    connack(broker);
    broker.link.drain();
    for (let id = 1; id <= 300; id++) broker.link.send(publish("other/x", 2, 2, id));
    const acks = broker.link.drain();
    check(acks.length === 300 && acks.every((p, i) => p.type === P.PUBREC && p.packetId === i + 1), "every id acknowledged");
    check(store.get(INCOMING_QOS2_KEY) === undefined && !broker.link.closed && client.counters.ignored === 300, "nothing recorded, link kept");
  },
  "links dying right after CONNACK: the backoff keeps growing": (log) => {
    const { client, broker, clock } = rig(log, () => 0.999);
    client.start();
    for (let i = 0; i < 6; i++) {
      connack(broker, i > 0);
      broker.link.cut();
      const delay = Number(/retry=(\d+)/.exec(log[log.length - 1])?.[1]);
      clock.advance(delay);
    }
    check(log.filter((l) => l.startsWith("event disconnect")).map((l) => l.split("retry=")[1]).join(",") === "99,199,399,799,1598,3196", "doubling delays");
  },
  "refusal 5, then a permanent certificate error: long jittered waits, never stopped; then connected": (log) => {
    const { client, broker, clock } = rig(log, () => 0.25);
    client.start();
    broker.link.open();
    broker.link.expect({ type: P.CONNECT });
    broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 5 });
    check(client.state === "waiting" && client.problem()?.permanent === true, "waiting, permanent problem");
    clock.advance(225_000); // 0.75 x 5 min
    check(broker.links.length === 2, "retried after the long wait");
    broker.link.cut(new TransportError("certificate", "untrusted certificate", true));
    clock.advance(225_000);
    connack(broker);
    check(client.state === "connected" && client.problem() === undefined, "connected once fixed");
  },
};

export const HOSTILE_FLOW_NAMES = Object.keys(SCENARIOS);

export function runHostileFlows(): HostileTranscript[] {
  return runScenarios(SCENARIOS);
}
