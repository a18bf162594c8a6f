// MQTT 3.1.1 wire format: `encode` turns a packet into one Uint8Array, `PacketDecoder` turns a byte stream into packets.
import { ProtocolError } from "../errors";
import { MAX_REMAINING_LENGTH, PROTOCOL_LEVEL_311, PROTOCOL_NAME, PacketType, SUBACK_FAILURE, packetName, type QoS } from "./constants";
import type { AckPacket, ConnectPacket, Packet, PublishPacket, SubscribePacket, UnsubscribePacket } from "./packets";
import { validateTopicFilter, validateTopicName } from "./topics";
import { checkedUtf8Length, decodeUtf8, writeUtf8 } from "./utf8";

const EMPTY = new Uint8Array(0);
const MAX_UINT16 = 65535;

// ---------------------------------------------------------------------------------------------
// Encoding: one pass to size the packet, one to write it, so each packet is a single allocation.

/** Encodes `packet` into a new array; throws a ProtocolError naming the rule when a field could not be sent legally. */
export function encode(packet: Packet): Uint8Array {
  if (packet.type === PacketType.PUBLISH) {
    // The packet of every message, straight to its two helpers: on XS the generic dispatch (three switches and the
    // packet's name looked up for error messages that are never built) cost as much as writing the bytes.
    const body = publishBodyLength(packet);
    const publish = new Uint8Array(1 + varintLength(body) + body);
    publish[0] = publishFirstByte(packet);
    writePublishBody(packet, publish, writeVarint(publish, 1, body));
    return publish;
  }
  const remaining = checkedBodyLength(packet);
  const out = new Uint8Array(1 + varintLength(remaining) + remaining);
  writePacket(packet, remaining, out, 0);
  return out;
}

/** Bytes `encode(packet)` would produce (validating the packet as encode does). */
export function encodedLength(packet: Packet): number {
  const remaining = checkedBodyLength(packet);
  return 1 + varintLength(remaining) + remaining;
}

/**
 * Encodes `packet` into the caller's buffer at `offset` (no allocation, as coreMQTT's caller-owned buffer);
 * returns the offset after it. A target too small is a RangeError: size it with encodedLength().
 */
export function encodeInto(packet: Packet, target: Uint8Array, offset = 0): number {
  const remaining = checkedBodyLength(packet);
  const size = 1 + varintLength(remaining) + remaining;
  if (!Number.isInteger(offset) || offset < 0 || offset + size > target.length) {
    throw new RangeError(`${packetName(packet.type)} needs ${size} bytes at offset ${offset}, the target has ${target.length}`);
  }
  return writePacket(packet, remaining, target, offset);
}

function checkedBodyLength(packet: Packet): number {
  const remaining = bodyLength(packet);
  if (remaining > MAX_REMAINING_LENGTH) {
    throw new ProtocolError(packetName(packet.type), `packet of ${remaining} bytes exceeds the 268435455-byte limit`, "[MQTT-2.2.3]");
  }
  return remaining;
}

function writePacket(packet: Packet, remaining: number, out: Uint8Array, at: number): number {
  out[at] = firstByte(packet);
  at = writeVarint(out, at + 1, remaining);
  return writeBody(packet, out, at);
}

function firstByte(packet: Packet): number {
  switch (packet.type) {
    case PacketType.PUBLISH:
      return publishFirstByte(packet);
    case PacketType.PUBREL:
    case PacketType.SUBSCRIBE:
    case PacketType.UNSUBSCRIBE:
      return (packet.type << 4) | 2; // [MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1]
    default:
      return packet.type << 4;
  }
}

