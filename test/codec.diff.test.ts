// Differential tests: our codec against mqtt-packet (protocolVersion 4), byte for byte and field for field.
import fc from "fast-check";
import * as mqtt from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { decodeAll, encode } from "../src/mqtt/codec";
import { ProtocolError } from "../src/errors";
import { PacketType } from "../src/mqtt/constants";
import type { Packet } from "../src/mqtt/packets";
import { anyPacket, packetArbitraries } from "./support/codec-arbitraries";
import { GOLDEN_VECTORS } from "./vectors/codec-vectors";
import { fromHex, plainPacket, toHex } from "./vectors/hex";

const OPTS = { protocolVersion: 4 };
const buf = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

const CMD: Record<number, mqtt.PacketCmd> = {
  [PacketType.PUBACK]: "puback", [PacketType.PUBREC]: "pubrec", [PacketType.PUBREL]: "pubrel",
  [PacketType.PUBCOMP]: "pubcomp", [PacketType.UNSUBACK]: "unsuback",
  [PacketType.PINGREQ]: "pingreq", [PacketType.PINGRESP]: "pingresp", [PacketType.DISCONNECT]: "disconnect",
};

/** Our packet in mqtt-packet's vocabulary (cmd, messageId, clean, keepalive, unsubscriptions...). */
function toMqttPacket(packet: Packet): mqtt.Packet {
  switch (packet.type) {
    case PacketType.CONNECT: {
      const out: mqtt.IConnectPacket = { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: packet.clientId, clean: packet.cleanSession, keepalive: packet.keepAlive };
      if (packet.will) out.will = { topic: packet.will.topic, payload: buf(packet.will.payload), qos: packet.will.qos, retain: packet.will.retain };
      if (packet.username !== undefined) out.username = packet.username;
      if (packet.password !== undefined) out.password = typeof packet.password === "string" ? Buffer.from(packet.password) : buf(packet.password);
      return out;
    }
    case PacketType.CONNACK:
      return { cmd: "connack", returnCode: packet.returnCode, sessionPresent: packet.sessionPresent };
    case PacketType.PUBLISH: {
      const out: mqtt.IPublishPacket = { cmd: "publish", topic: packet.topic, payload: buf(packet.payload), qos: packet.qos, dup: packet.dup, retain: packet.retain };
      if (packet.qos > 0) out.messageId = packet.packetId;
      return out;
    }
    case PacketType.SUBSCRIBE:
      return { cmd: "subscribe", messageId: packet.packetId, subscriptions: packet.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos })) };
    case PacketType.SUBACK:
      return { cmd: "suback", messageId: packet.packetId, granted: packet.granted };
    case PacketType.UNSUBSCRIBE:
      return { cmd: "unsubscribe", messageId: packet.packetId, unsubscriptions: packet.topics };
    case PacketType.PUBACK: case PacketType.PUBREC: case PacketType.PUBREL: case PacketType.PUBCOMP: case PacketType.UNSUBACK:
      return { cmd: CMD[packet.type], messageId: packet.packetId } as mqtt.Packet;
    case PacketType.PINGREQ: case PacketType.PINGRESP: case PacketType.DISCONNECT:
      return { cmd: CMD[packet.type] } as mqtt.Packet;
  }
}

