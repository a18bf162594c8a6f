// Connection behaviour against a scripted broker and a fake clock: keepalive, timeouts, backoff, refusals, end(),
// partial writes, queue limits, reboots and a corrupt store.
import { describe, expect, it } from "vitest";
import { PacketType } from "../../src/mqtt/constants";
import { MqttClient } from "../../src/mqtt/client";
import { ConfigError, ConnectionRefusedError, QueueFullError, StorageError } from "../../src/errors";
import { MemoryStore } from "../../src/store/memory-store";
import { messageKey } from "../../src/mqtt/session-records";
import { ID_RESERVE } from "../../src/mqtt/session";
import { FakeClock } from "../support/fake-clock";
import { ScriptedBroker } from "../support/scripted-broker";
import { bytes, handshake, makeClient, rebootable } from "./harness";

const P = PacketType;

describe("keepalive", () => {
  it("sends PINGREQ after the keepalive interval of silence, and stays up when PINGRESP comes", () => {
    const { client, broker, clock } = makeClient({ keepAliveSeconds: 10, pingTimeoutMs: 3000 });
    client.start();
    handshake(broker);
    clock.advance(9_999);
    broker.link.expectNothing();
    clock.advance(1);
    broker.link.expect({ type: P.PINGREQ });
    broker.link.send({ type: P.PINGRESP });
    clock.advance(5_000);
    expect(broker.link.closed).toBe(false);
    expect(broker.attempts).toBe(1);
  });

  it("drops the link and reconnects when no PINGRESP arrives in time", () => {
    const { client, broker, clock, seen } = makeClient({ keepAliveSeconds: 10, pingTimeoutMs: 3000 });
    client.start();
    handshake(broker);
    clock.advance(10_000);
    broker.link.expect({ type: P.PINGREQ });
    clock.advance(2_999);
    expect(broker.link.closed).toBe(false);
    clock.advance(1);
    expect(broker.link.closed).toBe(true);
    expect(seen.disconnects[0]?.reason).toBe("keepalive timeout");
    clock.advance(seen.disconnects[0]?.willReconnectInMs ?? 0);
    expect(broker.attempts).toBe(2);
  });

  it("does not ping while traffic flows both ways", () => {
    const { client, broker, clock } = makeClient({ keepAliveSeconds: 10 });
    client.start();
    handshake(broker);
    for (let i = 0; i < 5; i++) {
      clock.advance(6_000);
      client.publish("t", "x", { qos: 1 });
      const packet = broker.link.expect({ type: P.PUBLISH }) as { packetId: number };
      broker.link.send({ type: P.PUBACK, packetId: packet.packetId });
    }
    broker.link.expectNothing();
  });
});