function bodyLength(packet: Packet): number {
  const name = packetName(packet.type);
  switch (packet.type) {
    case PacketType.CONNECT: {
      checkUint16(packet.keepAlive, name, "keepAlive");
      let length = 10 + stringLength(packet.clientId, name, "client id");
      // A client must never ask for a persistent session without an id the broker could keep it under.
      if (packet.clientId === "" && !packet.cleanSession) throw new ProtocolError(name, "an empty client id needs clean session 1", "[MQTT-3.1.3-7]");
      if (packet.will) {
        checkQos(packet.will.qos, name);
        length += 2 + validateTopicName(packet.will.topic, name) + binaryLength(packet.will.payload, name, "will payload");
      }
      if (packet.username !== undefined) length += stringLength(packet.username, name, "username");
      if (packet.password !== undefined) {
        if (packet.username === undefined) throw new ProtocolError(name, "a password needs a username", "[MQTT-3.1.2-22]");
        length += typeof packet.password === "string"
          ? stringLength(packet.password, name, "password")
          : binaryLength(packet.password, name, "password");
      }
      return length;
    }
    case PacketType.CONNACK:
      if (!Number.isInteger(packet.returnCode) || packet.returnCode < 0 || packet.returnCode > 5) {
        throw new ProtocolError(name, `return code ${packet.returnCode} is reserved`, "[MQTT-3.2.2.3]");
      }
      if (packet.sessionPresent && packet.returnCode !== 0) {
        throw new ProtocolError(name, "session present must be 0 with a non-zero return code", "[MQTT-3.2.2-4]");
      }
      return 2;
    case PacketType.PUBLISH:
      return publishBodyLength(packet);
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
    case PacketType.UNSUBACK:
      checkPacketId(packet.packetId, name);
      return 2;
    case PacketType.SUBSCRIBE: {
      checkPacketId(packet.packetId, name);
      // Untyped callers (plain JS) get the codec's error, not a TypeError from iterating a non-array.
      if (!Array.isArray(packet.subscriptions)) throw new ProtocolError(name, "subscriptions must be an array of {topic, qos}", "[MQTT-3.8.3-3]");
      if (packet.subscriptions.length === 0) throw new ProtocolError(name, "needs at least one topic filter", "[MQTT-3.8.3-3]");
      let length = 2;
      for (const sub of packet.subscriptions) {
        checkQos(sub.qos, name);
        length += 2 + validateTopicFilter(sub.topic, name) + 1;
      }
      return length;
    }
    case PacketType.SUBACK:
      checkPacketId(packet.packetId, name);
      if (packet.granted.length === 0) throw new ProtocolError(name, "needs at least one return code", "[MQTT-3.9.3-1]");
      for (const code of packet.granted) checkSubackCode(code, name);
      return 2 + packet.granted.length;
    case PacketType.UNSUBSCRIBE: {
      checkPacketId(packet.packetId, name);
      if (!Array.isArray(packet.topics)) throw new ProtocolError(name, "topics must be an array of topic filters", "[MQTT-3.10.3-2]");
      if (packet.topics.length === 0) throw new ProtocolError(name, "needs at least one topic filter", "[MQTT-3.10.3-2]");
      let length = 2;
      for (const topic of packet.topics) {
        length += 2 + validateTopicFilter(topic, name);
      }
      return length;
    }
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
    case PacketType.DISCONNECT:
      return 0;
    default:
      return unknownPacket(packet);
  }
}

function writeBody(packet: Packet, out: Uint8Array, at: number): number {
  switch (packet.type) {
    case PacketType.CONNECT:
      return writeConnect(packet, out, at);
    case PacketType.CONNACK:
      out[at] = packet.sessionPresent ? 1 : 0;
      out[at + 1] = packet.returnCode;
      return at + 2;
    case PacketType.PUBLISH:
      return writePublishBody(packet, out, at);
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
    case PacketType.UNSUBACK:
      return writeUint16(out, at, packet.packetId);
    case PacketType.SUBSCRIBE:
      at = writeUint16(out, at, packet.packetId);
      for (const sub of packet.subscriptions) {
        at = writeString(out, at, sub.topic);
        out[at++] = sub.qos;
      }
      return at;
    case PacketType.SUBACK:
      at = writeUint16(out, at, packet.packetId);
      for (const code of packet.granted) out[at++] = code;
      return at;
    case PacketType.UNSUBSCRIBE:
      at = writeUint16(out, at, packet.packetId);
      for (const topic of packet.topics) at = writeString(out, at, topic);
      return at;
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
    case PacketType.DISCONNECT:
      return at;
    default:
      return unknownPacket(packet);
  }
}

function publishFirstByte(packet: PublishPacket): number {
  return 0x30 | (packet.dup ? 8 : 0) | (packet.qos << 1) | (packet.retain ? 1 : 0);
}

