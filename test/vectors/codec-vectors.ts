// Golden byte vectors for the MQTT 3.1.1 codec, shared by the Node tests and the XS entry (plain data only).
// Every `hex` is checked against mqtt-packet's generate() in test/codec.diff.test.ts, so none is trusted by hand.
// Hex is split by field: fixed header and remaining length, then each field of the variable header and payload.
import { PacketType } from "../../src/mqtt/constants";
import type { Packet } from "../../src/mqtt/packets";
import { ascii, ramp, toHex } from "./hex";

export interface GoldenVector {
  name: string;
  /** The packet exactly as our decoder yields it (payloads and passwords as Uint8Array). */
  packet: Packet;
  hex: string;
}

export interface MalformedVector {
  name: string;
  hex: string;
  /** ProtocolError.packetType expected. */
  packetType: string;
  /** ProtocolError.rule expected (the spec's statement id); undefined where 3.1.1 has none. */
  rule: string | undefined;
  /** Decoder option for the case that tests it. */
  maxPacketSize?: number;
}

const { CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT } = PacketType;

const PAYLOAD_200 = ramp(200); // remaining length 2 bytes
const PAYLOAD_20000 = ramp(20000); // remaining length 3 bytes

export const GOLDEN_VECTORS: GoldenVector[] = [
  // CONNECT
  { name: "CONNECT clean, minimal", packet: { type: CONNECT, clientId: "c", cleanSession: true, keepAlive: 60 }, hex: "100d" + "00044d515454" + "04" + "02" + "003c" + "000163" },
  { name: "CONNECT persistent session, keepalive off", packet: { type: CONNECT, clientId: "sensor-01", cleanSession: false, keepAlive: 0 }, hex: "1015" + "00044d515454" + "04" + "00" + "0000" + "000973656e736f722d3031" },
  { name: "CONNECT clean, empty client id", packet: { type: CONNECT, clientId: "", cleanSession: true, keepAlive: 65535 }, hex: "100c" + "00044d515454" + "04" + "02" + "ffff" + "0000" },
  {
    name: "CONNECT with will QoS 0",
    packet: { type: CONNECT, clientId: "c", cleanSession: true, keepAlive: 30, will: { topic: "w", payload: ascii("bye"), qos: 0, retain: false } },
    hex: "1015" + "00044d515454" + "04" + "06" + "001e" + "000163" + "000177" + "0003627965",
  },
  {
    name: "CONNECT with will QoS 1 retained",
    packet: { type: CONNECT, clientId: "c", cleanSession: false, keepAlive: 30, will: { topic: "status/c", payload: ascii("offline"), qos: 1, retain: true } },
    hex: "1020" + "00044d515454" + "04" + "2c" + "001e" + "000163" + "00087374617475732f63" + "00076f66666c696e65",
  },
  {
    name: "CONNECT with will QoS 2, empty will payload",
    packet: { type: CONNECT, clientId: "c", cleanSession: true, keepAlive: 10, will: { topic: "w", payload: new Uint8Array(0), qos: 2, retain: false } },
    hex: "1012" + "00044d515454" + "04" + "16" + "000a" + "000163" + "000177" + "0000",
  },
  { name: "CONNECT with username", packet: { type: CONNECT, clientId: "c", cleanSession: true, keepAlive: 60, username: "user" }, hex: "1013" + "00044d515454" + "04" + "82" + "003c" + "000163" + "000475736572" },
  {
    name: "CONNECT with username and password",
    packet: { type: CONNECT, clientId: "c", cleanSession: true, keepAlive: 60, username: "user", password: ascii("pw") },
    hex: "1017" + "00044d515454" + "04" + "c2" + "003c" + "000163" + "000475736572" + "00027077",
  },
  {
    name: "CONNECT with everything",
    packet: {
      type: CONNECT, clientId: "dev", cleanSession: false, keepAlive: 120, username: "ü", password: new Uint8Array([0, 255, 1]),
      will: { topic: "d/€", payload: new Uint8Array([1, 2]), qos: 1, retain: false },
    },
    hex: "1023" + "00044d515454" + "04" + "cc" + "0078" + "0003646576" + "0005642fe282ac" + "00020102" + "0002c3bc" + "000300ff01",
  },
  // CONNACK
  { name: "CONNACK accepted", packet: { type: CONNACK, sessionPresent: false, returnCode: 0 }, hex: "20020000" },
  { name: "CONNACK accepted, session present", packet: { type: CONNACK, sessionPresent: true, returnCode: 0 }, hex: "20020100" },
  { name: "CONNACK unacceptable protocol version", packet: { type: CONNACK, sessionPresent: false, returnCode: 1 }, hex: "20020001" },
  { name: "CONNACK identifier rejected", packet: { type: CONNACK, sessionPresent: false, returnCode: 2 }, hex: "20020002" },
  { name: "CONNACK server unavailable", packet: { type: CONNACK, sessionPresent: false, returnCode: 3 }, hex: "20020003" },
  { name: "CONNACK bad username or password", packet: { type: CONNACK, sessionPresent: false, returnCode: 4 }, hex: "20020004" },
  { name: "CONNACK not authorized", packet: { type: CONNACK, sessionPresent: false, returnCode: 5 }, hex: "20020005" },
  // PUBLISH
  { name: "PUBLISH QoS 0", packet: { type: PUBLISH, topic: "a/b", payload: ascii("hi"), qos: 0, retain: false, dup: false }, hex: "3007" + "0003612f62" + "6869" },
  { name: "PUBLISH QoS 0 retained", packet: { type: PUBLISH, topic: "a/b", payload: ascii("hi"), qos: 0, retain: true, dup: false }, hex: "3107" + "0003612f62" + "6869" },
  { name: "PUBLISH QoS 0 empty payload (clears a retained message)", packet: { type: PUBLISH, topic: "a", payload: new Uint8Array(0), qos: 0, retain: true, dup: false }, hex: "3103" + "000161" },
  { name: "PUBLISH QoS 1", packet: { type: PUBLISH, topic: "t", payload: ascii("x"), qos: 1, retain: false, dup: false, packetId: 1 }, hex: "3206" + "000174" + "0001" + "78" },
  { name: "PUBLISH QoS 1 DUP", packet: { type: PUBLISH, topic: "t", payload: ascii("x"), qos: 1, retain: false, dup: true, packetId: 65535 }, hex: "3a06" + "000174" + "ffff" + "78" },
  { name: "PUBLISH QoS 2", packet: { type: PUBLISH, topic: "t", payload: ascii("x"), qos: 2, retain: false, dup: false, packetId: 258 }, hex: "3406" + "000174" + "0102" + "78" },
  { name: "PUBLISH QoS 2 DUP RETAIN empty payload", packet: { type: PUBLISH, topic: "t", payload: new Uint8Array(0), qos: 2, retain: true, dup: true, packetId: 7 }, hex: "3d05" + "000174" + "0007" },
  {
    name: "PUBLISH multi-byte UTF-8 topic (2, 3 and 4-byte sequences)",
    packet: { type: PUBLISH, topic: "café/温度/😀", payload: ascii("1"), qos: 0, retain: false, dup: false },
    hex: "3014" + "0011" + "636166c3a9" + "2f" + "e6b8a9e5baa6" + "2f" + "f09f9880" + "31",
  },
  {
    name: "PUBLISH 200-byte payload (2-byte remaining length)",
    packet: { type: PUBLISH, topic: "big", payload: PAYLOAD_200, qos: 1, retain: false, dup: false, packetId: 10 },
    hex: "32cf01" + "0003626967" + "000a" + toHex(PAYLOAD_200),
  },
  {
    name: "PUBLISH 20000-byte payload (3-byte remaining length)",
    packet: { type: PUBLISH, topic: "big", payload: PAYLOAD_20000, qos: 0, retain: false, dup: false },
    hex: "30a59c01" + "0003626967" + toHex(PAYLOAD_20000),
  },
  // Acknowledgements
  { name: "PUBACK", packet: { type: PUBACK, packetId: 1 }, hex: "40020001" },
  { name: "PUBREC", packet: { type: PUBREC, packetId: 256 }, hex: "50020100" },
  { name: "PUBREL (flags 0010)", packet: { type: PUBREL, packetId: 4660 }, hex: "62021234" },
  { name: "PUBCOMP", packet: { type: PUBCOMP, packetId: 65535 }, hex: "7002ffff" },
  // SUBSCRIBE / SUBACK
  { name: "SUBSCRIBE one filter", packet: { type: SUBSCRIBE, packetId: 1, subscriptions: [{ topic: "a/b", qos: 0 }] }, hex: "8208" + "0001" + "0003612f62" + "00" },
  {
    name: "SUBSCRIBE three filters with wildcards",
    packet: { type: SUBSCRIBE, packetId: 2, subscriptions: [{ topic: "sport/+/score", qos: 1 }, { topic: "sport/#", qos: 2 }, { topic: "#", qos: 0 }] },
    hex: "8220" + "0002" + "000d73706f72742f2b2f73636f7265" + "01" + "000773706f72742f23" + "02" + "000123" + "00",
  },
  { name: "SUBACK granted 0", packet: { type: SUBACK, packetId: 1, granted: [0] }, hex: "9003" + "0001" + "00" },
  { name: "SUBACK granted 0, 1, 2 and failure 0x80", packet: { type: SUBACK, packetId: 2, granted: [0, 1, 2, 0x80] }, hex: "9006" + "0002" + "00010280" },
  // UNSUBSCRIBE / UNSUBACK
  { name: "UNSUBSCRIBE one filter", packet: { type: UNSUBSCRIBE, packetId: 3, topics: ["a/b"] }, hex: "a207" + "0003" + "0003612f62" },
  { name: "UNSUBSCRIBE two filters", packet: { type: UNSUBSCRIBE, packetId: 4, topics: ["a/#", "+/b"] }, hex: "a20c" + "0004" + "0003612f23" + "00032b2f62" },
  { name: "UNSUBACK", packet: { type: UNSUBACK, packetId: 3 }, hex: "b0020003" },
  // No body
  { name: "PINGREQ", packet: { type: PINGREQ }, hex: "c000" },
  { name: "PINGRESP", packet: { type: PINGRESP }, hex: "d000" },
  { name: "DISCONNECT", packet: { type: DISCONNECT }, hex: "e000" },
];