describe("timeouts and backoff", () => {
  it("CONNACK never arrives: gives up after connectTimeoutMs and retries", () => {
    const { client, broker, clock, seen } = makeClient({ connectTimeoutMs: 5000 });
    client.start();
    broker.link.open();
    broker.link.expect({ type: P.CONNECT });
    clock.advance(4_999);
    expect(broker.link.closed).toBe(false);
    clock.advance(1);
    expect(broker.link.closed).toBe(true);
    expect(seen.disconnects[0]?.reason).toBe("connect timeout");
    clock.advance(seen.disconnects[0]?.willReconnectInMs ?? 0);
    expect(broker.attempts).toBe(2);
    handshake(broker);
    expect(client.state).toBe("connected");
  });

  it("backs off exponentially with full jitter up to the cap, and resets once a connection has stayed up stableConnectionMs", () => {
    const randoms = [0.999, 0.999, 0.999, 0.999, 0.999, 0.999, 0.25];
    const { client, broker, clock, seen } = makeClient({ backoffBaseMs: 100, backoffCapMs: 1000, connectTimeoutMs: 50 }, { random: () => randoms.shift() ?? 0.5 });
    client.start();
    for (let i = 0; i < 6; i++) {
      clock.advance(50); // connect timeout
      clock.advance(seen.disconnects[i].willReconnectInMs ?? 0);
    }
    expect(seen.disconnects.map((d) => d.willReconnectInMs)).toEqual([99, 199, 399, 799, 999, 999]);
    handshake(broker);
    clock.advance(30_000); // CLIENT_DEFAULTS.stableConnectionMs
    broker.link.cut();
    expect(seen.disconnects[6].willReconnectInMs).toBe(25); // 0.25 x base again
  });

  it("a connection that dies soon after CONNACK keeps the backoff growing (a poison message brought back by the session)", () => {
    const { client, broker, clock, seen } = makeClient({ backoffBaseMs: 100, backoffCapMs: 100_000 }, { random: () => 0.999 });
    client.start();
    for (let i = 0; i < 8; i++) {
      handshake(broker, i > 0);
      clock.advance(29_999);
      broker.link.cut();
      clock.advance(seen.disconnects[i].willReconnectInMs ?? 0);
    }
    expect(seen.disconnects.map((d) => d.willReconnectInMs)).toEqual([99, 199, 399, 799, 1598, 3196, 6393, 12787]);
    expect(broker.attempts).toBe(9);
  });

  it("an ack late past ackTimeoutMs on a live link drops it; the message is resent after reconnect, never on the live link", () => {
    const { client, broker, clock, seen } = makeClient({ ackTimeoutMs: 2000, keepAliveSeconds: 0 });
    client.start();
    handshake(broker);
    client.publish("t", "late", { qos: 1 });
    broker.link.expect({ type: P.PUBLISH, packetId: 1, dup: false });
    clock.advance(1_999);
    broker.link.expectNothing();
    clock.advance(1);
    expect(broker.link.closed).toBe(true);
    expect(seen.disconnects[0].reason).toBe("ack timeout");
    clock.advance(seen.disconnects[0].willReconnectInMs ?? 0);
    handshake(broker, true);
    broker.link.expect({ type: P.PUBLISH, packetId: 1, dup: true });
  });

  it("a transport factory that throws counts as a failed attempt", () => {
    const { client, broker, clock, seen } = makeClient();
    broker.failNextOpen = new Error("no route to host");
    client.start();
    expect(seen.disconnects[0]).toMatchObject({ reason: "could not open connection" });
    clock.advance(seen.disconnects[0].willReconnectInMs ?? 0);
    expect(broker.attempts).toBe(1);
    handshake(broker);
    expect(client.state).toBe("connected");
  });
});

describe("refused connections", () => {
  it("bad credentials (code 4) never stop the client: it retries only every fatalRetryMs (jittered), says why, and connects once fixed", () => {
    const randoms = [0, 0.999, 0.5];
    const { client, broker, clock, seen } = makeClient({}, { random: () => randoms.shift() ?? 0.5 });
    client.start();
    broker.link.open();
    broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 4 });
    expect(client.state).toBe("waiting");
    expect(seen.errors[0]).toBeInstanceOf(ConnectionRefusedError);
    expect(seen.errors[0].message).toMatch(/mqtt_user/);
    // 0.5 x 5 min with random 0: never a tight loop.
    expect(seen.disconnects[0].willReconnectInMs).toBe(150_000);
    expect(client.problem()).toEqual({ message: expect.stringMatching(/^connection refused: .*return code 4/), permanent: true, retryAt: clock.now() + 150_000 });
    clock.advance(149_999);
    expect(broker.attempts).toBe(1);
    clock.advance(1);
    expect(broker.attempts).toBe(2);
    broker.link.open();
    broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 4 });
    expect(seen.disconnects[1].willReconnectInMs).toBe(449_700); // 1.4997 x 5 min
    clock.advance(449_700);
    handshake(broker);
    expect(client.state).toBe("connected");
    expect(client.problem()).toBeUndefined();
  });

  it("server unavailable (code 3) retries, slowly: near the backoff cap", () => {
    const { client, broker, clock, seen } = makeClient({ backoffCapMs: 60_000 });
    client.start();
    broker.link.open();
    broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 3 });
    const delay = seen.disconnects[0].willReconnectInMs ?? 0;
    expect(delay).toBeGreaterThanOrEqual(30_000);
    expect(delay).toBeLessThanOrEqual(60_000);
    clock.advance(delay - 1);
    expect(broker.attempts).toBe(1);
    clock.advance(1);
    expect(broker.attempts).toBe(2);
  });

  it("with refusedPolicy retry-slowly even bad credentials retry, at the cap", () => {
    const { client, broker, clock } = makeClient({ refusedPolicy: "retry-slowly", backoffCapMs: 10_000 });
    client.start();
    broker.link.open();
    broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 5 });
    clock.advance(4_999);
    expect(broker.attempts).toBe(1);
    clock.advance(5_001);
    expect(broker.attempts).toBe(2);
  });
});