/** A PUBLISH's remaining length, checked as every packet's is (the topic by validateTopicName unless given as bytes). */
function publishBodyLength(packet: PublishPacket): number {
  const topicLength = packet.topicBytes ? packet.topicBytes.length : validateTopicName(packet.topic, "PUBLISH");
  checkQos(packet.qos, "PUBLISH");
  if (packet.qos > 0) checkPacketId(packet.packetId, "PUBLISH");
  else if (packet.dup) throw new ProtocolError("PUBLISH", "DUP must be 0 for QoS 0", "[MQTT-3.3.1-2]");
  const length = 2 + topicLength + (packet.qos > 0 ? 2 : 0) + packet.payload.length;
  if (length > MAX_REMAINING_LENGTH) throw new ProtocolError("PUBLISH", `packet of ${length} bytes exceeds the 268435455-byte limit`, "[MQTT-2.2.3]");
  return length;
}

function writePublishBody(packet: PublishPacket, out: Uint8Array, at: number): number {
  at = packet.topicBytes ? writeBinary(out, at, packet.topicBytes) : writeString(out, at, packet.topic);
  if (packet.qos > 0) at = writeUint16(out, at, packet.packetId as number);
  out.set(packet.payload, at);
  return at + packet.payload.length;
}

function writeConnect(packet: ConnectPacket, out: Uint8Array, at: number): number {
  at = writeString(out, at, PROTOCOL_NAME);
  out[at++] = PROTOCOL_LEVEL_311;
  let flags = packet.cleanSession ? 0x02 : 0;
  if (packet.will) flags |= 0x04 | (packet.will.qos << 3) | (packet.will.retain ? 0x20 : 0);
  if (packet.password !== undefined) flags |= 0x40;
  if (packet.username !== undefined) flags |= 0x80;
  out[at++] = flags;
  at = writeUint16(out, at, packet.keepAlive);
  at = writeString(out, at, packet.clientId);
  if (packet.will) {
    at = writeString(out, at, packet.will.topic);
    at = writeBinary(out, at, packet.will.payload);
  }
  if (packet.username !== undefined) at = writeString(out, at, packet.username);
  if (packet.password !== undefined) {
    at = typeof packet.password === "string" ? writeString(out, at, packet.password) : writeBinary(out, at, packet.password);
  }
  return at;
}

function unknownPacket(packet: never): never {
  throw new ProtocolError("UNKNOWN", `cannot encode packet type ${(packet as { type: unknown }).type}`);
}

function stringLength(text: string, packetType: string, what: string): number {
  if (typeof text !== "string") throw new ProtocolError(packetType, `${what} must be a string`);
  const length = checkedUtf8Length(text, packetType, what);
  if (length > MAX_UINT16) throw new ProtocolError(packetType, `${what} is longer than 65535 bytes`, "[MQTT-1.5.3]");
  return 2 + length;
}

function binaryLength(bytes: Uint8Array, packetType: string, what: string): number {
  if (!(bytes instanceof Uint8Array)) throw new ProtocolError(packetType, `${what} must be a Uint8Array`);
  if (bytes.length > MAX_UINT16) throw new ProtocolError(packetType, `${what} is longer than 65535 bytes`);
  return 2 + bytes.length;
}

function checkUint16(value: number, packetType: string, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_UINT16) {
    throw new ProtocolError(packetType, `${what} must be an integer from 0 to 65535, got ${value}`);
  }
}

function checkPacketId(id: number | undefined, packetType: string): void {
  if (id === undefined || !Number.isInteger(id) || id < 1 || id > MAX_UINT16) {
    throw new ProtocolError(packetType, `packet id must be 1..65535, got ${id}`, "[MQTT-2.3.1-1]");
  }
}

function checkQos(qos: number, packetType: string): void {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new ProtocolError(packetType, `QoS must be 0, 1 or 2, got ${qos}`, "[MQTT-3.3.1-4]");
}

function checkSubackCode(code: number, packetType: string): void {
  if (code !== 0 && code !== 1 && code !== 2 && code !== SUBACK_FAILURE) {
    throw new ProtocolError(packetType, `return code 0x${code.toString(16)} is not 0, 1, 2 or 0x80`, "[MQTT-3.9.3-2]");
  }
}

function varintLength(value: number): number {
  return value < 128 ? 1 : value < 16384 ? 2 : value < 2097152 ? 3 : 4;
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  if (value < 128) {
    out[at] = value; // one byte, the usual case: no divisions
    return at + 1;
  }
  do {
    let digit = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) digit |= 0x80;
    out[at++] = digit;
  } while (value > 0);
  return at;
}

