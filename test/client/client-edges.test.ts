// Client behaviour the mutation run of client.ts (68.6%) found unpinned: the refusal texts, counters, the per-turn
// byte budget, which timer fires for what, packets before CONNACK, subscription bookkeeping across reconnects, and
// the store-failure path's reports. Each test states what a user or the broker would see.
import { describe, expect, it, vi } from "vitest";
import { ConnectionRefusedError, ProtocolError, StoreFullError, TransportError } from "../../src/errors";
import { encode } from "../../src/mqtt/codec";
import { MqttClient } from "../../src/mqtt/client";
import { PacketType as P } from "../../src/mqtt/constants";
import type { Packet } from "../../src/mqtt/packets";
import { MemoryStore } from "../../src/store/memory-store";
import { FakeClock } from "../support/fake-clock";
import { ScriptedBroker, decodeAll } from "../support/scripted-broker";
import { bytes, handshake, makeClient } from "./harness";

const publish = (topic: string, payload: string, qos: 0 | 1 | 2 = 0, packetId?: number): Packet =>
  ({ type: P.PUBLISH, topic, payload: bytes(payload), qos, retain: false, dup: false, ...(packetId === undefined ? {} : { packetId }) }) as Packet;

describe("CONNACK refusals", () => {
  const cases: Array<[number, string, boolean]> = [
    [1, "broker refused MQTT 3.1.1 (return code 1): use a broker that supports protocol level 4", false],
    [2, "broker rejected the client id (return code 2): set a shorter or different device id", false],
    [3, "broker is unavailable (return code 3): will retry slowly", true],
    [4, "broker refused the username or password (return code 4): fix mqtt_user / mqtt_password", false],
    [5, "broker says this client is not authorized (return code 5): check the broker's ACL for this client id", false],
  ];
  it.each(cases)("return code %i: its text, and a fatal wait unless the broker may heal by itself", async (code, text, retryable) => {
    // The texts are a module-level table: a client from a fresh import of its module, so a mutation test sees a change.
    vi.resetModules();
    const { MqttClient } = await import("../../src/mqtt/client");
    const broker = new ScriptedBroker();
    const errors: Error[] = [];
    const delays: Array<number | undefined> = [];
    const client = new MqttClient(
      { clientId: "dev-1", fatalRetryMs: 300_000, backoffCapMs: 60_000 },
      { transport: broker.transport, clock: new FakeClock(1000), store: new MemoryStore(), random: () => 0.5 },
      { onError: (e) => errors.push(e), onDisconnect: (d) => delays.push(d.willReconnectInMs) },
    );
    client.start();
    broker.link.open();
    broker.link.expect({ type: P.CONNECT, cleanSession: false }); // the default session is persistent
    broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: code });
    const error = errors[0] as ConnectionRefusedError;
    expect([error.name, error.returnCode, error.message, error.retryable]).toEqual(["ConnectionRefusedError", code, text, retryable]);
    // random 0.5: the fatal wait is 300 s x 1.0; the slow backoff 60 s x 0.75.
    expect(delays).toEqual([retryable ? 45_000 : 300_000]);
    expect(client.problem()).toEqual({ message: `connection refused: ${text}`, permanent: !retryable, retryAt: 1000 + (retryable ? 45_000 : 300_000) });
  });
});

describe("what the link's end says", () => {
  it("a peer closing without an error is \"connection closed by peer\", and backs off", () => {
    const { client, broker, seen } = makeClient({ fatalRetryMs: 300_000 });
    client.start();
    broker.link.open();
    broker.link.closeByPeer();
    expect(seen.disconnects[0]).toMatchObject({ reason: "connection closed", willReconnectInMs: 500 });
    expect(seen.disconnects[0].error?.message).toBe("connection closed by peer");
    expect(client.problem()).toEqual({ message: "connection closed: connection closed by peer", permanent: false, retryAt: 1500 });
  });

  it("a TCP error backs off; a certificate error waits fatalRetryMs", () => {
    const { client, broker, clock, seen } = makeClient({ fatalRetryMs: 300_000 });
    client.start();
    broker.link.cut(new TransportError("tcp", "connection reset", false));
    expect(seen.disconnects[0].willReconnectInMs).toBe(500);
    clock.advance(500);
    broker.link.cut(new TransportError("certificate", "unknown CA", true));
    expect(seen.disconnects[1].willReconnectInMs).toBe(300_000);
    expect(client.problem()).toMatchObject({ message: "connection closed: unknown CA", permanent: true });
  });

  it("problem() is empty while connected and has no retry time while connecting", () => {
    const { client, broker, clock } = makeClient();
    client.start();
    broker.link.cut();
    clock.advance(500);
    expect(client.state).toBe("connecting");
    expect(client.problem()).toEqual({ message: "connection closed: link cut by test", permanent: false });
    handshake(broker);
    expect(client.problem()).toBeUndefined();
  });

  it("start() twice opens one link", () => {
    const { client, broker } = makeClient();
    client.start();
    client.start();
    expect(broker.attempts).toBe(1);
  });
});