describe("writes", () => {
  it("partial writes: the rest goes out when the link is writable again, in order", () => {
    const { client, broker } = makeClient();
    client.start();
    handshake(broker);
    broker.link.writeLimit = 3;
    client.publish("t/long", "0123456789", { qos: 1 });
    client.publish("t/long", "abcdefghij", { qos: 1 });
    expect(broker.link.written).toEqual([]);
    for (let i = 0; i < 20 && broker.link.written.length < 2; i++) broker.link.writable();
    broker.link.expect({ type: P.PUBLISH, packetId: 1, payload: bytes("0123456789") });
    broker.link.expect({ type: P.PUBLISH, packetId: 2, payload: bytes("abcdefghij") });
  });

  it("a flaky link never carries the same queued PUBLISH or SUBSCRIBE twice in one connection", () => {
    const { client, broker, clock, seen } = makeClient({ maxInflight: 4 });
    client.subscribe("cmd/#", 1, () => {});
    for (let i = 0; i < 10; i++) client.publish("t", `m${i}`, { qos: 1 });
    client.start();
    for (let round = 0; round < 6; round++) {
      handshake(broker, round > 0);
      const packets = broker.link.drain();
      const keys = packets.map((p) => `${p.type}:${(p as { packetId?: number }).packetId}`);
      expect(new Set(keys).size, `duplicate in connection ${round}: ${keys}`).toBe(keys.length);
      // ack one publish per round, then cut
      const first = packets.find((p) => p.type === P.PUBLISH) as { packetId: number } | undefined;
      expect(first, `round ${round}: no PUBLISH resent`).toBeDefined(); // 10 queued, one acked per round
      broker.link.send({ type: P.PUBACK, packetId: first!.packetId });
      // The ack frees a slot in the window: the client sends the next queued PUBLISH on the same connection, and
      // that must be a new one, never one this connection already carried.
      const after = broker.link.drain();
      const afterKeys = after.map((p) => `${p.type}:${(p as { packetId?: number }).packetId}`);
      expect(after.filter((p) => p.type === P.PUBLISH), `round ${round}: nothing sent after the ack`).toHaveLength(1);
      for (const key of afterKeys) expect(keys).not.toContain(key);
      broker.link.cut();
      clock.advance(seen.disconnects[seen.disconnects.length - 1].willReconnectInMs ?? 0);
    }
  });
});

describe("offline queue", () => {
  it("when full, drops the oldest QoS 0 first, then the oldest, counting and reporting each drop", () => {
    const { client, seen } = makeClient({ queueMaxMessages: 10, maxInflight: 2 });
    const ids: number[] = [];
    ids.push(client.publish("t", "q1-a", { qos: 1 }));
    ids.push(client.publish("t", "q0-a", { qos: 0 }));
    for (let i = 0; i < 8; i++) ids.push(client.publish("t", `q1-${i}`, { qos: 1 }));
    client.publish("t", "new-1", { qos: 1 });
    expect(seen.dropped.map((d) => d.messageId)).toEqual([ids[1]]);
    client.publish("t", "new-2", { qos: 1 });
    expect(seen.dropped.map((d) => d.messageId)).toEqual([ids[1], ids[0]]);
    expect(client.counters.dropped).toBe(2);
    expect(client.queueStats().depth).toBe(10);
  });

  it("reject-new refuses with QueueFullError and keeps what is queued", () => {
    const { client } = makeClient({ queueMaxMessages: 3, maxInflight: 1, dropPolicy: "reject-new" });
    for (let i = 0; i < 3; i++) client.publish("t", "x", { qos: 1 });
    expect(() => client.publish("t", "x", { qos: 1 })).toThrow(QueueFullError);
    expect(client.queueStats().depth).toBe(3);
  });

  it("a byte limit bounds the queue too", () => {
    const { client, seen } = makeClient({ queueMaxBytes: 100, maxInflight: 1 });
    for (let i = 0; i < 10; i++) client.publish("t", "0123456789", { qos: 1 }); // 11 bytes each
    expect(client.queueStats().bytes).toBeLessThanOrEqual(100);
    expect(seen.dropped.length).toBe(1);
    expect(() => client.publish("t", new Uint8Array(200), { qos: 1 })).toThrow(/queueMaxBytes/);
  });

  it("messages published while offline go out in order on connect", () => {
    const { client, broker } = makeClient();
    for (let i = 0; i < 3; i++) client.publish("t", `m${i}`, { qos: 1 });
    client.start();
    handshake(broker);
    expect(broker.link.drain().map((p) => (p as { payload: Uint8Array }).payload)).toEqual([bytes("m0"), bytes("m1"), bytes("m2")]);
  });
});