const MAX_PACKET = 1 + 4 + 268_435_455;

const M = (name: string, hex: string, packetType: string, rule: string | undefined, maxPacketSize?: number): MalformedVector =>
  maxPacketSize === undefined ? { name, hex, packetType, rule } : { name, hex, packetType, rule, maxPacketSize };

/** Input the decoder must refuse with a ProtocolError naming `packetType` and `rule`; each hex is a whole stream. */
export const MALFORMED_VECTORS: MalformedVector[] = [
  // Fixed header
  // The largest maxPacketSize, so the length's form is what fails and not its size.
  M("remaining length in 5 bytes", "30ffffffff7f", "PUBLISH", "[MQTT-2.2.3]", MAX_PACKET),
  M("remaining length in 5 bytes on PINGREQ", "c0808080808000", "PINGREQ", "[MQTT-2.2.3]", MAX_PACKET),
  M("remaining length in 5 bytes under the default maxPacketSize is refused for its size first", "30ffffffff7f", "PUBLISH", undefined),
  M("reserved packet type 0", "0000", "RESERVED", "[MQTT-2.2.1]"),
  M("reserved packet type 15", "f000", "RESERVED", "[MQTT-2.2.1]"),
  M("CONNECT reserved flags 1111", "1f0c00044d5154540402003c0000", "CONNECT", "[MQTT-2.2.2-2]"),
  M("CONNACK reserved flags 0001", "21020000", "CONNACK", "[MQTT-2.2.2-2]"),
  M("PUBACK reserved flags 0001", "41020001", "PUBACK", "[MQTT-2.2.2-2]"),
  M("PUBREC reserved flags 0010", "52020001", "PUBREC", "[MQTT-2.2.2-2]"),
  M("PUBREL flags 0000 instead of 0010", "60020001", "PUBREL", "[MQTT-2.2.2-2]"),
  M("PUBCOMP reserved flags 1000", "78020001", "PUBCOMP", "[MQTT-2.2.2-2]"),
  M("SUBSCRIBE flags 0000 instead of 0010", "800800010003612f6200", "SUBSCRIBE", "[MQTT-2.2.2-2]"),
  M("SUBACK reserved flags 0010", "9203000100", "SUBACK", "[MQTT-2.2.2-2]"),
  M("UNSUBSCRIBE flags 0000 instead of 0010", "a0070001000361" + "2f62", "UNSUBSCRIBE", "[MQTT-2.2.2-2]"),
  M("UNSUBACK reserved flags 0100", "b4020001", "UNSUBACK", "[MQTT-2.2.2-2]"),
  M("PINGREQ reserved flags 0001", "c100", "PINGREQ", "[MQTT-2.2.2-2]"),
  M("PINGRESP reserved flags 0010", "d200", "PINGRESP", "[MQTT-2.2.2-2]"),
  M("DISCONNECT reserved flags 1000", "e800", "DISCONNECT", "[MQTT-2.2.2-2]"),
  // PUBLISH
  M("PUBLISH QoS 3", "360600017400" + "0178", "PUBLISH", "[MQTT-3.3.1-4]"),
  M("PUBLISH DUP with QoS 0", "3803000161", "PUBLISH", "[MQTT-3.3.1-2]"),
  M("PUBLISH topic with invalid UTF-8 byte 0xff", "3003" + "0001ff", "PUBLISH", "[MQTT-1.5.3-1]"),
  M("PUBLISH topic with overlong encoding of '/'", "3004" + "0002c0af", "PUBLISH", "[MQTT-1.5.3-1]"),
  M("PUBLISH topic with overlong 3-byte form", "3005" + "0003e08080", "PUBLISH", "[MQTT-1.5.3-1]"),
  M("PUBLISH topic with U+0000", "3005" + "0003610062", "PUBLISH", "[MQTT-1.5.3-2]"),
  M("PUBLISH topic with encoded surrogate U+D800", "3005" + "0003eda080", "PUBLISH", "[MQTT-1.5.3-1]"),
  M("PUBLISH topic with code point above U+10FFFF", "3006" + "0004f4908080", "PUBLISH", "[MQTT-1.5.3-1]"),
  M("PUBLISH topic ending inside a UTF-8 sequence", "3004" + "000261c3", "PUBLISH", "[MQTT-1.5.3-1]"),
  M("PUBLISH topic with bad continuation byte", "3004" + "0002c361", "PUBLISH", "[MQTT-1.5.3-1]"),
  M("PUBLISH topic with '+' wildcard", "3005" + "0003612f2b", "PUBLISH", "[MQTT-3.3.2-2]"),
  M("PUBLISH topic with '#' wildcard", "3003" + "000123", "PUBLISH", "[MQTT-3.3.2-2]"),
  M("PUBLISH empty topic", "3002" + "0000", "PUBLISH", "[MQTT-4.7.3-1]"),
  M("PUBLISH QoS 1 packet id 0", "3205" + "0001740000", "PUBLISH", "[MQTT-2.3.1-1]"),
  M("PUBLISH topic length past the end", "3003" + "000561", "PUBLISH", "[MQTT-2.2.3]"),
  M("PUBLISH QoS 1 without room for the packet id", "3204" + "00017400", "PUBLISH", "[MQTT-2.2.3]"),
  M("PUBLISH remaining length 1", "3001" + "00", "PUBLISH", "[MQTT-2.2.3]"),
  // Acknowledgements
  M("PUBACK packet id 0", "40020000", "PUBACK", "[MQTT-2.3.1-1]"),
  M("PUBREC packet id 0", "50020000", "PUBREC", "[MQTT-2.3.1-1]"),
  M("PUBREL packet id 0", "62020000", "PUBREL", "[MQTT-2.3.1-1]"),
  M("PUBCOMP packet id 0", "70020000", "PUBCOMP", "[MQTT-2.3.1-1]"),
  M("UNSUBACK packet id 0", "b0020000", "UNSUBACK", "[MQTT-2.3.1-1]"),
  M("PUBACK truncated packet id", "400100", "PUBACK", "[MQTT-2.2.3]"),
  M("PUBACK empty body", "4000", "PUBACK", "[MQTT-2.2.3]"),
  M("PUBACK trailing byte", "4003000100", "PUBACK", "[MQTT-2.2.3]"),
  M("UNSUBACK trailing bytes", "b00400010000", "UNSUBACK", "[MQTT-2.2.3]"),
  M("PINGRESP with a body byte", "d00100", "PINGRESP", "[MQTT-2.2.3]"),
  M("DISCONNECT with a body byte", "e00100", "DISCONNECT", "[MQTT-2.2.3]"),
  // CONNACK
  M("CONNACK reserved return code 6", "20020006", "CONNACK", "[MQTT-3.2.2.3]"),
  M("CONNACK reserved acknowledge flag bits", "20020200", "CONNACK", "[MQTT-3.2.2.1]"),
  M("CONNACK session present with a refusal", "20020105", "CONNACK", "[MQTT-3.2.2-4]"),
  M("CONNACK truncated", "200100", "CONNACK", "[MQTT-2.2.3]"),
  M("CONNACK trailing byte", "2003000000", "CONNACK", "[MQTT-2.2.3]"),
  // SUBSCRIBE / SUBACK / UNSUBSCRIBE
  M("SUBSCRIBE packet id 0", "820800000003612f6200", "SUBSCRIBE", "[MQTT-2.3.1-1]"),
  M("SUBSCRIBE without filters", "82020001", "SUBSCRIBE", "[MQTT-3.8.3-3]"),
  M("SUBSCRIBE requested QoS 3", "820800010003612f6203", "SUBSCRIBE", "[MQTT-3.8.3-4]"),
  M("SUBSCRIBE reserved bits in requested QoS", "820800010003612f6241", "SUBSCRIBE", "[MQTT-3.8.3-4]"),
  M("SUBSCRIBE missing requested QoS byte", "820700010003612f62", "SUBSCRIBE", "[MQTT-2.2.3]"),
  M("SUBSCRIBE '#' not last", "820a" + "0001" + "0005232f612f62" + "00", "SUBSCRIBE", "[MQTT-4.7.1-2]"),
  M("SUBSCRIBE '+' not a whole level", "820700010002612b00", "SUBSCRIBE", "[MQTT-4.7.1-3]"),
  M("SUBSCRIBE empty filter", "82050001000000", "SUBSCRIBE", "[MQTT-4.7.3-1]"),
  M("SUBACK return code 3", "9003000103", "SUBACK", "[MQTT-3.9.3-2]"),
  M("SUBACK return code 0x81", "9003000181", "SUBACK", "[MQTT-3.9.3-2]"),
  M("SUBACK without return codes", "90020001", "SUBACK", "[MQTT-3.9.3-1]"),
  M("SUBACK packet id 0", "9003000000", "SUBACK", "[MQTT-2.3.1-1]"),
  M("UNSUBSCRIBE without filters", "a2020001", "UNSUBSCRIBE", "[MQTT-3.10.3-2]"),
  M("UNSUBSCRIBE packet id 0", "a2050000000161", "UNSUBSCRIBE", "[MQTT-2.3.1-1]"),
  M("UNSUBSCRIBE filter length past the end", "a2050001000561", "UNSUBSCRIBE", "[MQTT-2.2.3]"),
  // CONNECT
  M("CONNECT protocol name MQIsdp (3.1)", "100f" + "00064d514973647003" + "02003c000163", "CONNECT", "[MQTT-3.1.2-1]"),
  M("CONNECT protocol level 5", "100d00044d5154540502003c000163", "CONNECT", "[MQTT-3.1.2-2]"),
  M("CONNECT reserved connect flag", "100d00044d5154540403003c000163", "CONNECT", "[MQTT-3.1.2-3]"),
  M("CONNECT will QoS without will flag", "100d00044d515454040a003c000163", "CONNECT", "[MQTT-3.1.2-13]"),
  M("CONNECT will retain without will flag", "100d00044d5154540422003c000163", "CONNECT", "[MQTT-3.1.2-15]"),
  M("CONNECT will QoS 3", "1012" + "00044d515454041e003c000163" + "000177" + "0000", "CONNECT", "[MQTT-3.1.2-14]"),
  M("CONNECT password without username", "1010" + "00044d5154540442003c000163" + "000170", "CONNECT", "[MQTT-3.1.2-22]"),
  M("CONNECT will topic with wildcard", "101200044d5154540406003c00016300012300" + "00", "CONNECT", "[MQTT-3.3.2-2]"),
  M("CONNECT client id with U+0000", "100d00044d5154540402003c000100", "CONNECT", "[MQTT-1.5.3-2]"),
  M("CONNECT truncated before keep alive", "100800044d51545404" + "02", "CONNECT", "[MQTT-2.2.3]"),
  M("CONNECT username flag without username", "100d00044d5154540482003c000163", "CONNECT", "[MQTT-2.2.3]"),
  M("CONNECT trailing byte", "100e00044d5154540402003c00016300", "CONNECT", "[MQTT-2.2.3]"),
  // Limits and stream ends
  M("PUBLISH over maxPacketSize 16 (refused from the header)", "3011", "PUBLISH", undefined, 16),
  M("input ends inside a PUBLISH", "3205000174", "PUBLISH", undefined),
];