function writeUint16(out: Uint8Array, at: number, value: number): number {
  out[at] = value >> 8;
  out[at + 1] = value & 0xff;
  return at + 2;
}

function writeString(out: Uint8Array, at: number, text: string): number {
  const end = writeUtf8(out, at + 2, text);
  writeUint16(out, at, end - at - 2);
  return end;
}

function writeBinary(out: Uint8Array, at: number, bytes: Uint8Array): number {
  at = writeUint16(out, at, bytes.length);
  out.set(bytes, at);
  return at + bytes.length;
}

// ---------------------------------------------------------------------------------------------
// Decoding

export interface DecoderOptions {
  /** Largest whole packet (fixed header included) accepted; larger ones are refused before their body is buffered. */
  maxPacketSize?: number;
}

export const DEFAULT_MAX_PACKET_SIZE = 64 * 1024;

/**
 * A PUBLISH larger than the maximum packet size, read past without buffering its body: what the receiver needs to
 * acknowledge it at its QoS ([MQTT-4.3]) and to report it. Nothing of its payload is kept.
 */
export interface OversizedPublish {
  /** Whole packet size in bytes, fixed header included. */
  readonly size: number;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly dup: boolean;
  /** Present exactly when qos > 0. */
  readonly packetId?: number;
  /** The topic's length in bytes and its first bytes (at most OVERSIZED_TOPIC_PREFIX; non-printable ASCII as "?"), for the report. */
  readonly topicLength: number;
  readonly topicPrefix: string;
}

/** Bytes of an oversized PUBLISH's topic kept for its report: enough to name a topic, bounded whatever the peer sends. */
export const OVERSIZED_TOPIC_PREFIX = 64;

const enum Stage { Header, Length, Body, Skip, Failed }
/** Fields of an oversized PUBLISH read before its payload is skipped. */
const enum SkipField { TopicLength, Topic, PacketId, Payload }

/**
 * Streaming decoder: push chunks of any size, get whole packets through the callback.
 * After a ProtocolError the stream is unusable (MQTT has no resynchronisation): the
 * decoder stays failed and rethrows until reset() for a new connection. The same holds
 * when `onPacket` throws: the rest of that chunk is not read, so the stream position is lost.
 */
export class PacketDecoder {
  private readonly maxPacketSize: number;
  private stage = Stage.Header;
  private header = 0;
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private body: Uint8Array = EMPTY;
  private filled = 0;
  private failure: Error | undefined;
  /** Reading past an oversized PUBLISH: which field, the bytes of it read so far, and what was learnt. */
  private skipField = SkipField.TopicLength;
  private skipValue = 0;
  private skipCount = 0;
  private skipTopicLength = 0;
  private skipTopic = "";
  private skipPacketId = 0;

  constructor(options: DecoderOptions = {}) {
    const max = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    if (!Number.isInteger(max) || max < 2) throw new RangeError(`maxPacketSize must be an integer >= 2, got ${max}`);
    this.maxPacketSize = max;
  }

  /** Bytes held for a packet not yet complete. */
  get buffered(): number {
    return this.stage === Stage.Body ? this.filled : this.stage === Stage.Length ? 1 + this.lengthBytes : 0;
  }

  reset(): void {
    this.stage = Stage.Header;
    this.body = EMPTY;
    this.filled = 0;
    this.failure = undefined;
  }

  /**
   * Feeds bytes; calls `onPacket` for each packet completed, in order. Throws ProtocolError on malformed input.
   * With `onOversized`, a PUBLISH over the maximum size is read past (its payload never buffered) and reported there,
   * in stream order, so the stream stays usable; without it, it is a ProtocolError like any other oversized packet.
   */
  push(chunk: Uint8Array, onPacket: (packet: Packet) => void, onOversized?: (publish: OversizedPublish) => void): void {
    if (this.failure) throw this.failure;
    try {
      this.consume(chunk, onPacket, onOversized);
    } catch (error) {
      this.stage = Stage.Failed;
      this.body = EMPTY;
      // A callback's own error is thrown once as is; later calls say why the decoder is stuck.
      this.failure = error instanceof ProtocolError
        ? error
        : new Error(`PacketDecoder: an onPacket callback threw (${String(error)}); the rest of its chunk was not read, so reset() for a new connection`);
      throw error;
    }
  }