describe("reboot and store", () => {
  it("a client dropped mid-flight (no shutdown) is replaced by one on the same store that delivers everything", () => {
    const device = rebootable({ maxInflight: 2 });
    const { broker, clock } = device;
    const first = device.boot();
    first.client.start();
    handshake(broker);
    first.client.publish("t", "a", { qos: 1 });
    first.client.publish("t", "b", { qos: 2 });
    first.client.publish("t", "c", { qos: 2 }); // queued behind the window
    broker.link.drain();
    broker.link.send({ type: P.PUBREC, packetId: 2 });
    broker.link.drain();
    // power cut: the first client is simply forgotten
    const second = device.boot();
    second.client.start();
    handshake(broker, true);
    expect(broker.link.drain()).toMatchObject([
      { type: P.PUBLISH, packetId: 1, dup: true, payload: bytes("a") },
      { type: P.PUBREL, packetId: 2 },
    ]);
    broker.link.send({ type: P.PUBACK, packetId: 1 });
    // s/meta was written at the first CONNACK (no session: cursor back to 1), ID_RESERVE ids ahead: the reboot starts there.
    const c = 1 + ID_RESERVE;
    broker.link.expect({ type: P.PUBLISH, packetId: c, payload: bytes("c"), dup: false });
    broker.link.send({ type: P.PUBCOMP, packetId: 2 }, { type: P.PUBREC, packetId: c });
    broker.link.expect({ type: P.PUBREL, packetId: c });
    broker.link.send({ type: P.PUBCOMP, packetId: c });
    expect(second.seen.delivered.map((d) => d.topic)).toEqual(["t", "t", "t"]);
    expect(second.client.queueStats().depth).toBe(0);
  });

  it("a corrupt message record is reported with StorageError naming the key, never used", () => {
    const committed = new Map<string, Uint8Array>();
    committed.set(messageKey(1), new Uint8Array([9, 9, 9]));
    expect(() => makeClient({}, { store: new MemoryStore(committed) })).toThrow(StorageError);
    expect(() => makeClient({}, { store: new MemoryStore(committed) })).toThrow(/o\/00000001/);
  });

  it("packet ids start at 1 for a new session and go on, past every id used before, across a reboot with a present session", () => {
    const device = rebootable();
    const { broker, clock } = device;
    const first = device.boot();
    first.client.start();
    handshake(broker);
    first.client.publish("t", "a", { qos: 1 });
    broker.link.expect({ type: P.PUBLISH, packetId: 1 });
    broker.link.send({ type: P.PUBACK, packetId: 1 });
    const second = device.boot();
    second.client.start();
    handshake(broker, true);
    second.client.publish("t", "b", { qos: 1 });
    broker.link.expect({ type: P.PUBLISH, packetId: 1 + ID_RESERVE }); // where s/meta put them at the first CONNACK (see Session.commit)
  });

  it("writes the id counters once per ID_RESERVE messages, and a reboot after any of them reuses no message or packet id", () => {
    const device = rebootable();
    const { broker, flash } = device;
    let booted = device.boot();
    booted.client.start();
    handshake(broker);
    const messageIds = new Set<number>();
    const packetIds = new Set<number>();
    const send = (payload: string): number => {
      const id = booted.client.publish("t", payload, { qos: 1 });
      const packet = broker.link.expect({ type: P.PUBLISH }) as { packetId: number };
      expect(packetIds.has(packet.packetId)).toBe(false);
      packetIds.add(packet.packetId);
      broker.link.send({ type: P.PUBACK, packetId: packet.packetId });
      return id;
    };
    let metaWrites = 0;
    let meta = flash.get("s/meta");
    for (let i = 0; i < 4 * ID_RESERVE; i++) {
      if (i % 100 === 99) {
        // power cut and reboot between two messages, wherever that falls against the reservation
        booted = device.boot();
        booted.client.start();
        handshake(broker, true);
      }
      const id = send(`m${i}`);
      expect(messageIds.has(id)).toBe(false);
      messageIds.add(id);
      // UNSUBSCRIBE takes packet ids and no message id: s/meta must cover packet ids running ahead.
      if (i % 4 === 0) {
        for (let k = 0; k < 3; k++) {
          booted.client.unsubscribe(`x/${k}`);
          const packet = broker.link.expect({ type: P.UNSUBSCRIBE }) as { packetId: number };
          expect(packetIds.has(packet.packetId)).toBe(false);
          packetIds.add(packet.packetId);
          broker.link.send({ type: P.UNSUBACK, packetId: packet.packetId });
        }
      }
      if (flash.get("s/meta") !== meta) metaWrites++;
      meta = flash.get("s/meta");
    }
    // 448 packet ids, 256 message ids: about one write per ID_RESERVE packet ids, plus one after each of the three boots.
    expect(metaWrites).toBeLessThanOrEqual(8 + 3);
    expect(metaWrites).toBeGreaterThanOrEqual(7);
  });
});

