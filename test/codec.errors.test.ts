// Malformed input and unsendable packets: each raises a ProtocolError naming the packet type and the rule broken.
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../src/errors";
import { PacketDecoder, decodeAll, encode, encodeInto } from "../src/mqtt/codec";
import { MAX_REMAINING_LENGTH, PacketType } from "../src/mqtt/constants";
import type { Packet } from "../src/mqtt/packets";
import { ENCODE_MESSAGES, MALFORMED_MESSAGES } from "./vectors/codec-error-messages";
import { MALFORMED_VECTORS, type MalformedVector } from "./vectors/codec-vectors";
import { fromHex } from "./vectors/hex";
import { thrown } from "./support/thrown";

const caught = (run: () => unknown): ProtocolError => thrown(ProtocolError, run);

function expectRule(error: ProtocolError, packetType: string, rule: string | undefined): void {
  expect(error.packetType).toBe(packetType);
  expect(error.rule).toBe(rule);
  expect(error.message.startsWith(`${packetType}: `)).toBe(true);
  if (rule !== undefined) expect(error.message.endsWith(rule)).toBe(true);
}

const options = (v: MalformedVector) => (v.maxPacketSize === undefined ? undefined : { maxPacketSize: v.maxPacketSize });

describe("malformed input is refused with the packet type and the rule", () => {
  it.each(MALFORMED_VECTORS.map((v) => [v.name, v] as const))("%s", (_name, vector) => {
    expectRule(caught(() => decodeAll(fromHex(vector.hex), options(vector))), vector.packetType, vector.rule);
  });

  it("each says exactly what is wrong (the texts in vectors/codec-error-messages.ts, one per vector)", () => {
    expect(Object.keys(MALFORMED_MESSAGES).sort()).toEqual(MALFORMED_VECTORS.map((v) => v.name).sort());
    for (const vector of MALFORMED_VECTORS) {
      expect(caught(() => decodeAll(fromHex(vector.hex), options(vector))).message, vector.name).toBe(MALFORMED_MESSAGES[vector.name]);
    }
  });

  it.each(MALFORMED_VECTORS.map((v) => [v.name, v] as const))("%s (fed one byte at a time)", (_name, vector) => {
    const bytes = fromHex(vector.hex);
    const decoder = new PacketDecoder(options(vector));
    const error = caught(() => {
      for (let i = 0; i < bytes.length; i++) decoder.push(bytes.subarray(i, i + 1), () => {});
      decoder.end();
    });
    expectRule(error, vector.packetType, vector.rule);
  });
});

describe("decoder state after an error", () => {
  it("stays failed, rethrowing the same error, until reset()", () => {
    const decoder = new PacketDecoder();
    const first = caught(() => decoder.push(fromHex("40020000"), () => {}));
    expect(caught(() => decoder.push(fromHex("c000"), () => {}))).toBe(first);
    expect(caught(() => decoder.end())).toBe(first);
    decoder.reset();
    const packets: Packet[] = [];
    decoder.push(fromHex("c000"), (packet) => packets.push(packet));
    expect(packets).toEqual([{ type: PacketType.PINGREQ }]);
  });

  it("delivers the packets before the bad one", () => {
    const packets: Packet[] = [];
    const decoder = new PacketDecoder();
    const error = caught(() => decoder.push(fromHex("d000" + "40020001" + "40020000"), (packet) => packets.push(packet)));
    expect(packets.map((p) => p.type)).toEqual([PacketType.PINGRESP, PacketType.PUBACK]);
    expectRule(error, "PUBACK", "[MQTT-2.3.1-1]");
  });

  it("end() is quiet between packets and names the packet cut short", () => {
    const decoder = new PacketDecoder();
    decoder.push(fromHex("c000"), () => {});
    expect(() => decoder.end()).not.toThrow();
    decoder.push(fromHex("30"), () => {});
    expectRule(caught(() => decoder.end()), "PUBLISH", undefined);
  });

  it("rejects an invalid maxPacketSize option as a programming error", () => {
    expect(() => new PacketDecoder({ maxPacketSize: 1 })).toThrow(RangeError);
    expect(() => new PacketDecoder({ maxPacketSize: 1.5 })).toThrow(RangeError);
  });
});