  private consume(chunk: Uint8Array, onPacket: (packet: Packet) => void, onOversized?: (publish: OversizedPublish) => void): void {
    let at = 0;
    const end = chunk.length;
    while (at < end) {
      if (this.stage === Stage.Header && end - at >= 4 && chunk[at + 1] === 2 && this.maxPacketSize >= 4) {
        // A whole acknowledgement where a packet starts (what a QoS 1/2 flow receives most) is read in place, without
        // the header and length stages: on XS they cost more than the rest of the PUBACK's handling. Anything the
        // shortcut does not accept (other flags, packet id 0) takes the general path and gets its error there.
        const header = chunk[at];
        const type = header >> 4;
        const packetId = (chunk[at + 2] << 8) | chunk[at + 3];
        if (packetId !== 0 && header === (type === PacketType.PUBREL ? 0x62 : type << 4) && isAck(type)) {
          at += 4;
          onPacket({ type, packetId });
          continue;
        }
      }
      if (this.stage === Stage.Header) {
        this.header = chunk[at++];
        checkFixedHeader(this.header);
        this.stage = Stage.Length;
        this.remaining = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      }
      if (this.stage === Stage.Length) {
        let complete = false;
        while (at < end) {
          const digit = chunk[at++];
          this.remaining += (digit & 0x7f) * this.multiplier;
          this.multiplier *= 128;
          this.lengthBytes++;
          if ((digit & 0x80) === 0) {
            complete = true;
            break;
          }
          if (this.lengthBytes === 4) {
            throw new ProtocolError(packetName(this.header >> 4), "remaining length uses more than 4 bytes", "[MQTT-2.2.3]");
          }
          // Refuse an oversized packet as soon as its length says so, even before the length is complete;
          // checked per byte so that the error does not depend on how the stream was chunked.
          if (!this.skippable(onOversized)) this.checkSize();
        }
        if (!complete) return;
        if (this.oversized()) {
          if (!this.skippable(onOversized)) this.checkSize();
          this.startSkip();
          continue;
        }
        this.stage = Stage.Body;
        this.filled = 0;
        if (this.remaining === 0) {
          this.finish(EMPTY, 0, 0, onPacket);
          continue;
        }
        // Whole body in this chunk: parse in place, no copy of the body.
        if (end - at >= this.remaining) {
          const stop = at + this.remaining;
          this.finish(chunk, at, stop, onPacket);
          at = stop;
          continue;
        }
        this.body = new Uint8Array(this.remaining);
      }
      if (this.stage === Stage.Skip) {
        at = this.skip(chunk, at, end, onOversized as (publish: OversizedPublish) => void);
        continue;
      }
      // Stage.Body, collecting across chunks.
      const take = Math.min(end - at, this.remaining - this.filled);
      this.body.set(take === end - at && at === 0 ? chunk : chunk.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === this.remaining) {
        const body = this.body;
        this.body = EMPTY;
        this.finish(body, 0, body.length, onPacket);
      }
    }
  }

