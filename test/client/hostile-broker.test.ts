// A broker (or whoever can publish through it) trying to cut the device off: oversized messages the persistent session
// brings back at every reconnect, QoS 2 floods on topics we never subscribed to, refusals and certificate failures.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError, TransportError } from "../../src/errors";
import { encode, PacketDecoder, type OversizedPublish } from "../../src/mqtt/codec";
import { PacketType as P, type QoS } from "../../src/mqtt/constants";
import type { Packet, PublishPacket } from "../../src/mqtt/packets";
import { INCOMING_QOS2_KEY } from "../../src/mqtt/session-records";
import { concat } from "../support/bytes";
import { bytes, handshake, makeClient } from "./harness";

const MAX = 64 * 1024;

function publish(topic: string, size: number, qos: QoS, packetId?: number, extra: Partial<PublishPacket> = {}): PublishPacket {
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 31) & 0xff;
  return { type: P.PUBLISH, topic, payload, qos, retain: false, dup: false, ...(qos > 0 ? { packetId } : {}), ...extra };
}

/** Splits `data` at the given cut points (fractions of its length). */
function chunked(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * data.length)))].filter((p) => p > 0 && p < data.length).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    out.push(data.subarray(at, p));
    at = p;
  }
  out.push(data.subarray(at));
  return out;
}