/** mqtt-packet's parse result in our vocabulary, so both decoders' outputs compare with toEqual. */
function fromMqttPacket(parsed: mqtt.Packet): Packet {
  const p = parsed as unknown as Record<string, unknown> & mqtt.IPacket;
  const id = p.messageId as number;
  switch (parsed.cmd) {
    case "connect": {
      const out: Packet = { type: PacketType.CONNECT, clientId: parsed.clientId, cleanSession: !!parsed.clean, keepAlive: parsed.keepalive ?? -1 };
      if (parsed.will) {
        out.will = { topic: parsed.will.topic, payload: new Uint8Array(parsed.will.payload as Buffer), qos: parsed.will.qos ?? 0, retain: !!parsed.will.retain };
      }
      if (parsed.username !== undefined) out.username = parsed.username;
      if (parsed.password !== undefined) out.password = new Uint8Array(parsed.password);
      return out;
    }
    case "connack":
      return { type: PacketType.CONNACK, returnCode: parsed.returnCode ?? -1, sessionPresent: parsed.sessionPresent };
    case "publish": {
      const out: Packet = { type: PacketType.PUBLISH, topic: parsed.topic, payload: new Uint8Array(parsed.payload as Buffer), qos: parsed.qos, retain: parsed.retain, dup: parsed.dup };
      if (parsed.qos > 0) out.packetId = id;
      return out;
    }
    case "subscribe":
      return { type: PacketType.SUBSCRIBE, packetId: id, subscriptions: parsed.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos })) };
    case "suback":
      return { type: PacketType.SUBACK, packetId: id, granted: parsed.granted as number[] };
    case "unsubscribe":
      return { type: PacketType.UNSUBSCRIBE, packetId: id, topics: parsed.unsubscriptions };
    case "puback": return { type: PacketType.PUBACK, packetId: id };
    case "pubrec": return { type: PacketType.PUBREC, packetId: id };
    case "pubrel": return { type: PacketType.PUBREL, packetId: id };
    case "pubcomp": return { type: PacketType.PUBCOMP, packetId: id };
    case "unsuback": return { type: PacketType.UNSUBACK, packetId: id };
    case "pingreq": return { type: PacketType.PINGREQ };
    case "pingresp": return { type: PacketType.PINGRESP };
    case "disconnect": return { type: PacketType.DISCONNECT };
    default:
      throw new Error(`unexpected mqtt-packet cmd ${parsed.cmd}`);
  }
}

function mqttPacketParse(bytes: Uint8Array): mqtt.Packet[] {
  const parser = mqtt.parser(OPTS);
  const packets: mqtt.Packet[] = [];
  const errors: Error[] = [];
  parser.on("packet", (packet) => packets.push(packet));
  parser.on("error", (error) => errors.push(error));
  parser.parse(Buffer.from(bytes));
  if (errors.length > 0) throw errors[0];
  return packets;
}

function expectAgreement(packet: Packet): void {
  const ours = encode(packet);
  const theirs = mqtt.generate(toMqttPacket(packet), OPTS);
  expect(toHex(ours)).toBe(theirs.toString("hex"));
  // Our decoder reads their bytes to the same fields, and theirs reads ours.
  expect(decodeAll(new Uint8Array(theirs)).map(plainPacket)).toEqual([plainPacket(packet)]);
  expect(mqttPacketParse(ours).map(fromMqttPacket).map(plainPacket)).toEqual([plainPacket(packet)]);
}