  /** Declares the end of the input (e.g. the connection closed): throws a ProtocolError naming the packet cut short, if any. */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.stage === Stage.Header) return;
    const name = packetName(this.header >> 4);
    const got = this.stage === Stage.Body ? `${this.filled} of ${this.remaining} body bytes` : "an incomplete remaining length";
    this.stage = Stage.Failed;
    this.body = EMPTY;
    this.failure = new ProtocolError(name, `input ended inside the packet after ${got}`);
    throw this.failure;
  }

  private oversized(): boolean {
    return 1 + this.lengthBytes + this.remaining > this.maxPacketSize;
  }

  /** Only a PUBLISH is read past: it is the one packet a broker may legitimately send large, and it can be acknowledged without its payload. */
  private skippable(onOversized: ((publish: OversizedPublish) => void) | undefined): boolean {
    return onOversized !== undefined && this.header >> 4 === PacketType.PUBLISH;
  }

  private startSkip(): void {
    this.stage = Stage.Skip;
    this.filled = 0; // body bytes consumed
    this.skipField = SkipField.TopicLength;
    this.skipValue = 0;
    this.skipCount = 0;
    this.skipTopicLength = 0;
    this.skipTopic = "";
    this.skipPacketId = 0;
  }

  /** Consumes bytes of an oversized PUBLISH from `at`: topic length, topic (a bounded prefix kept), packet id, then the payload unread. */
  private skip(chunk: Uint8Array, at: number, end: number, onOversized: (publish: OversizedPublish) => void): number {
    const qos = ((this.header >> 1) & 3) as QoS;
    while (at < end && this.skipField !== SkipField.Payload) {
      if (this.skipField === SkipField.Topic) {
        const take = Math.min(end - at, this.skipTopicLength - this.skipCount);
        for (let i = 0; i < take && this.skipTopic.length < OVERSIZED_TOPIC_PREFIX; i++) {
          const byte = chunk[at + i];
          this.skipTopic += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : "?";
        }
        this.skipCount += take;
        this.filled += take;
        at += take;
        if (this.skipCount === this.skipTopicLength) this.nextSkipField(qos);
        continue;
      }
      this.skipValue = (this.skipValue << 8) | chunk[at++];
      this.filled++;
      if (++this.skipCount < 2) continue;
      if (this.skipField === SkipField.TopicLength) {
        this.skipTopicLength = this.skipValue;
        if (2 + this.skipTopicLength + (qos > 0 ? 2 : 0) > this.remaining) throw new ProtocolError("PUBLISH", "truncated topic name", "[MQTT-2.2.3]");
        if (this.skipTopicLength === 0) throw new ProtocolError("PUBLISH", "topic name is empty", "[MQTT-4.7.3-1]");
        this.skipField = SkipField.Topic;
        this.skipCount = 0;
      } else {
        if (this.skipValue === 0) throw new ProtocolError("PUBLISH", "packet id must not be 0", "[MQTT-2.3.1-1]");
        this.skipPacketId = this.skipValue;
        this.skipField = SkipField.Payload;
      }
      this.skipValue = 0;
    }
    if (this.skipField === SkipField.Payload) {
      const take = Math.min(end - at, this.remaining - this.filled);
      this.filled += take;
      at += take;
      if (this.filled === this.remaining) {
        this.stage = Stage.Header;
        const size = 1 + this.lengthBytes + this.remaining;
        const header = this.header;
        onOversized({
          size,
          qos,
          retain: (header & 1) !== 0,
          dup: (header & 8) !== 0,
          ...(qos > 0 ? { packetId: this.skipPacketId } : {}),
          topicLength: this.skipTopicLength,
          topicPrefix: this.skipTopic,
        });
      }
    }
    return at;
  }

  private nextSkipField(qos: QoS): void {
    this.skipField = qos > 0 ? SkipField.PacketId : SkipField.Payload;
    this.skipCount = 0;
    this.skipValue = 0;
  }

  private checkSize(): void {
    const total = 1 + this.lengthBytes + this.remaining;
    if (total > this.maxPacketSize) {
      throw new ProtocolError(packetName(this.header >> 4), `packet of at least ${total} bytes exceeds the maximum packet size of ${this.maxPacketSize}`);
    }
  }

  private finish(bytes: Uint8Array, start: number, end: number, onPacket: (packet: Packet) => void): void {
    this.stage = Stage.Header;
    onPacket(decodeBody(this.header, bytes, start, end));
  }
}

/** Decodes a buffer holding whole packets; throws if it ends inside one. For tests and tools. */
export function decodeAll(bytes: Uint8Array, options?: DecoderOptions): Packet[] {
  const packets: Packet[] = [];
  const decoder = new PacketDecoder(options);
  decoder.push(bytes, (packet) => packets.push(packet));
  decoder.end();
  return packets;
}

function checkFixedHeader(byte: number): void {
  const type = byte >> 4;
  const flags = byte & 0x0f;
  if (type === 0 || type === 15) throw new ProtocolError("RESERVED", `packet type ${type} is reserved`, "[MQTT-2.2.1]");
  if (type === PacketType.PUBLISH) {
    const qos = (flags >> 1) & 3;
    if (qos === 3) throw new ProtocolError("PUBLISH", "QoS bits are 3", "[MQTT-3.3.1-4]");
    if (qos === 0 && (flags & 8) !== 0) throw new ProtocolError("PUBLISH", "DUP must be 0 for QoS 0", "[MQTT-3.3.1-2]");
    return;
  }
  const expected = type === PacketType.PUBREL || type === PacketType.SUBSCRIBE || type === PacketType.UNSUBSCRIBE ? 2 : 0;
  if (flags !== expected) {
    throw new ProtocolError(packetName(type), `reserved flag bits are ${flags}, must be ${expected}`, "[MQTT-2.2.2-2]");
  }
}

