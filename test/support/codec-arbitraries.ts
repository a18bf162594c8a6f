// fast-check generators for every MQTT 3.1.1 packet our encoder accepts (Node-only test support).
import fc from "fast-check";
import { PacketType, SUBACK_FAILURE, type QoS } from "../../src/mqtt/constants";
import type { Packet } from "../../src/mqtt/packets";

const qos = fc.constantFrom<QoS>(0, 1, 2);
const packetId = fc.integer({ min: 1, max: 65535 });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength });

/** Any Unicode text without U+0000 (MQTT forbids it in every string [MQTT-1.5.3-2]); whole code points, no lone surrogates. */
export const mqttString = (maxLength = 12) =>
  fc.string({ unit: "binary", maxLength }).filter((text) => text.indexOf("\u0000") === -1);

/** One topic level: no separator, no wildcard. Mostly ASCII so matches are likely, some full Unicode. */
const level = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("a", "b", "sport", "tennis", "$SYS", "", "x y", "temp") },
  { weight: 1, arbitrary: mqttString(6).filter((text) => !/[+#/]/.test(text)) },
);

export const topicName = fc.array(level, { minLength: 1, maxLength: 5 }).map((levels) => levels.join("/")).filter((topic) => topic.length > 0);

export const topicFilter = fc
  .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([levels, multi]) => (multi ? [...levels, "#"] : levels).join("/"))
  .filter((filter) => filter.length > 0);

const connect = fc
  .record({
    clientId: mqttString(23),
    cleanSession: fc.boolean(),
    keepAlive: fc.integer({ min: 0, max: 65535 }),
    will: fc.option(fc.record({ topic: topicName, payload: bytes(40), qos, retain: fc.boolean() }), { nil: undefined }),
    username: fc.option(mqttString(12), { nil: undefined }),
    password: fc.option(bytes(12), { nil: undefined }),
  })
  // mqtt-packet refuses an empty client id with a persistent session (a broker rule, [MQTT-3.1.3-8]); keep to the shared ground.
  .filter((c) => c.cleanSession || c.clientId.length > 0)
  .map((c): Packet => {
    const packet: Packet = { type: PacketType.CONNECT, clientId: c.clientId, cleanSession: c.cleanSession, keepAlive: c.keepAlive };
    if (c.will) packet.will = c.will;
    if (c.username !== undefined) {
      packet.username = c.username;
      if (c.password !== undefined) packet.password = c.password;
    }
    return packet;
  });

const connack = fc
  .record({ returnCode: fc.integer({ min: 0, max: 5 }), sessionPresent: fc.boolean() })
  .map(({ returnCode, sessionPresent }): Packet => ({ type: PacketType.CONNACK, returnCode, sessionPresent: returnCode === 0 && sessionPresent }));

const publish = fc
  .record({ topic: topicName, payload: bytes(300), qos, retain: fc.boolean(), dup: fc.boolean(), packetId })
  .map((p): Packet =>
    p.qos === 0
      ? { type: PacketType.PUBLISH, topic: p.topic, payload: p.payload, qos: 0, retain: p.retain, dup: false }
      : { type: PacketType.PUBLISH, topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain, dup: p.dup, packetId: p.packetId },
  );

const ack = fc
  .tuple(fc.constantFrom(PacketType.PUBACK, PacketType.PUBREC, PacketType.PUBREL, PacketType.PUBCOMP, PacketType.UNSUBACK), packetId)
  .map(([type, id]): Packet => ({ type, packetId: id }));

const subscribe = fc
  .record({ packetId, subscriptions: fc.array(fc.record({ topic: topicFilter, qos }), { minLength: 1, maxLength: 5 }) })
  .map((s): Packet => ({ type: PacketType.SUBSCRIBE, ...s }));

const suback = fc
  .record({ packetId, granted: fc.array(fc.constantFrom(0, 1, 2, SUBACK_FAILURE), { minLength: 1, maxLength: 6 }) })
  .map((s): Packet => ({ type: PacketType.SUBACK, ...s }));

const unsubscribe = fc
  .record({ packetId, topics: fc.array(topicFilter, { minLength: 1, maxLength: 5 }) })
  .map((u): Packet => ({ type: PacketType.UNSUBSCRIBE, ...u }));

const empty = fc.constantFrom<Packet>({ type: PacketType.PINGREQ }, { type: PacketType.PINGRESP }, { type: PacketType.DISCONNECT });

export const packetArbitraries = { connect, connack, publish, ack, subscribe, suback, unsubscribe, empty };

/** Any valid packet of any of the 14 types. */
export const anyPacket: fc.Arbitrary<Packet> = fc.oneof(connect, connack, publish, ack, subscribe, suback, unsubscribe, empty);