describe("golden vectors agree with mqtt-packet", () => {
  it.each(GOLDEN_VECTORS.map((v) => [v.name, v] as const))("%s", (_name, vector) => {
    expect(mqtt.generate(toMqttPacket(vector.packet), OPTS).toString("hex")).toBe(vector.hex);
    expect(toHex(encode(vector.packet))).toBe(vector.hex);
    expect(decodeAll(fromHex(vector.hex)).map(plainPacket)).toEqual([plainPacket(vector.packet)]);
    expectAgreement(vector.packet);
  });

  it("covers all 14 packet types", () => {
    const types = new Set(GOLDEN_VECTORS.map((v) => v.packet.type));
    expect([...types].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it("a string password is sent as its UTF-8 bytes, as mqtt-packet sends it", () => {
    const packet: Packet = { type: PacketType.CONNECT, clientId: "c", cleanSession: true, keepAlive: 5, username: "u", password: "pässword" };
    expect(toHex(encode(packet))).toBe(mqtt.generate(toMqttPacket(packet), OPTS).toString("hex"));
  });
});

describe("generated packets agree with mqtt-packet", () => {
  for (const [name, arbitrary] of Object.entries(packetArbitraries)) {
    it(`${name}: same bytes, same fields both ways`, () => {
      fc.assert(fc.property(arbitrary, (packet) => expectAgreement(packet)), { numRuns: 150 });
    });
  }

  it("a stream of mixed packets parses the same in both decoders", () => {
    fc.assert(
      fc.property(fc.array(anyPacket, { minLength: 1, maxLength: 20 }), (packets) => {
        const stream = Buffer.concat(packets.map((p) => mqtt.generate(toMqttPacket(p), OPTS)));
        const ours = decodeAll(new Uint8Array(stream)).map(plainPacket);
        expect(ours).toEqual(mqttPacketParse(stream).map(fromMqttPacket).map(plainPacket));
        expect(ours).toEqual(packets.map(plainPacket));
      }),
      { numRuns: 100 },
    );
  });
});

// Where mqtt-packet and the spec part ways. We follow the spec; each case is pinned here so a change on either side shows.
describe("documented differences from mqtt-packet (we follow MQTT 3.1.1)", () => {
  const theyAccept = (hex: string) => expect(() => mqttPacketParse(fromHex(hex))).not.toThrow();
  const weRefuse = (hex: string, rule: string) => expect(() => decodeAll(fromHex(hex))).toThrow(rule);

  it("mqtt-packet parses PUBLISH with DUP=1 at QoS 0; [MQTT-3.3.1-2] forbids it", () => {
    theyAccept("3803000161");
    weRefuse("3803000161", "[MQTT-3.3.1-2]");
  });

  it("mqtt-packet parses packet id 0; [MQTT-2.3.1-1] requires a non-zero id", () => {
    theyAccept("40020000");
    weRefuse("40020000", "[MQTT-2.3.1-1]");
  });

  it("mqtt-packet parses wildcards, U+0000 and invalid UTF-8 in a PUBLISH topic; we refuse all three", () => {
    theyAccept("30050003612f2b");
    weRefuse("30050003612f2b", "[MQTT-3.3.2-2]");
    theyAccept("300500036100" + "62");
    weRefuse("300500036100" + "62", "[MQTT-1.5.3-2]");
    theyAccept("30030001ff");
    weRefuse("30030001ff", "[MQTT-1.5.3-1]");
  });

  it("mqtt-packet ignores trailing bytes in PUBACK, CONNACK and PINGRESP; the remaining length must be exact", () => {
    theyAccept("4003000100");
    weRefuse("4003000100", "[MQTT-2.2.3]");
    theyAccept("d00100");
    weRefuse("d00100", "[MQTT-2.2.3]");
  });

  it("mqtt-packet reads a QoS 1 PUBLISH packet id from beyond the packet's end; we call it truncated", () => {
    // Remaining length 3 holds only the topic; mqtt-packet takes the id from the next packet's bytes (0x4002 here).
    const stream = "3203" + "000174" + "40020001";
    const parsed = mqttPacketParse(fromHex(stream));
    expect(parsed[0]).toMatchObject({ cmd: "publish", messageId: 0x4002 });
    weRefuse(stream, "[MQTT-2.2.3]");
  });

  it("mqtt-packet accepts a reserved CONNACK return code and session present with a refusal; we refuse both", () => {
    theyAccept("20020006");
    weRefuse("20020006", "[MQTT-3.2.2.3]");
    theyAccept("20020105");
    weRefuse("20020105", "[MQTT-3.2.2-4]");
  });

  it("mqtt-packet's generate() writes what the spec forbids; our encode() refuses it", () => {
    const dupQos0: Packet = { type: PacketType.PUBLISH, topic: "a", payload: new Uint8Array(0), qos: 0, retain: false, dup: true };
    expect(mqtt.generate(toMqttPacket(dupQos0), OPTS).toString("hex")).toBe("3803000161");
    expect(() => encode(dupQos0)).toThrow("[MQTT-3.3.1-2]");
    const wildcard: Packet = { type: PacketType.PUBLISH, topic: "a/#", payload: new Uint8Array(0), qos: 0, retain: false, dup: false };
    expect(() => mqtt.generate(toMqttPacket(wildcard), OPTS)).not.toThrow();
    expect(() => encode(wildcard)).toThrow("[MQTT-3.3.2-2]");
  });

  it("an empty client id with cleanSession=0: a client must never send it [MQTT-3.1.3-7]; both refuse it", () => {
    const packet: Packet = { type: PacketType.CONNECT, clientId: "", cleanSession: false, keepAlive: 0 };
    expect(() => mqtt.generate(toMqttPacket(packet), OPTS)).toThrow();
    expect(() => encode(packet)).toThrow(ProtocolError);
    expect(() => encode(packet)).toThrow("[MQTT-3.1.3-7]");
    // With clean session 1 an empty id is allowed (the broker assigns one).
    expect(toHex(encode({ ...packet, cleanSession: true }))).toBe("100c00044d515454040200000000");
  });
});