/** Reads fields from [pos, end) of one packet body; every read checks bounds so a short field is an error, not garbage. */
class BodyReader {
  pos: number;
  constructor(readonly bytes: Uint8Array, start: number, readonly end: number, readonly packetType: string) {
    this.pos = start;
  }
  get left(): number {
    return this.end - this.pos;
  }
  need(count: number, what: string): void {
    if (this.end - this.pos < count) throw new ProtocolError(this.packetType, `truncated ${what}`, "[MQTT-2.2.3]");
  }
  byte(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++];
  }
  uint16(what: string): number {
    this.need(2, what);
    const value = (this.bytes[this.pos] << 8) | this.bytes[this.pos + 1];
    this.pos += 2;
    return value;
  }
  packetId(): number {
    const id = this.uint16("packet id");
    if (id === 0) throw new ProtocolError(this.packetType, "packet id must not be 0", "[MQTT-2.3.1-1]");
    return id;
  }
  string(what: string): string {
    const length = this.uint16(`${what} length`);
    this.need(length, what);
    const text = decodeUtf8(this.bytes, this.pos, this.pos + length, this.packetType, what);
    this.pos += length;
    return text;
  }
  binary(what: string): Uint8Array {
    const length = this.uint16(`${what} length`);
    this.need(length, what);
    const data = this.bytes.slice(this.pos, this.pos + length);
    this.pos += length;
    return data;
  }
  rest(): Uint8Array {
    const data = this.bytes.slice(this.pos, this.end);
    this.pos = this.end;
    return data;
  }
  done(): void {
    if (this.pos !== this.end) throw new ProtocolError(this.packetType, `${this.end - this.pos} unexpected trailing byte(s)`, "[MQTT-2.2.3]");
  }
}

/** The packets that are a packet id and nothing else: PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK (see consume's shortcut). */
function isAck(type: number): type is AckPacket["type"] {
  return type === PacketType.PUBACK || type === PacketType.PUBREC || type === PacketType.PUBREL || type === PacketType.PUBCOMP || type === PacketType.UNSUBACK;
}

function decodeBody(header: number, bytes: Uint8Array, start: number, end: number): Packet {
  const type = header >> 4;
  const reader = new BodyReader(bytes, start, end, packetName(type));
  let packet: Packet;
  switch (type) {
    case PacketType.CONNECT:
      packet = decodeConnect(reader);
      break;
    case PacketType.CONNACK: {
      const flags = reader.byte("acknowledge flags");
      if ((flags & 0xfe) !== 0) throw new ProtocolError("CONNACK", "reserved acknowledge flag bits 7-1 are set", "[MQTT-3.2.2.1]");
      const returnCode = reader.byte("return code");
      if (returnCode > 5) throw new ProtocolError("CONNACK", `return code ${returnCode} is reserved`, "[MQTT-3.2.2.3]");
      if (returnCode !== 0 && flags !== 0) throw new ProtocolError("CONNACK", "session present must be 0 with a non-zero return code", "[MQTT-3.2.2-4]");
      packet = { type: PacketType.CONNACK, sessionPresent: flags === 1, returnCode };
      break;
    }
    case PacketType.PUBLISH:
      packet = decodePublish(header, reader);
      break;
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
    case PacketType.UNSUBACK:
      packet = { type, packetId: reader.packetId() };
      break;
    case PacketType.SUBSCRIBE:
      packet = decodeSubscribe(reader);
      break;
    case PacketType.SUBACK: {
      const packetId = reader.packetId();
      if (reader.left === 0) throw new ProtocolError("SUBACK", "has no return codes", "[MQTT-3.9.3-1]");
      const granted: number[] = [];
      while (reader.left > 0) {
        const code = reader.byte("return code");
        checkSubackCode(code, "SUBACK");
        granted.push(code);
      }
      packet = { type: PacketType.SUBACK, packetId, granted };
      break;
    }
    case PacketType.UNSUBSCRIBE:
      packet = decodeUnsubscribe(reader);
      break;
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
    case PacketType.DISCONNECT:
      packet = { type };
      break;
    default:
      throw new ProtocolError("RESERVED", `packet type ${type} is reserved`, "[MQTT-2.2.1]");
  }
  reader.done();
  return packet;
}