describe("decoder: an oversized PUBLISH is read past, not buffered, and the stream goes on", () => {
  it("whatever the chunking: packets before and after it decode, the oversized one is reported with its id, in order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MAX + 1, max: 3 * MAX }),
        fc.constantFrom<QoS>(0, 1, 2),
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
        (size, qos, packetId, topicLength, cuts) => {
          const topic = "t".repeat(topicLength);
          const before: Packet = { type: P.PUBACK, packetId: 3 };
          const big = publish(topic, size, qos, packetId, { retain: true });
          const after = publish("small", 5, 1, 4);
          const stream = concat([encode(before), encode(big), encode(after)]);
          const seen: Array<Packet | OversizedPublish> = [];
          const decoder = new PacketDecoder({ maxPacketSize: MAX });
          for (const chunk of chunked(stream, cuts)) decoder.push(chunk, (p) => seen.push(p), (o) => seen.push(o));
          expect(seen).toHaveLength(3);
          expect(seen[0]).toEqual(before);
          expect(seen[1]).toEqual({
            size: encode(big).length,
            qos,
            retain: true,
            dup: false,
            ...(qos > 0 ? { packetId } : {}),
            topicLength,
            topicPrefix: topic.slice(0, 64),
          });
          expect(seen[2]).toEqual(after);
          expect(decoder.buffered).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("without the callback, and for any other packet type, oversized is still a ProtocolError", () => {
    const big = encode(publish("t", MAX, 1, 1));
    expect(() => new PacketDecoder({ maxPacketSize: MAX }).push(big, () => {})).toThrow(ProtocolError);
    const suback = encode({ type: P.SUBACK, packetId: 1, granted: new Array<number>(MAX).fill(0) });
    expect(() => new PacketDecoder({ maxPacketSize: MAX }).push(suback, () => {}, () => {})).toThrow(/SUBACK: packet of at least/);
  });

  it("a malformed oversized PUBLISH (topic longer than the packet, packet id 0) is a ProtocolError", () => {
    const header = [0x32, 0x80, 0x80, 0x08]; // PUBLISH QoS 1, remaining length 131072
    const tooLong = new PacketDecoder({ maxPacketSize: MAX });
    // Remaining length 65536: over the maximum, yet shorter than a 65535-byte topic and its packet id.
    expect(() => tooLong.push(new Uint8Array([0x32, 0x80, 0x80, 0x04, 0xff, 0xff]), () => {}, () => {})).toThrow(/truncated topic name/);
    const idZero = new PacketDecoder({ maxPacketSize: MAX });
    expect(() => idZero.push(new Uint8Array([...header, 0x00, 0x01, 0x74, 0x00, 0x00]), () => {}, () => {})).toThrow(/packet id must not be 0/);
  });
});

describe("client: an oversized retained message can no longer cut the device off", () => {
  it("QoS 1, 70 KB, retained, resent by the session at every reconnect: acknowledged once, counted, reported, never delivered; the link stays up", () => {
    const { client, broker, seen, store } = makeClient();
    const handled: string[] = [];
    client.subscribe("xsms/dev-1/cmd/#", 1, (m) => handled.push(m.topic));
    client.start();
    handshake(broker);
    broker.link.expect({ type: P.SUBSCRIBE });
    const poison = publish("xsms/dev-1/cmd/read", 70_000, 1, 17, { retain: true });
    broker.link.send(poison, publish("xsms/dev-1/cmd/read", 2, 1, 18));
    broker.link.expect({ type: P.PUBACK, packetId: 17 });
    broker.link.expect({ type: P.PUBACK, packetId: 18 });
    expect(broker.link.closed).toBe(false);
    expect(client.state).toBe("connected");
    expect(handled).toEqual(["xsms/dev-1/cmd/read"]); // only the small one
    expect(client.counters.oversized).toBe(1);
    expect(client.counters.protocolErrors).toBe(0);
    expect(seen.errors).toHaveLength(1);
    expect(seen.errors[0]).toBeInstanceOf(ProtocolError);
    expect(seen.errors[0].message).toMatch(/message of 70\d+ bytes on "xsms\/dev-1\/cmd\/read" \(QoS 1, retained\) exceeds the maximum packet size of 65536/);
    expect(broker.attempts).toBe(1);
    expect(store.list("")).not.toContain(INCOMING_QOS2_KEY);
  });

  it("QoS 2: PUBREC without recording the id, PUBCOMP for its PUBREL; a DUP resend is acknowledged again, nothing delivered", () => {
    const { client, broker, seen, store } = makeClient();
    client.subscribe("in/#", 2, () => {});
    client.start();
    handshake(broker);
    broker.link.drain();
    const poison = publish("in/x", 100_000, 2, 5);
    broker.link.sendBytes(encode(poison));
    broker.link.expect({ type: P.PUBREC, packetId: 5 });
    expect(store.get(INCOMING_QOS2_KEY)).toBeUndefined();
    broker.link.sendBytes(encode({ ...poison, dup: true }));
    broker.link.expect({ type: P.PUBREC, packetId: 5 });
    broker.link.send({ type: P.PUBREL, packetId: 5 });
    broker.link.expect({ type: P.PUBCOMP, packetId: 5 });
    expect(seen.messages).toHaveLength(0);
    expect(client.counters.oversized).toBe(2);
    expect(broker.link.closed).toBe(false);
  });

  it("QoS 0: nothing to acknowledge; counted and dropped", () => {
    const { client, broker, seen } = makeClient();
    client.subscribe("in/#", 0, () => {});
    client.start();
    handshake(broker);
    broker.link.drain();
    broker.link.send(publish("in/x", MAX, 0));
    broker.link.expectNothing();
    expect(seen.messages).toHaveLength(0);
    expect(client.counters.oversized).toBe(1);
  });
});

describe("client: publishes to topics we never subscribed to", () => {
  it("a flood of 1,000 QoS 2 ids on a foreign topic is acknowledged, never recorded, never delivered, and never drops the link", () => {
    const { client, broker, seen, store } = makeClient();
    client.subscribe("in/#", 2, () => {});
    client.start();
    handshake(broker);
    broker.link.drain();
    for (let id = 1; id <= 1000; id++) broker.link.send(publish("elsewhere/x", 3, 2, id));
    const written = broker.link.drain();
    expect(written).toHaveLength(1000);
    expect(written.every((p, i) => p.type === P.PUBREC && p.packetId === i + 1)).toBe(true);
    expect(store.get(INCOMING_QOS2_KEY)).toBeUndefined();
    expect(seen.messages).toHaveLength(0);
    expect(client.counters.ignored).toBe(1000);
    expect(broker.link.closed).toBe(false);
    // Our own topic still gets exactly-once treatment.
    broker.link.send(publish("in/x", 3, 2, 7));
    broker.link.expect({ type: P.PUBREC, packetId: 7 });
    expect(store.get(INCOMING_QOS2_KEY)).toEqual(new Uint8Array([0, 7]));
    expect(seen.messages.map((m) => m.topic)).toEqual(["in/x"]);
  });

  it("QoS 1 on a foreign topic: PUBACK, not delivered", () => {
    const { client, broker, seen } = makeClient();
    client.subscribe("in/#", 1, () => {});
    client.start();
    handshake(broker);
    broker.link.drain();
    broker.link.send(publish("in", 3, 1, 9)); // "in/#" matches "in" too (4.7.1.2), so use a sibling
    broker.link.expect({ type: P.PUBACK, packetId: 9 });
    broker.link.send(publish("inx/y", 3, 1, 10));
    broker.link.expect({ type: P.PUBACK, packetId: 10 });
    expect(seen.messages.map((m) => m.topic)).toEqual(["in"]);
    expect(client.counters.ignored).toBe(1);
  });
});

describe("client: failures that need a change elsewhere never stop it", () => {
  it("a permanent TransportError (untrusted certificate) waits fatalRetryMs, jittered, and says why", () => {
    const { client, broker, clock, seen } = makeClient({ fatalRetryMs: 600_000 }, { random: () => 0.25 });
    client.start();
    broker.link.cut(new TransportError("certificate", "broker certificate is not signed by mqtt-ca.der", true));
    expect(seen.disconnects[0].willReconnectInMs).toBe(450_000); // 0.75 x 10 min
    expect(client.problem()).toMatchObject({ message: expect.stringMatching(/mqtt-ca\.der/), permanent: true, retryAt: clock.now() + 450_000 });
    clock.advance(449_999);
    expect(broker.attempts).toBe(1);
    clock.advance(1);
    expect(broker.attempts).toBe(2);
    handshake(broker);
    expect(client.problem()).toBeUndefined();
  });

  it("a transient TransportError uses the ordinary backoff", () => {
    const { client, broker, seen } = makeClient({ backoffBaseMs: 1000 }, { random: () => 0.5 });
    client.start();
    broker.link.cut(new TransportError("tcp", "connection refused", false));
    expect(seen.disconnects[0].willReconnectInMs).toBe(500);
    expect(client.problem()).toMatchObject({ permanent: false });
  });

  it("a broker refusing with code 5 for an hour, then accepting: reached again without a power cycle; the queue kept every message", () => {
    const { client, broker, clock, seen } = makeClient({}, { random: () => 0.5 });
    client.start();
    let refusals = 0;
    const fixedAt = clock.now() + 3600_000;
    for (let i = 0; i < 40 && client.state !== "connected"; i++) {
      client.publish("t", `m${i}`, { qos: 1 });
      broker.link.open();
      broker.link.expect({ type: P.CONNECT });
      if (clock.now() < fixedAt) {
        refusals++;
        broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 5 });
        clock.advance(seen.disconnects[seen.disconnects.length - 1].willReconnectInMs ?? 0);
      } else {
        broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
      }
    }
    expect(client.state).toBe("connected");
    expect(refusals).toBe(12); // every 5 min for an hour: no tight loop, no giving up
    const published = broker.link.drain().filter((p) => p.type === P.PUBLISH);
    expect(published).toHaveLength(8); // maxInflight; the other 5 wait in order
    expect(client.queueStats().depth).toBe(13);
  });
});