describe("packets out of order", () => {
  it("any packet before CONNACK is a protocol error naming it", () => {
    for (const packet of [{ type: P.PUBACK, packetId: 1 }, { type: P.PINGRESP }] as Packet[]) {
      const { client, broker, seen } = makeClient();
      client.start();
      broker.link.open();
      broker.link.send(packet);
      expect(seen.errors.map((e) => e.message)).toEqual([`${packet.type === P.PUBACK ? "PUBACK" : "PINGRESP"}: received before CONNACK [MQTT-3.2.0-1]`]);
      expect(client.counters.protocolErrors).toBe(1);
      expect(seen.disconnects[0].reason).toBe("protocol error");
    }
  });

  it("an oversized PUBLISH before CONNACK too", () => {
    const { client, broker, seen } = makeClient({ maxPacketSize: 64 });
    client.start();
    broker.link.open();
    broker.link.send(publish("t", "x".repeat(100), 0));
    expect(seen.errors.map((e) => e.message)).toEqual(["PUBLISH: received before CONNACK [MQTT-3.2.0-1]"]);
    expect(client.counters.received).toBe(0);
  });

  it("session present in answer to a clean session", () => {
    const { client, broker, seen } = makeClient({ cleanSession: true });
    client.start();
    broker.link.open();
    broker.link.send({ type: P.CONNACK, sessionPresent: true, returnCode: 0 });
    expect(seen.errors.map((e) => e.message)).toEqual(["CONNACK: session present is 1 in answer to a clean-session CONNECT [MQTT-3.2.2-1]"]);
  });

  it("a chunk with a whole packet then garbage: the packet is handled, then the link dropped for the garbage", () => {
    const { client, broker, seen } = makeClient();
    client.subscribe("t", 0, () => {});
    client.start();
    handshake(broker);
    broker.link.drain();
    broker.link.sendBytes(Uint8Array.of(...encode(publish("t", "ok")), 0xf0, 0x00));
    expect(seen.messages.map((m) => m.topic)).toEqual(["t"]);
    expect(seen.errors).toHaveLength(1);
    expect(seen.errors[0]).toBeInstanceOf(ProtocolError);
    expect(seen.disconnects.map((d) => d.reason)).toEqual(["protocol error"]);
  });
});

describe("oversized messages from the broker", () => {
  it("are named by their topic, shortened past what the decoder kept, with their QoS and retain flag", () => {
    const { client, broker, seen } = makeClient({ maxPacketSize: 128 });
    client.start();
    handshake(broker);
    const long = "a/" + "b".repeat(200);
    broker.link.send({ type: P.PUBLISH, topic: long, payload: bytes("x"), qos: 1, retain: true, dup: false, packetId: 4 } as Packet);
    broker.link.send({ type: P.PUBLISH, topic: "s", payload: new Uint8Array(200), qos: 0, retain: false, dup: false } as Packet);
    const [first, second] = seen.errors.map((e) => e.message);
    expect(first).toMatch(/^PUBLISH: message of 2\d\d bytes on "a\/b+\.\.\. \(202 bytes\)" \(QoS 1, retained\) exceeds the maximum packet size of 128: /);
    expect(second).toMatch(/^PUBLISH: message of 2\d\d bytes on "s" \(QoS 0\) exceeds the maximum packet size of 128: acknowledged and discarded; /);
    expect(client.counters).toMatchObject({ received: 2, oversized: 2 });
  });
});