describe("end()", () => {
  it("waits for in-flight messages, sends DISCONNECT and never reconnects", () => {
    const { client, broker, clock } = makeClient();
    client.start();
    handshake(broker);
    client.publish("t", "last", { qos: 1 });
    broker.link.expect({ type: P.PUBLISH, packetId: 1 });
    let ended = false;
    client.end(() => { ended = true; });
    expect(ended).toBe(false);
    broker.link.expectNothing();
    broker.link.send({ type: P.PUBACK, packetId: 1 });
    broker.link.expect({ type: P.DISCONNECT });
    expect(ended).toBe(true);
    expect(broker.link.closed).toBe(true);
    expect(client.state).toBe("ended");
    clock.advance(3600_000);
    expect(broker.attempts).toBe(1);
    expect(() => client.publish("t", "x")).toThrow(/after end/);
  });

  it("a link lost while ending ends without reconnecting; the message stays stored", () => {
    const committed = new Map<string, Uint8Array>();
    const { client, broker, clock } = makeClient({}, { store: new MemoryStore(committed) });
    client.start();
    handshake(broker);
    client.publish("t", "last", { qos: 1 });
    client.end();
    broker.link.cut();
    clock.advance(3600_000);
    expect(broker.attempts).toBe(1);
    expect([...committed.keys()].filter((k) => k.startsWith("o/"))).toHaveLength(1);
  });
});