function decodeConnect(reader: BodyReader): ConnectPacket {
  const protocol = reader.string("protocol name");
  const level = reader.byte("protocol level");
  if (protocol !== PROTOCOL_NAME) throw new ProtocolError("CONNECT", `protocol name is "${protocol}", not "MQTT"`, "[MQTT-3.1.2-1]");
  if (level !== PROTOCOL_LEVEL_311) throw new ProtocolError("CONNECT", `protocol level ${level} is not 4 (3.1.1)`, "[MQTT-3.1.2-2]");
  const flags = reader.byte("connect flags");
  if (flags & 1) throw new ProtocolError("CONNECT", "reserved connect flag is 1", "[MQTT-3.1.2-3]");
  const hasWill = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 3;
  const willRetain = (flags & 0x20) !== 0;
  if (!hasWill && willQos !== 0) throw new ProtocolError("CONNECT", "will QoS must be 0 without a will", "[MQTT-3.1.2-13]");
  if (!hasWill && willRetain) throw new ProtocolError("CONNECT", "will retain must be 0 without a will", "[MQTT-3.1.2-15]");
  if (willQos === 3) throw new ProtocolError("CONNECT", "will QoS is 3", "[MQTT-3.1.2-14]");
  const hasPassword = (flags & 0x40) !== 0;
  const hasUsername = (flags & 0x80) !== 0;
  if (hasPassword && !hasUsername) throw new ProtocolError("CONNECT", "password flag set without username flag", "[MQTT-3.1.2-22]");
  const keepAlive = reader.uint16("keep alive");
  const clientId = reader.string("client id");
  const packet: ConnectPacket = { type: PacketType.CONNECT, clientId, cleanSession: (flags & 0x02) !== 0, keepAlive };
  if (hasWill) {
    const topic = reader.string("will topic");
    validateTopicName(topic, "CONNECT");
    packet.will = { topic, payload: reader.binary("will payload"), qos: willQos as QoS, retain: willRetain };
  }
  if (hasUsername) packet.username = reader.string("username");
  if (hasPassword) packet.password = reader.binary("password");
  return packet;
}

function decodePublish(header: number, reader: BodyReader): PublishPacket {
  const qos = ((header >> 1) & 3) as QoS;
  const topic = reader.string("topic name");
  validateTopicName(topic);
  const packet: PublishPacket = {
    type: PacketType.PUBLISH,
    topic,
    payload: EMPTY,
    qos,
    retain: (header & 1) !== 0,
    dup: (header & 8) !== 0,
  };
  if (qos > 0) packet.packetId = reader.packetId();
  packet.payload = reader.left > 0 ? reader.rest() : new Uint8Array(0);
  return packet;
}

function decodeSubscribe(reader: BodyReader): SubscribePacket {
  const packetId = reader.packetId();
  if (reader.left === 0) throw new ProtocolError("SUBSCRIBE", "needs at least one topic filter", "[MQTT-3.8.3-3]");
  const subscriptions: SubscribePacket["subscriptions"] = [];
  while (reader.left > 0) {
    const topic = reader.string("topic filter");
    validateTopicFilter(topic);
    const qos = reader.byte("requested QoS");
    if (qos > 2) throw new ProtocolError("SUBSCRIBE", `requested QoS byte is ${qos}`, "[MQTT-3.8.3-4]");
    subscriptions.push({ topic, qos: qos as QoS });
  }
  return { type: PacketType.SUBSCRIBE, packetId, subscriptions };
}

function decodeUnsubscribe(reader: BodyReader): UnsubscribePacket {
  const packetId = reader.packetId();
  if (reader.left === 0) throw new ProtocolError("UNSUBSCRIBE", "needs at least one topic filter", "[MQTT-3.10.3-2]");
  const topics: string[] = [];
  while (reader.left > 0) {
    const topic = reader.string("topic filter");
    validateTopicFilter(topic, "UNSUBSCRIBE");
    topics.push(topic);
  }
  return { type: PacketType.UNSUBSCRIBE, packetId, topics };
}