describe("subscriptions across reconnects", () => {
  function connected() {
    const made = makeClient();
    made.client.start();
    handshake(made.broker);
    return made;
  }
  const reconnect = (made: ReturnType<typeof connected>, sessionPresent: boolean) => {
    made.broker.link.cut();
    made.clock.advance(made.seen.disconnects.at(-1)?.willReconnectInMs ?? 0);
    handshake(made.broker, sessionPresent);
    return made.broker.link.drain().filter((p) => p.type === P.SUBSCRIBE);
  };

  it("a granted subscription is not sent again while the broker keeps the session; a refused one is", () => {
    const made = connected();
    made.client.subscribe("a/#", 1, () => {});
    made.client.subscribe("b/#", 1, () => {});
    const [a, b] = made.broker.link.drain() as Array<{ packetId: number }>;
    made.broker.link.send({ type: P.SUBACK, packetId: a.packetId, granted: [1] }, { type: P.SUBACK, packetId: b.packetId, granted: [0x80] });
    expect(made.seen.errors.map((e) => e.message)).toEqual(['SUBACK: broker refused the subscription to "b/#" (0x80): check its ACL']);
    expect(reconnect(made, true)).toMatchObject([{ subscriptions: [{ topic: "b/#", qos: 1 }] }]);
  });

  it("a filter unsubscribed (connected or not) and subscribed again is sent again", () => {
    const made = connected();
    made.client.subscribe("a/#", 1, () => {});
    made.client.subscribe("b/#", 1, () => {});
    for (const sub of made.broker.link.drain() as Array<{ packetId: number }>) made.broker.link.send({ type: P.SUBACK, packetId: sub.packetId, granted: [1] });
    made.client.unsubscribe("a/#");
    const unsub = made.broker.link.expect({ type: P.UNSUBSCRIBE }) as { packetId: number };
    made.broker.link.send({ type: P.UNSUBACK, packetId: unsub.packetId });
    made.broker.link.cut();
    made.client.unsubscribe("b/#"); // offline
    made.client.subscribe("a/#", 1, () => {});
    made.client.subscribe("b/#", 1, () => {});
    made.clock.advance(made.seen.disconnects.at(-1)?.willReconnectInMs ?? 0);
    handshake(made.broker, true);
    const subscribes = made.broker.link.drain().filter((p) => p.type === P.SUBSCRIBE) as Array<{ subscriptions: Array<{ topic: string }> }>;
    expect(subscribes.flatMap((s) => s.subscriptions.map((x) => x.topic))).toEqual(["a/#", "b/#"]);
  });

  it("a SUBACK with the wrong number of codes is a protocol error; a message goes only to the handlers it matches", () => {
    const made = connected();
    const got: string[] = [];
    made.client.subscribe("a/#", 0, (m) => got.push("a " + m.topic));
    made.client.subscribe("b/#", 0, (m) => got.push("b " + m.topic));
    const [a] = made.broker.link.drain() as Array<{ packetId: number }>;
    made.broker.link.send(publish("b/1", "x"));
    expect(got).toEqual(["b b/1"]);
    made.broker.link.send({ type: P.SUBACK, packetId: a.packetId, granted: [0, 0] });
    expect(made.seen.errors.map((e) => e.message)).toEqual(["SUBACK: 2 return codes for 1 filters [MQTT-3.8.4-5]"]);
  });
});