describe("user callbacks", () => {
  it("a handler that publishes, or throws, from inside a delivery leaves the client consistent", () => {
    const { client, broker, seen } = makeClient();
    client.subscribe("cmd/ping", 1, (message) => {
      client.publish("reply", message.payload, { qos: 1 });
      throw new Error("handler bug");
    });
    client.start();
    handshake(broker);
    broker.link.expect({ type: P.SUBSCRIBE, packetId: 1 });
    broker.link.send({ type: P.SUBACK, packetId: 1, granted: [1] });
    broker.link.send({ type: P.PUBLISH, topic: "cmd/ping", payload: bytes("p"), qos: 1, retain: false, dup: false, packetId: 3 });
    broker.link.expect({ type: P.PUBACK, packetId: 3 });
    broker.link.expect({ type: P.PUBLISH, topic: "reply", packetId: 2 });
    expect(seen.errors.map((e) => e.message)).toEqual(["handler bug"]);
  });

  it("a refused subscription (SUBACK 0x80) is reported with the filter", () => {
    const { client, broker, seen } = makeClient();
    client.subscribe("secret/#", 1, () => {});
    client.start();
    handshake(broker);
    broker.link.expect({ type: P.SUBSCRIBE, packetId: 1 });
    broker.link.send({ type: P.SUBACK, packetId: 1, granted: [0x80] });
    expect(seen.errors[0].message).toMatch(/secret\/#/);
  });
});

it("rejects nonsensical options with the option's name", () => {
  const broker = new ScriptedBroker();
  const deps = { transport: broker.transport, clock: new FakeClock(), store: new MemoryStore(), random: () => 0.5 };
  expect(() => new MqttClient({ clientId: "x", maxInflight: 0 }, deps)).toThrow(/maxInflight/);
  expect(() => new MqttClient({ clientId: "x", maxInflight: 10, queueMaxMessages: 5 }, deps)).toThrow(/queueMaxMessages/);
  expect(() => new MqttClient({ clientId: "x", keepAliveSeconds: 70000 }, deps)).toThrow(/keepAliveSeconds/);
});

it("an empty client id with a persistent session is refused when the client is built [MQTT-3.1.3-7]; with cleanSession it is allowed", () => {
  const broker = new ScriptedBroker();
  const deps = { transport: broker.transport, clock: new FakeClock(), store: new MemoryStore(), random: () => 0.5 };
  expect(() => new MqttClient({ clientId: "" }, deps)).toThrow(ConfigError);
  expect(() => new MqttClient({ clientId: "", cleanSession: false }, deps)).toThrow("[MQTT-3.1.3-7]");
  expect(() => new MqttClient({ clientId: "", cleanSession: true }, deps)).not.toThrow();
});

it("a broker trickling bytes of a packet that never completes does not hold off the keepalive timeout", () => {
  const { client, broker, clock, seen } = makeClient({ keepAliveSeconds: 10, pingTimeoutMs: 3000 });
  client.start();
  handshake(broker);
  clock.advance(10_000);
  broker.link.expect({ type: P.PINGREQ });
  broker.link.sendBytes(new Uint8Array([0x30, 0xff, 0x7f])); // PUBLISH header announcing ~16 KB
  for (let i = 0; i < 3; i++) {
    clock.advance(1000);
    if (!broker.link.closed) broker.link.sendBytes(new Uint8Array([0x41]));
  }
  expect(broker.link.closed).toBe(true);
  expect(seen.disconnects[0].reason).toBe("keepalive timeout");
});

it("keeps reconnecting when its clock's timers fire a little early (as Node's do)", () => {
  // A clock whose timers fire 1 ms before they are due against its own now() (time still passes: never at 0 ms).
  const inner = new FakeClock(1000);
  const early = { now: () => inner.now(), setTimeout: (cb: () => void, ms: number) => inner.setTimeout(cb, ms > 1 ? ms - 1 : ms), clearTimeout: (h: unknown) => inner.clearTimeout(h) };
  const broker = new ScriptedBroker();
  const client = new MqttClient({ clientId: "early" }, { transport: broker.transport, clock: early, store: new MemoryStore(), random: () => 0.5 });
  client.start();
  handshake(broker);
  broker.link.cut();
  inner.advance(2000);
  expect(broker.attempts).toBe(2);
  expect(client.state).toBe("connecting");
});

it("a read with a packet the client must refuse followed by undecodable bytes is one clean protocol failure", () => {
  const { client, broker, clock, seen } = makeClient();
  client.start();
  handshake(broker);
  broker.link.sendBytes(Uint8Array.of(0xc0, 0x00, 0x00, 0x00)); // PINGREQ from a server, then a reserved type 0
  expect(seen.errors.map((e) => e.message)).toEqual(["PINGREQ: a server must not send this packet to a client [MQTT-4.8]"]);
  expect(broker.link.closed).toBe(true);
  expect(seen.disconnects[0]).toMatchObject({ reason: "protocol error" });
  clock.advance(seen.disconnects[0].willReconnectInMs ?? 0);
  expect(broker.attempts).toBe(2);
});

it("evict: false refuses a message when the queue is full instead of dropping an older one", () => {
  const { client, seen } = makeClient({ queueMaxMessages: 10, maxInflight: 2 });
  for (let i = 0; i < 10; i++) client.publish("data", `r${i}`, { qos: 1 });
  expect(() => client.publish("status", "online", { qos: 1, retain: true, evict: false })).toThrow(QueueFullError);
  expect(seen.dropped).toEqual([]);
  expect(client.queueStats().depth).toBe(10);
  client.publish("data", "r10", { qos: 1 }); // the default still evicts by the drop policy
  expect(seen.dropped).toHaveLength(1);
});
