// Client paths no other test ran (issue 13): subscribe while connected, unsubscribe and UNSUBACK (connected and not),
// a transport write that throws, and end() timing out with messages unacknowledged.
import { describe, expect, it } from "vitest";
import { PacketType as P } from "../../src/mqtt/constants";
import { bytes, handshake, makeClient } from "./harness";

describe("client paths", () => {
  it("subscribe while connected sends SUBSCRIBE at once and routes matching messages after SUBACK", () => {
    const { client, broker, seen } = makeClient();
    client.start();
    handshake(broker);
    const got: string[] = [];
    client.subscribe("cmd/+", 1, (m) => got.push(m.topic));
    const sub = broker.link.expect({ type: P.SUBSCRIBE, subscriptions: [{ topic: "cmd/+", qos: 1 }] }) as { packetId: number };
    broker.link.send({ type: P.SUBACK, packetId: sub.packetId, granted: [1] });
    broker.link.send({ type: P.PUBLISH, topic: "cmd/reboot", payload: bytes("now"), qos: 0, retain: false, dup: false });
    broker.link.send({ type: P.PUBLISH, topic: "other/x", payload: bytes("no"), qos: 0, retain: false, dup: false });
    expect(got).toEqual(["cmd/reboot"]);
    expect(seen.errors).toEqual([]);
  });

  it("unsubscribe while connected sends UNSUBSCRIBE; after UNSUBACK the filter is not resubscribed on reconnect", () => {
    const { client, broker, clock, seen } = makeClient();
    client.subscribe("cmd/#", 1, () => {});
    client.start();
    handshake(broker);
    const sub = broker.link.expect({ type: P.SUBSCRIBE }) as { packetId: number };
    broker.link.send({ type: P.SUBACK, packetId: sub.packetId, granted: [1] });
    client.unsubscribe("cmd/#");
    const unsub = broker.link.expect({ type: P.UNSUBSCRIBE, topics: ["cmd/#"] }) as { packetId: number };
    expect(unsub.packetId).toBeGreaterThan(0);
    broker.link.send({ type: P.UNSUBACK, packetId: unsub.packetId });
    expect(seen.errors).toEqual([]);
    broker.link.cut();
    clock.advance(seen.disconnects.at(-1)?.willReconnectInMs ?? 0);
    handshake(broker, true);
    expect(broker.link.drain().filter((p) => p.type === P.SUBSCRIBE)).toEqual([]);
  });

  it("unsubscribe while offline forgets the filter: the next connection does not subscribe it", () => {
    const { client, broker } = makeClient();
    client.subscribe("a/#", 0, () => {});
    client.subscribe("b/#", 0, () => {});
    client.unsubscribe("a/#");
    client.start();
    handshake(broker);
    const subscribes = broker.link.drain().filter((p) => p.type === P.SUBSCRIBE) as Array<{ subscriptions: Array<{ topic: string }> }>;
    expect(subscribes.flatMap((s) => s.subscriptions.map((x) => x.topic))).toEqual(["b/#"]);
  });

  it("a transport write that throws drops the link as 'write failed' and reconnects, keeping the message", () => {
    const { client, broker, clock, seen } = makeClient();
    client.start();
    handshake(broker);
    const link = broker.link;
    const original = link.write.bind(link);
    link.write = () => {
      throw new Error("EPIPE");
    };
    const id = client.publish("t", "kept", { qos: 1 });
    expect(seen.disconnects.at(-1)).toMatchObject({ reason: "write failed" });
    expect(seen.disconnects.at(-1)?.error?.message).toBe("EPIPE");
    link.write = original;
    clock.advance(seen.disconnects.at(-1)?.willReconnectInMs ?? 0);
    handshake(broker);
    const resent = broker.link.expect({ type: P.PUBLISH, payload: bytes("kept") }) as { packetId: number };
    broker.link.send({ type: P.PUBACK, packetId: resent.packetId });
    expect(seen.delivered.map((d) => d.messageId)).toEqual([id]);
  });

  it("end() gives up after endTimeoutMs with messages unacknowledged: link closed without DISCONNECT, ended, the messages stay stored", () => {
    const { client, broker, clock, store } = makeClient({ endTimeoutMs: 5_000 });
    client.start();
    handshake(broker);
    client.publish("t", "never acked", { qos: 1 });
    broker.link.expect({ type: P.PUBLISH });
    let ended = 0;
    client.end(() => ended++);
    clock.advance(4_999);
    expect(ended).toBe(0);
    expect(broker.link.closed).toBe(false);
    clock.advance(1);
    expect(ended).toBe(1);
    // Closed without DISCONNECT (current behaviour): the broker sees an unclean loss and publishes the will.
    expect(broker.link.drain().map((p) => p.type)).toEqual([]);
    expect(broker.link.closed).toBe(true);
    expect(client.queueStats().depth).toBe(1);
    expect(store.list("").length).toBeGreaterThan(0);
    // Ended for good: a later end() calls back at once, publish() refuses.
    client.end(() => ended++);
    expect(ended).toBe(2);
    expect(() => client.publish("t", "x")).toThrow(/after end\(\)/);
  });
});