describe("publishing", () => {
  it("refuses QoS 3 with the rule", () => {
    const { client } = makeClient();
    expect(() => client.publish("t", "x", { qos: 3 as 0 })).toThrow(new ProtocolError("PUBLISH", "QoS must be 0, 1 or 2, got 3", "[MQTT-3.3.1-4]"));
  });

  it("keeps its own copy of a queued payload: the caller may reuse the array", () => {
    const { client, broker } = makeClient();
    const payload = Uint8Array.of(1, 2, 3);
    client.publish("t", payload, { qos: 1 });
    payload.fill(9);
    client.start();
    handshake(broker);
    expect(broker.link.expect({ type: P.PUBLISH }) as { payload: Uint8Array }).toMatchObject({ payload: Uint8Array.of(1, 2, 3) });
  });

  it("QoS 0 written at once is not retained unless asked, and counts as queued and sent", () => {
    const { client, broker, seen } = makeClient();
    client.start();
    handshake(broker);
    broker.link.drain();
    client.publish("t", "x");
    client.publish("t", "y", { retain: true });
    expect(broker.link.drain().map((p) => (p as { retain: boolean }).retain)).toEqual([false, true]);
    expect(client.counters).toMatchObject({ queued: 2, sent: 2 });
    expect(seen.delivered.map((d) => d.qos)).toEqual([0, 0]);
  });

  it("while the link pushes back, QoS 0 waits its turn behind what is queued, and goes out in order once writable", () => {
    const { client, broker, seen } = makeClient();
    client.start();
    handshake(broker);
    broker.link.drain();
    broker.link.writeLimit = 0;
    client.publish("t", "1", { qos: 1 });
    client.publish("t", "2");
    client.publish("t", "3", { qos: 1 });
    expect(client.queueStats().depth).toBe(3);
    broker.link.writeLimit = Infinity;
    broker.link.writable();
    expect(broker.link.drain().map((p) => new TextDecoder().decode((p as { payload: Uint8Array }).payload))).toEqual(["1", "2", "3"]);
    expect(seen.delivered.map((d) => d.qos)).toEqual([0]);
  });

  it("a full queue drops its oldest unless evict: false is asked; counters say so", () => {
    const { client, seen } = makeClient({ queueMaxMessages: 9, maxInflight: 8 });
    for (let i = 0; i < 10; i++) client.publish("t", String(i), { qos: 1 });
    expect(seen.dropped.map((d) => [d.messageId, d.reason])).toEqual([[1, "queue-full"]]);
    expect(() => client.publish("t", "x", { qos: 1, evict: false })).toThrow(/queue is full/);
    expect(client.counters).toMatchObject({ queued: 10, dropped: 1, sent: 0 });
  });

  it("queueStats: the oldest message's age, 0 when empty", () => {
    const { client, clock } = makeClient();
    expect(client.queueStats()).toEqual({ depth: 0, bytes: 0, oldestAgeMs: 0 });
    client.publish("t", "ab", { qos: 1 });
    clock.advance(700);
    client.publish("t", "c", { qos: 1 });
    expect(client.queueStats()).toEqual({ depth: 2, bytes: 5, oldestAgeMs: 700 });
  });
});

describe("one turn's byte budget", () => {
  it("a backlog goes out in batches of about 16 KiB, one write each, all in the same turn while the link takes them", () => {
    const { client, broker, seen } = makeClient();
    for (let i = 0; i < 40; i++) client.publish("t", "x".repeat(1000));
    client.start();
    broker.link.open();
    broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
    // Each message costs 1009 of 16384: the 17th goes while budget is left, then the batch ends.
    const batches = broker.link.rawWrites.slice(1).map((w) => decodeAll(w).length);
    expect(batches).toEqual([17, 17, 6]);
    expect(seen.delivered).toHaveLength(40);
    expect(client.counters.sent).toBe(40);
  });

  it("a batch the link does not take whole waits for onWritable before the next", () => {
    const { client, broker } = makeClient();
    for (let i = 0; i < 40; i++) client.publish("t", "x".repeat(1000));
    client.start();
    broker.link.open();
    broker.link.writeLimit = 10_000;
    broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
    expect(broker.link.rawWrites.slice(1).map((w) => w.length)).toEqual([10_000]);
    broker.link.writeLimit = Infinity;
    broker.link.writable();
    expect(broker.link.written.filter((p) => p.type === P.PUBLISH)).toHaveLength(40);
  });
});