describe("encode refuses packets it could not send legally", () => {
  const publish = (fields: Partial<Extract<Packet, { type: 3 }>>): Packet =>
    ({ type: PacketType.PUBLISH, topic: "t", payload: new Uint8Array(0), qos: 0, retain: false, dup: false, ...fields }) as Packet;
  const cases: [string, Packet, string, string | undefined][] = [
    ["PUBLISH wildcard topic", publish({ topic: "a/+" }), "PUBLISH", "[MQTT-3.3.2-2]"],
    ["PUBLISH empty topic", publish({ topic: "" }), "PUBLISH", "[MQTT-4.7.3-1]"],
    ["PUBLISH topic with U+0000", publish({ topic: "a\u0000" }), "PUBLISH", "[MQTT-4.7.3-2]"],
    ["PUBLISH topic with a lone surrogate", publish({ topic: "a\ud800" }), "PUBLISH", "[MQTT-1.5.3-1]"],
    ["PUBLISH topic with a lone low surrogate", publish({ topic: "\udc00a" }), "PUBLISH", "[MQTT-1.5.3-1]"],
    ["SUBSCRIBE filter with a lone surrogate", { type: PacketType.SUBSCRIBE, packetId: 1, subscriptions: [{ topic: "a/\ud800", qos: 0 }] }, "SUBSCRIBE", "[MQTT-1.5.3-1]"],
    ["CONNECT client id with a lone surrogate", { type: PacketType.CONNECT, clientId: "\ud800", cleanSession: true, keepAlive: 0 }, "CONNECT", "[MQTT-1.5.3-1]"],
    ["PUBLISH QoS 1 without packet id", publish({ qos: 1 }), "PUBLISH", "[MQTT-2.3.1-1]"],
    ["PUBLISH QoS 2 packet id 0", publish({ qos: 2, packetId: 0 }), "PUBLISH", "[MQTT-2.3.1-1]"],
    ["PUBLISH packet id 65536", publish({ qos: 1, packetId: 65536 }), "PUBLISH", "[MQTT-2.3.1-1]"],
    ["PUBLISH QoS 3", publish({ qos: 3 as 0 }), "PUBLISH", "[MQTT-3.3.1-4]"],
    ["PUBLISH DUP at QoS 0", publish({ dup: true }), "PUBLISH", "[MQTT-3.3.1-2]"],
    ["PUBACK packet id 0", { type: PacketType.PUBACK, packetId: 0 }, "PUBACK", "[MQTT-2.3.1-1]"],
    ["PUBREL packet id 1.5", { type: PacketType.PUBREL, packetId: 1.5 }, "PUBREL", "[MQTT-2.3.1-1]"],
    ["SUBSCRIBE without filters", { type: PacketType.SUBSCRIBE, packetId: 1, subscriptions: [] }, "SUBSCRIBE", "[MQTT-3.8.3-3]"],
    ["SUBSCRIBE '#' not last", { type: PacketType.SUBSCRIBE, packetId: 1, subscriptions: [{ topic: "a/#/b", qos: 0 }] }, "SUBSCRIBE", "[MQTT-4.7.1-2]"],
    ["SUBSCRIBE 'a+'", { type: PacketType.SUBSCRIBE, packetId: 1, subscriptions: [{ topic: "a+", qos: 0 }] }, "SUBSCRIBE", "[MQTT-4.7.1-3]"],
    ["SUBACK return code 3", { type: PacketType.SUBACK, packetId: 1, granted: [3] }, "SUBACK", "[MQTT-3.9.3-2]"],
    ["SUBACK without return codes", { type: PacketType.SUBACK, packetId: 1, granted: [] }, "SUBACK", "[MQTT-3.9.3-1]"],
    ["UNSUBSCRIBE without filters", { type: PacketType.UNSUBSCRIBE, packetId: 1, topics: [] }, "UNSUBSCRIBE", "[MQTT-3.10.3-2]"],
    ["CONNACK return code 6", { type: PacketType.CONNACK, sessionPresent: false, returnCode: 6 }, "CONNACK", "[MQTT-3.2.2.3]"],
    ["CONNACK session present with a refusal", { type: PacketType.CONNACK, sessionPresent: true, returnCode: 5 }, "CONNACK", "[MQTT-3.2.2-4]"],
    ["CONNECT password without username", { type: PacketType.CONNECT, clientId: "c", cleanSession: true, keepAlive: 0, password: "pw" }, "CONNECT", "[MQTT-3.1.2-22]"],
    ["CONNECT keepAlive 65536", { type: PacketType.CONNECT, clientId: "c", cleanSession: true, keepAlive: 65536 }, "CONNECT", undefined],
    ["CONNECT will topic with wildcard", { type: PacketType.CONNECT, clientId: "c", cleanSession: true, keepAlive: 0, will: { topic: "#", payload: new Uint8Array(0), qos: 0, retain: false } }, "CONNECT", "[MQTT-3.3.2-2]"],
    ["CONNECT empty client id with clean session 0", { type: PacketType.CONNECT, clientId: "", cleanSession: false, keepAlive: 0 }, "CONNECT", "[MQTT-3.1.3-7]"],
    // An untyped (plain JS) caller's packet: the codec's own error, not a TypeError from iterating it.
    ["UNSUBSCRIBE topics not an array", { type: PacketType.UNSUBSCRIBE, packetId: 1, topics: "a/b" as unknown as string[] }, "UNSUBSCRIBE", "[MQTT-3.10.3-2]"],
    ["UNSUBSCRIBE topics missing", { type: PacketType.UNSUBSCRIBE, packetId: 1 } as unknown as Packet, "UNSUBSCRIBE", "[MQTT-3.10.3-2]"],
    ["SUBSCRIBE subscriptions not an array", { type: PacketType.SUBSCRIBE, packetId: 1, subscriptions: { topic: "a", qos: 0 } as unknown as [] }, "SUBSCRIBE", "[MQTT-3.8.3-3]"],
    ["CONNECT client id over 65535 bytes", { type: PacketType.CONNECT, clientId: "é".repeat(40000), cleanSession: true, keepAlive: 0 }, "CONNECT", "[MQTT-1.5.3]"],
    // Plain JS callers: fields of the wrong type or size get the codec's own message.
    ["CONNECT username not a string", { type: PacketType.CONNECT, clientId: "c", cleanSession: true, keepAlive: 0, username: 5 as unknown as string }, "CONNECT", undefined],
    ["CONNECT password neither a string nor bytes", { type: PacketType.CONNECT, clientId: "c", cleanSession: true, keepAlive: 0, username: "u", password: 5 as unknown as string }, "CONNECT", undefined],
    ["CONNECT will payload over 65535 bytes", { type: PacketType.CONNECT, clientId: "c", cleanSession: true, keepAlive: 0, will: { topic: "w", payload: new Uint8Array(65536), qos: 0, retain: false } }, "CONNECT", undefined],
    ["CONNECT password bytes over 65535", { type: PacketType.CONNECT, clientId: "c", cleanSession: true, keepAlive: 0, username: "u", password: new Uint8Array(65536) }, "CONNECT", undefined],
    ["CONNECT keepAlive -1", { type: PacketType.CONNECT, clientId: "c", cleanSession: true, keepAlive: -1 }, "CONNECT", undefined],
    ["CONNECT keepAlive 1.5", { type: PacketType.CONNECT, clientId: "c", cleanSession: true, keepAlive: 1.5 }, "CONNECT", undefined],
    ["unknown packet type 99", { type: 99 } as unknown as Packet, "UNKNOWN", undefined],
  ];

  it.each(cases)("%s", (_name, packet, packetType, rule) => {
    expectRule(caught(() => encode(packet)), packetType, rule);
  });

  it("each says exactly what is wrong (the texts in vectors/codec-error-messages.ts, one per case)", () => {
    expect(Object.keys(ENCODE_MESSAGES).sort()).toEqual(cases.map(([name]) => name).sort());
    for (const [name, packet] of cases) expect(caught(() => encode(packet)).message, name).toBe(ENCODE_MESSAGES[name]);
  });

  it("takes each 2-byte length at its largest, 65535 bytes", () => {
    const connect = (fields: Record<string, unknown>) => ({ type: PacketType.CONNECT, clientId: "c", cleanSession: true, keepAlive: 65535, ...fields }) as Packet;
    const at = (packet: Packet) => decodeAll(encode(packet), { maxPacketSize: 1 << 20 })[0];
    expect(at(connect({ clientId: "x".repeat(65535) }))).toMatchObject({ clientId: "x".repeat(65535), keepAlive: 65535 });
    expect(at(connect({ username: "u", password: new Uint8Array(65535).fill(7) }))).toMatchObject({ password: new Uint8Array(65535).fill(7) });
    expect(at(connect({ will: { topic: "w", payload: new Uint8Array(65535), qos: 1, retain: true } }))).toMatchObject({ will: { topic: "w", qos: 1, retain: true } });
    expect(at(connect({ keepAlive: 0 }))).toMatchObject({ keepAlive: 0 });
  });

  it("encodeInto refuses an offset or target that does not fit, and fills one that fits exactly", () => {
    const ping: Packet = { type: PacketType.PINGREQ };
    const refused = (target: Uint8Array, offset: number) => thrown(RangeError, () => encodeInto(ping, target, offset)).message;
    expect(refused(new Uint8Array(4), -1)).toBe("PINGREQ needs 2 bytes at offset -1, the target has 4");
    expect(refused(new Uint8Array(4), 0.5)).toBe("PINGREQ needs 2 bytes at offset 0.5, the target has 4");
    expect(refused(new Uint8Array(4), 3)).toBe("PINGREQ needs 2 bytes at offset 3, the target has 4");
    const target = new Uint8Array(4);
    expect(encodeInto(ping, target, 2)).toBe(4);
    expect(Array.from(target)).toEqual([0, 0, 0xc0, 0]);
  });

  it("a packet over the 268435455-byte remaining length limit, checked before allocating", () => {
    const huge = new Uint8Array(0);
    Object.defineProperty(huge, "length", { value: MAX_REMAINING_LENGTH });
    expectRule(caught(() => encode({ type: PacketType.PUBLISH, topic: "t", payload: huge, qos: 0, retain: false, dup: false })), "PUBLISH", "[MQTT-2.2.3]");
  });
});

describe("a throwing onPacket callback", () => {
  it("is rethrown as is, and leaves the decoder failed rather than out of step with the stream", () => {
    const decoder = new PacketDecoder();
    const boom = new TypeError("handler bug");
    // Two packets and the start of a third: after the throw the rest of the chunk is unread.
    expect(() => decoder.push(fromHex("40020001" + "40020002" + "3205"), () => { throw boom; })).toThrow(boom);
    expect(() => decoder.push(fromHex("000174002a"), () => {})).toThrow(/onPacket callback threw .*reset\(\)/);
    decoder.reset();
    const packets: Packet[] = [];
    decoder.push(fromHex("40020003"), (packet) => packets.push(packet));
    expect(packets).toEqual([{ type: PacketType.PUBACK, packetId: 3 }]);
  });
});
