// QoS 0/1/2 flows of the client against a scripted broker: exact packets, every interruption point, resend rules.
import { describe, expect, it } from "vitest";
import { PacketType } from "../../src/mqtt/constants";
import { encode } from "../../src/mqtt/codec";
import { MAX_INCOMING_QOS2 } from "../../src/mqtt/session";
import { bytes, handshake, makeClient, rebootable } from "./harness";

const P = PacketType;

describe("connect", () => {
  it("sends CONNECT with id, credentials, will, keepalive and a persistent session by default", () => {
    const { client, broker } = makeClient({
      username: "u", password: "p", keepAliveSeconds: 30,
      will: { topic: "dev/status", payload: "offline", qos: 1, retain: true },
    });
    client.start();
    broker.link.open();
    broker.link.expect({
      type: P.CONNECT, clientId: "dev-1", cleanSession: false, keepAlive: 30, username: "u",
      password: bytes("p"), will: { topic: "dev/status", payload: bytes("offline"), qos: 1, retain: true },
    });
    broker.link.expectNothing();
  });

  it("handles a CONNACK split across reads and many packets in one read", () => {
    const { client, broker, seen } = makeClient();
    client.subscribe("cmd/#", 1, () => {});
    client.start();
    broker.link.open();
    broker.link.expect({ type: P.CONNECT });
    const connack = encode({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
    broker.link.sendBytes(connack.subarray(0, 1));
    expect(seen.connects).toEqual([]);
    broker.link.sendBytes(connack.subarray(1));
    expect(seen.connects).toEqual([false]);
    broker.link.expect({ type: P.SUBSCRIBE, packetId: 1, subscriptions: [{ topic: "cmd/#", qos: 1 }] });
    const many = [
      encode({ type: P.SUBACK, packetId: 1, granted: [1] }),
      ...[1, 2, 3].map((i) => encode({ type: P.PUBLISH, topic: `cmd/${i}`, payload: bytes(`m${i}`), qos: 0, retain: false, dup: false })),
    ];
    const joined = new Uint8Array(many.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of many) { joined.set(b, at); at += b.length; }
    broker.link.sendBytes(joined);
    expect(seen.messages.map((m) => m.topic)).toEqual(["cmd/1", "cmd/2", "cmd/3"]);
  });

  it("rejects session present = 1 in answer to a clean-session CONNECT and reconnects", () => {
    const { client, broker, clock, seen } = makeClient({ cleanSession: true });
    client.start();
    broker.link.open();
    broker.link.expect({ type: P.CONNECT, cleanSession: true });
    broker.link.send({ type: P.CONNACK, sessionPresent: true, returnCode: 0 });
    expect(seen.errors[0]?.message).toMatch(/\[MQTT-3\.2\.2-1\]/);
    expect(broker.link.closed).toBe(true);
    clock.advance(499);
    expect(broker.attempts).toBe(1);
    clock.advance(1); // full jitter: random 0.5 x base 1000 ms
    expect(broker.attempts).toBe(2);
  });
});

describe("QoS 0 and 1", () => {
  it("QoS 0 goes out once and is reported delivered when written", () => {
    const { client, broker, seen, store } = makeClient();
    client.start();
    handshake(broker);
    const id = client.publish("t/a", "x", { qos: 0 });
    broker.link.expect({ type: P.PUBLISH, topic: "t/a", qos: 0, dup: false });
    expect(seen.delivered).toEqual([{ messageId: id, topic: "t/a", qos: 0 }]);
    expect(store.list("o/")).toEqual([]);
  });

  it("QoS 1: PUBLISH id 1, PUBACK completes it and empties the store", () => {
    const { client, broker, seen, store } = makeClient();
    client.start();
    handshake(broker);
    const id = client.publish("t/a", "hello", { qos: 1, retain: true });
    broker.link.expect({ type: P.PUBLISH, topic: "t/a", qos: 1, retain: true, dup: false, packetId: 1, payload: bytes("hello") });
    expect(store.list("o/")).toHaveLength(1);
    broker.link.send({ type: P.PUBACK, packetId: 1 });
    expect(seen.delivered).toEqual([{ messageId: id, topic: "t/a", qos: 1 }]);
    expect(store.list("o/")).toEqual([]);
    expect(client.counters.acked).toBe(1);
  });

  it("QoS 1 is resent with DUP=1 and the same id after the link is cut", () => {
    const { client, broker, clock } = makeClient();
    client.start();
    handshake(broker);
    client.publish("t/a", "v", { qos: 1 });
    broker.link.expect({ type: P.PUBLISH, packetId: 1, dup: false });
    broker.link.cut();
    clock.advance(1000);
    handshake(broker, true);
    broker.link.expect({ type: P.PUBLISH, packetId: 1, dup: true, payload: bytes("v") });
    broker.link.expectNothing();
    expect(client.counters.retried).toBe(1);
  });

  it("keeps at most maxInflight messages in flight; the rest follow in order as acks arrive", () => {
    const { client, broker } = makeClient({ maxInflight: 2 });
    client.start();
    handshake(broker);
    for (let i = 0; i < 4; i++) client.publish("t", `m${i}`, { qos: 1 });
    expect(broker.link.drain().map((p) => (p as { packetId: number }).packetId)).toEqual([1, 2]);
    broker.link.send({ type: P.PUBACK, packetId: 1 });
    broker.link.expect({ type: P.PUBLISH, packetId: 3, payload: bytes("m2") });
    broker.link.expectNothing();
    broker.link.send({ type: P.PUBACK, packetId: 2 });
    broker.link.expect({ type: P.PUBLISH, packetId: 4, payload: bytes("m3") });
  });
});

describe("QoS 2", () => {
  function connected() {
    const t = makeClient();
    t.client.start();
    handshake(t.broker);
    return t;
  }

  it("full flow: PUBLISH, PUBREC -> PUBREL, PUBCOMP -> delivered", () => {
    const { client, broker, seen, store } = connected();
    client.publish("t/q2", "z", { qos: 2 });
    broker.link.expect({ type: P.PUBLISH, qos: 2, packetId: 1 });
    broker.link.send({ type: P.PUBREC, packetId: 1 });
    broker.link.expect({ type: P.PUBREL, packetId: 1 });
    expect(seen.delivered).toEqual([]);
    broker.link.send({ type: P.PUBCOMP, packetId: 1 });
    expect(seen.delivered.map((d) => d.qos)).toEqual([2]);
    expect(store.list("o/")).toEqual([]);
  });

  it("lost before PUBREC: PUBLISH is resent with the same id and DUP=1", () => {
    const { client, broker, clock } = connected();
    client.publish("t/q2", "z", { qos: 2 });
    broker.link.expect({ type: P.PUBLISH, packetId: 1, dup: false });
    broker.link.cut();
    clock.advance(1000);
    handshake(broker, true);
    broker.link.expect({ type: P.PUBLISH, qos: 2, packetId: 1, dup: true });
    broker.link.expectNothing();
  });

  it("lost after PUBREC: PUBREL (fixed header 0x62) is resent, not PUBLISH", () => {
    const { client, broker, clock } = connected();
    client.publish("t/q2", "z", { qos: 2 });
    broker.link.expect({ type: P.PUBLISH, packetId: 1 });
    broker.link.send({ type: P.PUBREC, packetId: 1 });
    broker.link.expect({ type: P.PUBREL, packetId: 1 });
    broker.link.cut();
    clock.advance(1000);
    const next = broker.link;
    handshake(broker, true);
    expect(next.rawWrites[next.rawWrites.length - 1]).toEqual(new Uint8Array([0x62, 0x02, 0x00, 0x01]));
    next.expect({ type: P.PUBREL, packetId: 1 });
    next.expectNothing();
  });

  it("lost after PUBREL: PUBREL again; PUBCOMP then completes it", () => {
    const { client, broker, clock, seen } = connected();
    client.publish("t/q2", "z", { qos: 2 });
    broker.link.drain();
    broker.link.send({ type: P.PUBREC, packetId: 1 });
    broker.link.expect({ type: P.PUBREL, packetId: 1 });
    broker.link.cut();
    clock.advance(1000);
    handshake(broker, true);
    broker.link.expect({ type: P.PUBREL, packetId: 1 });
    broker.link.send({ type: P.PUBCOMP, packetId: 1 });
    expect(seen.delivered).toHaveLength(1);
  });

  it("resends keep the original publish order across QoS 1 and QoS 2 states", () => {
    const { client, broker, clock } = connected();
    client.publish("t", "a", { qos: 2 }); // id 1, will reach PUBREC
    client.publish("t", "b", { qos: 1 }); // id 2, unacked
    client.publish("t", "c", { qos: 2 }); // id 3, unacked
    broker.link.drain();
    broker.link.send({ type: P.PUBREC, packetId: 1 });
    broker.link.drain();
    broker.link.cut();
    clock.advance(1000);
    handshake(broker, true);
    const resent = broker.link.drain();
    expect(resent.map((p) => [p.type, (p as { packetId: number }).packetId])).toEqual([[P.PUBREL, 1], [P.PUBLISH, 2], [P.PUBLISH, 3]]);
  });

  it("a PUBACK for a QoS 2 message is a protocol error naming packet, id and state; the message survives", () => {
    const { client, broker, clock, seen } = connected();
    client.publish("t", "a", { qos: 2 });
    broker.link.drain();
    broker.link.send({ type: P.PUBACK, packetId: 1 });
    expect(seen.errors[0]?.message).toMatch(/PUBACK: packet id 1 is awaiting PUBREC/);
    expect(broker.link.closed).toBe(true);
    clock.advance(1000);
    handshake(broker, true);
    broker.link.expect({ type: P.PUBLISH, packetId: 1, dup: true });
  });
});

describe("incoming QoS 2 exactly once", () => {
  it("a duplicate PUBLISH before PUBREL and a repeated PUBREL deliver the message once", () => {
    const { client, broker, seen } = makeClient();
    client.subscribe("in/#", 2, () => {});
    client.start();
    handshake(broker);
    broker.link.drain();
    const publish = { type: P.PUBLISH, topic: "in/x", payload: bytes("once"), qos: 2 as const, retain: false, dup: false, packetId: 7 };
    broker.link.send(publish);
    broker.link.expect({ type: P.PUBREC, packetId: 7 });
    broker.link.send({ ...publish, dup: true });
    broker.link.expect({ type: P.PUBREC, packetId: 7 });
    broker.link.send({ type: P.PUBREL, packetId: 7 });
    broker.link.expect({ type: P.PUBCOMP, packetId: 7 });
    broker.link.send({ type: P.PUBREL, packetId: 7 });
    broker.link.expect({ type: P.PUBCOMP, packetId: 7 });
    expect(seen.messages.map((m) => m.topic)).toEqual(["in/x"]);
  });

  it("the id survives a reboot between PUBLISH and PUBREL, so the resent PUBLISH is not delivered again", () => {
    const device = rebootable();
    const { broker, clock } = device;
    const first = device.boot();
    first.client.subscribe("in/#", 2, () => {});
    first.client.start();
    handshake(broker);
    const publish = { type: P.PUBLISH, topic: "in/x", payload: bytes("once"), qos: 2 as const, retain: false, dup: false, packetId: 9 };
    broker.link.send(publish);
    expect(first.seen.messages).toHaveLength(1);
    const second = device.boot();
    second.client.subscribe("in/#", 2, () => {});
    second.client.start();
    handshake(broker, true);
    broker.link.expect({ type: P.SUBSCRIBE }); // the first boot's SUBSCRIBE was never acknowledged
    broker.link.send({ ...publish, dup: true });
    broker.link.expect({ type: P.PUBREC, packetId: 9 });
    expect(second.seen.messages).toHaveLength(0);
  });

  it("PUBREL for an unknown id is answered with PUBCOMP; PUBACK/PUBCOMP for unknown ids are ignored", () => {
    const { client, broker, seen } = makeClient();
    client.start();
    handshake(broker);
    broker.link.send({ type: P.PUBREL, packetId: 42 });
    broker.link.expect({ type: P.PUBCOMP, packetId: 42 });
    broker.link.send({ type: P.PUBACK, packetId: 5 }, { type: P.PUBCOMP, packetId: 6 }, { type: P.PUBREC, packetId: 8 });
    broker.link.expectNothing();
    expect(seen.errors).toEqual([]);
    expect(broker.link.closed).toBe(false);
  });
});

describe("session present = 0 with messages in flight", () => {
  it("re-publishes them as new messages (DUP=0, ids from 1), in order, and resubscribes", () => {
    const { client, broker, clock, seen } = makeClient();
    client.subscribe("cmd/#", 1, () => {});
    client.start();
    handshake(broker);
    broker.link.expect({ type: P.SUBSCRIBE, packetId: 1 });
    broker.link.send({ type: P.SUBACK, packetId: 1, granted: [1] });
    client.publish("t", "a", { qos: 1 });
    client.publish("t", "b", { qos: 2 });
    expect(broker.link.drain().map((p) => (p as { packetId: number }).packetId)).toEqual([2, 3]);
    broker.link.send({ type: P.PUBREC, packetId: 3 });
    broker.link.drain();
    broker.link.cut();
    clock.advance(1000);
    handshake(broker, false);
    const after = broker.link.drain();
    expect(after).toMatchObject([
      { type: P.SUBSCRIBE, subscriptions: [{ topic: "cmd/#", qos: 1 }] },
      { type: P.PUBLISH, payload: bytes("a"), dup: false },
      { type: P.PUBLISH, payload: bytes("b"), dup: false },
    ]);
    const ids = after.map((p) => (p as { packetId: number }).packetId);
    expect(new Set(ids).size).toBe(3);
    expect(Math.min(...ids)).toBe(1);
    expect(seen.dropped).toEqual([]);
  });
});

describe("packet ids", () => {
  it("are never 0, wrap from 65535 to 1 and skip ids still in use", () => {
    const { client, broker } = makeClient({ maxInflight: 3, queueMaxMessages: 100 });
    client.start();
    handshake(broker);
    client.publish("t", "hold", { qos: 1 }); // id 1 stays in flight
    broker.link.expect({ type: P.PUBLISH, packetId: 1 });
    const seenIds: number[] = [];
    for (let i = 0; i < 65536; i++) {
      client.publish("t", "x", { qos: 1 });
      const packet = broker.link.expect({ type: P.PUBLISH }) as { packetId: number };
      seenIds.push(packet.packetId);
      broker.link.send({ type: P.PUBACK, packetId: packet.packetId });
    }
    expect(seenIds).not.toContain(0);
    expect(seenIds).not.toContain(1);
    expect(seenIds[65533]).toBe(65535);
    expect(seenIds[65534]).toBe(2);
  });
});

it("a broker leaving too many incoming QoS 2 messages without PUBREL is refused, bounding the stored id record", () => {
  const { client, broker, seen, store } = makeClient();
  client.subscribe("in/#", 2, () => {});
  client.start();
  handshake(broker);
  broker.link.drain();
  for (let id = 1; id <= MAX_INCOMING_QOS2; id++) {
    broker.link.send({ type: P.PUBLISH, topic: "in/x", payload: bytes(`m${id}`), qos: 2, retain: false, dup: false, packetId: id });
  }
  expect(broker.link.closed).toBe(false);
  expect(store.get("s/in2")?.length).toBe(2 * MAX_INCOMING_QOS2);
  broker.link.send({ type: P.PUBLISH, topic: "in/x", payload: bytes("one too many"), qos: 2, retain: false, dup: false, packetId: MAX_INCOMING_QOS2 + 1 });
  expect(seen.errors.at(-1)?.message).toMatch(/QoS 2 messages awaiting PUBREL/);
  expect(broker.link.closed).toBe(true);
  expect(store.get("s/in2")?.length).toBe(2 * MAX_INCOMING_QOS2);
});