describe("timers", () => {
  it("one timer at a time: moving a deadline earlier clears the later one, and end() clears the last", () => {
    const { client, broker, clock } = makeClient({ keepAliveSeconds: 60, ackTimeoutMs: 5_000 });
    client.start();
    handshake(broker);
    expect(clock.pending).toBe(1);
    client.publish("t", "x", { qos: 1 }); // ack deadline (5 s) before the keepalive (60 s)
    expect(clock.pending).toBe(1);
    expect(clock.nextDue()).toBe(1000 + 5_000);
    client.end();
    broker.link.send({ type: P.PUBACK, packetId: 1 });
    expect(client.state).toBe("ended");
    expect(clock.pending).toBe(0);
  });

  it("PINGREQ after keepalive since the last write, even while the broker keeps sending", () => {
    const { client, broker, clock } = makeClient({ keepAliveSeconds: 60 });
    client.subscribe("t", 0, () => {});
    client.start();
    handshake(broker);
    const sub = broker.link.expect({ type: P.SUBSCRIBE }) as { packetId: number };
    broker.link.send({ type: P.SUBACK, packetId: sub.packetId, granted: [0] });
    for (let t = 0; t < 3; t++) {
      clock.advance(20_000);
      broker.link.send(publish("t", "x"));
    }
    expect(broker.link.drain().map((p) => p.type)).toEqual([P.PINGREQ]);
  });

  it("with keepalive 0, no PINGREQ ever, even when a timer fires for something else", () => {
    const { client, broker, clock } = makeClient({ keepAliveSeconds: 0, ackTimeoutMs: 30_000 });
    client.start();
    handshake(broker);
    broker.link.drain();
    for (let i = 0; i < 10; i++) {
      client.publish("t", "x", { qos: 1 });
      const sent = broker.link.expect({ type: P.PUBLISH }) as { packetId: number };
      clock.advance(29_000);
      broker.link.send({ type: P.PUBACK, packetId: sent.packetId });
    }
    clock.advance(600_000);
    expect(broker.link.drain()).toEqual([]);
  });

  it("an ack deadline that falls while a PINGREQ is out is reported as the ack timeout it is", () => {
    const { client, broker, clock, seen } = makeClient({ keepAliveSeconds: 20, pingTimeoutMs: 15_000, ackTimeoutMs: 30_000 });
    client.start();
    handshake(broker);
    client.publish("t", "x", { qos: 1 });
    clock.advance(20_000);
    expect(broker.link.drain().map((p) => p.type)).toEqual([P.PUBLISH, P.PINGREQ]);
    clock.advance(10_000);
    expect(seen.disconnects.map((d) => d.reason)).toEqual(["ack timeout"]);
    expect(seen.disconnects[0].error?.message).toBe("no acknowledgement for packet id 1 within 30000 ms");
  });

  it("a PINGRESP arriving with another packet in one chunk answers the PINGREQ", () => {
    const { client, broker, clock, seen } = makeClient({ keepAliveSeconds: 20, pingTimeoutMs: 10_000 });
    client.subscribe("t", 0, () => {});
    client.start();
    handshake(broker);
    const sub = broker.link.expect({ type: P.SUBSCRIBE }) as { packetId: number };
    clock.advance(20_000);
    broker.link.expect({ type: P.PINGREQ });
    broker.link.send({ type: P.SUBACK, packetId: sub.packetId, granted: [0] }, { type: P.PINGRESP });
    clock.advance(9_000);
    broker.link.send({ type: P.PINGRESP }, publish("t", "x"));
    clock.advance(5_000);
    expect(seen.disconnects).toEqual([]);
  });

  it("no CONNACK: the attempt ends at connectTimeoutMs, not before", () => {
    const { client, broker, clock, seen } = makeClient({ connectTimeoutMs: 10_000 });
    client.start();
    broker.link.open();
    clock.advance(9_999);
    expect(seen.disconnects).toEqual([]);
    clock.advance(1);
    expect(seen.disconnects.map((d) => [d.reason, d.error?.message])).toEqual([["connect timeout", "no CONNACK within 10000 ms"]]);
  });
});

describe("ending", () => {
  it("end() outlasts keepalive turns and ends at its deadline; calling it twice keeps the first deadline", () => {
    // A PINGREQ at 5 s whose answer, like the PUBACK, may take a minute: the end deadline (30 s) comes first.
    const { client, broker, clock } = makeClient({ keepAliveSeconds: 5, pingTimeoutMs: 60_000, ackTimeoutMs: 60_000, endTimeoutMs: 30_000 });
    client.start();
    handshake(broker);
    client.publish("t", "x", { qos: 1 });
    broker.link.drain();
    client.end();
    clock.advance(6_000); // a PINGREQ turn: not the end
    expect(client.state).toBe("connected");
    expect(broker.link.drain().map((p) => p.type)).toEqual([P.PINGREQ]);
    client.end(); // the deadline stays at 30 s from the first call
    clock.advance(24_000 - 1);
    expect(client.state).toBe("connected");
    clock.advance(1);
    expect(client.state).toBe("ended");
  });

  it("end() before CONNACK sends no DISCONNECT", () => {
    const { client, broker, seen } = makeClient();
    client.start();
    broker.link.open();
    client.end();
    expect(broker.link.drain().map((p) => p.type)).toEqual([P.CONNECT]);
    expect(broker.link.closed).toBe(true);
    expect(client.state).toBe("ended");
    expect(seen.disconnects).toEqual([]);
  });

  it("a link lost while ending is reported once and the client ends", () => {
    const { client, broker, seen } = makeClient();
    client.start();
    handshake(broker);
    client.publish("t", "x", { qos: 1 });
    let ended = 0;
    client.end(() => ended++);
    broker.link.cut();
    expect(seen.disconnects.map((d) => d.reason)).toEqual(["connection closed"]);
    expect(ended).toBe(1);
    expect(client.state).toBe("ended");
  });
});

describe("counters", () => {
  it("retried counts in-flight messages re-published after the broker lost the session, and resends after it kept it", () => {
    const { client, broker, clock, seen } = makeClient();
    client.start();
    handshake(broker);
    client.publish("t", "1", { qos: 1 });
    client.publish("t", "2", { qos: 1 });
    broker.link.cut();
    clock.advance(seen.disconnects.at(-1)?.willReconnectInMs ?? 0);
    handshake(broker, false);
    expect(client.counters.retried).toBe(2);
    broker.link.cut();
    clock.advance(seen.disconnects.at(-1)?.willReconnectInMs ?? 0);
    handshake(broker, true);
    expect(client.counters.retried).toBe(4);
    expect(client.counters.reconnects).toBe(2);
  });
});

describe("a store that fills", () => {
  /** A MemoryStore whose next `failures` commits fail with StoreFullError (nothing written, as the flash log does). */
  class FillingStore extends MemoryStore {
    failures = 0;
    override commit(): void {
      if (this.failures > 0) {
        this.failures--;
        throw new StoreFullError("store is full (test)");
      }
      super.commit();
    }
  }

  it("reports each message its failed commit lost, and each dropped to make room, then restarts the link", () => {
    const store = new FillingStore();
    const { client, broker, seen } = makeClient({}, { store, clock: new FakeClock(1000), broker: new ScriptedBroker() });
    for (let i = 0; i < 4; i++) client.publish("t/" + i, "x", { qos: 1 });
    client.start();
    broker.link.open();
    store.failures = 1;
    client.publish("t/lost", "x", { qos: 1 });
    expect(seen.dropped).toEqual([
      { messageId: 5, topic: "", qos: 0, reason: "store-full" },
      { messageId: 1, topic: "t/0", qos: 1, reason: "store-full" },
    ]);
    expect(client.counters).toMatchObject({ dropped: 2, storeFailures: 1 });
    expect(seen.errors.map((e) => e.message)).toEqual(["store write failed (store is full (test)); the oldest queued messages are dropped to make room"]);
    expect(seen.disconnects.map((d) => d.reason)).toEqual(["store write failed"]);
    expect(client.queueStats().depth).toBe(3);
  });

  it("offline, a failed commit drops no link", () => {
    const store = new FillingStore();
    const { client, seen } = makeClient({}, { store });
    client.publish("t", "x", { qos: 1 });
    store.failures = 1;
    client.publish("t", "y", { qos: 1 });
    expect(seen.dropped.map((d) => [d.messageId, d.reason])).toEqual([[2, "store-full"], [1, "store-full"]]);
    expect(seen.disconnects).toEqual([]);
  });

  it("still full after the eviction: the messages it could not delete are not reported dropped, and are delivered later", () => {
    const store = new FillingStore();
    const { client, broker, seen } = makeClient({}, { store });
    for (let i = 0; i < 4; i++) client.publish("t/" + i, "x", { qos: 1 });
    store.failures = 2; // the publish's commit, then the eviction's
    client.publish("t/lost", "x", { qos: 1 });
    expect(seen.dropped.map((d) => [d.messageId, d.reason])).toEqual([[5, "store-full"]]);
    expect(client.queueStats().depth).toBe(4);
    client.start();
    handshake(broker);
    const sent = broker.link.drain().filter((p) => p.type === P.PUBLISH) as Array<{ packetId: number }>;
    for (const p of sent) broker.link.send({ type: P.PUBACK, packetId: p.packetId });
    expect(seen.delivered.map((d) => d.messageId)).toEqual([1, 2, 3, 4]);
  });
});

describe("warnings in the log", () => {
  function logged(events: { onError?: (e: Error) => void; onDelivered?: () => void } = {}) {
    const warnings: string[] = [];
    const broker = new ScriptedBroker();
    const clock = new FakeClock(1000);
    const client = new MqttClient(
      { clientId: "dev-1", endTimeoutMs: 5_000 },
      { transport: broker.transport, clock, store: new MemoryStore(), random: () => 0.5, logger: { info: () => {}, warn: (m) => warnings.push(m) } },
      events,
    );
    client.start();
    handshake(broker);
    broker.link.drain();
    return { client, broker, clock, warnings };
  }

  it("a PUBLISH no subscription matches, with its topic cut to 64 characters", () => {
    const { broker, warnings } = logged();
    broker.link.send(publish("x/" + "y".repeat(100), "z", 1, 3));
    expect(warnings).toEqual([`PUBLISH to "x/${"y".repeat(62)}" matches no subscription; acknowledged and ignored`]);
    broker.link.expect({ type: P.PUBACK, packetId: 3 });
  });

  it("end() running out of time, with what stays stored", () => {
    const { client, clock, warnings } = logged();
    client.publish("t", "x", { qos: 1 });
    client.end();
    clock.advance(5_000);
    expect(warnings).toEqual(["end(): 1 message(s) not acknowledged within 5000 ms; they stay stored"]);
  });

  it("an event handler that throws, and an onError that throws while reporting it", () => {
    const quiet = logged({ onDelivered: () => { throw new Error("handler bug"); } });
    quiet.client.publish("t", "x");
    expect(quiet.warnings).toEqual(["event handler threw: handler bug"]);
    const loud = logged({ onDelivered: () => { throw new Error("handler bug"); }, onError: () => { throw new Error("reporter bug"); } });
    loud.client.publish("t", "x");
    expect(loud.warnings).toEqual(["onError handler threw while reporting: handler bug"]);
  });
});

describe("the send loop", () => {
  it("a batch ends when the 16 KiB budget is spent exactly", () => {
    const { client, broker } = makeClient();
    // 1015 bytes of payload + 1 of topic + 8 of header estimate = 1024: sixteen fill the budget to 0.
    for (let i = 0; i < 20; i++) client.publish("t", "x".repeat(1015));
    client.start();
    broker.link.open();
    broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
    expect(broker.link.rawWrites.slice(1).map((w) => decodeAll(w).length)).toEqual([16, 4]);
  });

  it("a QoS 1 message it sends is timed for its ack like one sent at once", () => {
    const { client, broker, clock, seen } = makeClient({ ackTimeoutMs: 10_000, keepAliveSeconds: 0 });
    client.publish("t", "x", { qos: 1 });
    client.start();
    handshake(broker);
    clock.advance(10_000);
    expect(seen.disconnects.map((d) => [d.reason, d.error?.message])).toEqual([["ack timeout", "no acknowledgement for packet id 1 within 10000 ms"]]);
  });

  it("sent at once on a live link: counted, not retained unless asked", () => {
    const { client, broker } = makeClient();
    client.start();
    handshake(broker);
    client.publish("t", "x", { qos: 1 });
    expect(broker.link.expect({ type: P.PUBLISH })).toMatchObject({ retain: false, qos: 1 });
    expect(client.counters).toMatchObject({ queued: 1, sent: 1 });
  });

  it("QoS 0 on an idle live link writes nothing to the store", () => {
    class CountingStore extends MemoryStore {
      puts = 0;
      override putOwned(key: string, value: Uint8Array): void {
        this.puts++; // put() comes through here too
        super.putOwned(key, value);
      }
    }
    const store = new CountingStore();
    const { client, broker } = makeClient({}, { store });
    client.start();
    handshake(broker);
    store.puts = 0; // the CONNACK's turn may write s/meta
    client.publish("t", "x");
    expect(store.puts).toBe(0);
    expect(broker.link.expect({ type: P.PUBLISH })).toMatchObject({ qos: 0 });
  });
});

describe("idle links and old links", () => {
  it("keepalive 0 and nothing in flight: no timer once the connect timeout's has fired", () => {
    const { client, broker, clock } = makeClient({ keepAliveSeconds: 0, connectTimeoutMs: 10_000 });
    client.start();
    handshake(broker);
    clock.advance(10_000); // the attempt's timer, left armed (an earlier timer is never moved), fires and arms none
    expect(clock.pending).toBe(0);
    expect(client.state).toBe("connected");
  });

  it("callbacks of a link the client has left are ignored", () => {
    const { client, broker, clock, seen } = makeClient();
    client.start();
    const old = broker.link;
    old.cut();
    clock.advance(seen.disconnects[0].willReconnectInMs ?? 0);
    handshake(broker);
    old.open();
    old.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
    old.writable();
    old.cut(new Error("late"));
    expect(client.state).toBe("connected");
    expect(seen.errors).toEqual([]);
    expect(seen.disconnects).toHaveLength(1);
    expect(old.written.map((p) => p.type)).toEqual([]);
  });
});
