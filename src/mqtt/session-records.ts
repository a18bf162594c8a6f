// How the session is laid out in the SessionStore: one key per outgoing message (written once), one small flight record
// per message in flight (its packet id and QoS state), plus small records for ids and subscriptions.
// Splitting the flight state from the message means sending or acknowledging rewrites 4 bytes, not the payload:
// half the flash written per QoS 1/2 message, and less work per message on any store. A message sent in the turn it
// is published (the usual case on a live link) is written once, already in flight: its record carries its first
// state and packet id, so a QoS 1 message costs one write and one delete, with no flight record at all.
import { StorageError } from "../errors";
import type { SessionStore } from "../store/session-store";
import type { QoS } from "./constants";
import { OutState, stateAfterSend } from "./qos-flow";
import { validateTopicName } from "./topics";
import { decodeUtf8, encodeUtf8 } from "./utf8";

export const MESSAGE_PREFIX = "o/";
export const FLIGHT_PREFIX = "f/";
export const META_KEY = "s/meta";
export const INCOMING_QOS2_KEY = "s/in2";
export const SUBSCRIPTIONS_KEY = "s/subs";

const RECORD_VERSION = 1;
/** A message record written already in flight: RECORD_VERSION's layout plus [state, packet id] after the topic length. */
const SENT_RECORD_VERSION = 2;

/** An outgoing message as the session keeps it. The core owns `payload`: it is the copy that will be resent. */
export interface OutgoingMessage {
  messageId: number;
  topic: string;
  /** `topic` as UTF-8, validated: what the record and every PUBLISH of this message carry. */
  topicBytes: Uint8Array;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  state: OutState;
  /** 0 while queued. */
  packetId: number;
  /** False for a message kept in RAM only (publish option stored: false): nothing of it is in the store. */
  stored?: boolean;
  /**
   * True when its record was written already in flight (encodeMessage with `sent`), with the state and packet id of
   * its first send: it has a flight record only once its state moves on (see hasFlightRecord).
   */
  sentInRecord?: boolean;
}

/** Whether the store holds a flight record for `message` (staged or committed): the state its record does not say. */
export function hasFlightRecord(message: OutgoingMessage): boolean {
  if (message.state === OutState.Queued) return false;
  return !(message.sentInRecord === true && message.state === stateAfterSend(message.qos as 1 | 2));
}

/** Message ids sort as fixed-width base-36 keys ("o/0000002s"), so list() returns them in publish order. */
export function messageKey(messageId: number): string {
  return MESSAGE_PREFIX + idSuffix(messageId);
}

export function flightKey(messageId: number): string {
  return FLIGHT_PREFIX + idSuffix(messageId);
}

function idSuffix(messageId: number): string {
  return messageId.toString(36).padStart(8, "0");
}

function idOfKey(key: string, prefix: string): number {
  const id = parseInt(key.slice(prefix.length), 36);
  // Only the key the session itself writes for that id: "o/1x" would name message 69 under a key no delete ever reaches.
  if (!Number.isSafeInteger(id) || id < 1 || prefix + idSuffix(id) !== key) {
    throw new StorageError("stored key does not name a message id; clear the device's session store", key);
  }
  return id;
}

/**
 * The message record: what was published; with `sent`, also the state and packet id of its first send. It is written
 * once, and again only when an in-flight message goes back to the queue (resume without a session at the broker).
 */
export function encodeMessage(message: OutgoingMessage, sent = false): Uint8Array {
  const topicLength = message.topicBytes.length;
  const head = sent ? 7 : 4;
  const bytes = new Uint8Array(head + topicLength + message.payload.length);
  bytes[0] = sent ? SENT_RECORD_VERSION : RECORD_VERSION;
  bytes[1] = message.qos | (message.retain ? 4 : 0);
  bytes[2] = topicLength >> 8;
  bytes[3] = topicLength & 0xff;
  if (sent) {
    bytes[4] = message.state;
    bytes[5] = message.packetId >> 8;
    bytes[6] = message.packetId & 0xff;
  }
  bytes.set(message.topicBytes, head);
  bytes.set(message.payload, head + topicLength);
  return bytes;
}

/** Decodes a message record as queued (state and packet id come from its flight record, if any). */
export function decodeMessage(key: string, bytes: Uint8Array): OutgoingMessage {
  const messageId = idOfKey(key, MESSAGE_PREFIX);
  const sent = bytes[0] === SENT_RECORD_VERSION;
  const head = sent ? 7 : 4;
  if (bytes.length < head || (bytes[0] !== RECORD_VERSION && !sent)) {
    throw new StorageError("stored message record is not in a known format; clear the device's session store", key);
  }
  const qos = (bytes[1] & 3) as QoS;
  const topicLength = (bytes[2] << 8) | bytes[3];
  if (qos > 2 || (bytes[1] & ~7) !== 0 || head + topicLength > bytes.length) {
    throw new StorageError("stored message record is inconsistent; clear the device's session store", key);
  }
  let topic: string;
  try {
    topic = decodeUtf8(bytes, head, head + topicLength, "STORE", "topic");
    validateTopicName(topic); // a stored topic that could not be sent would throw at every attempt to send it
  } catch (error) {
    throw new StorageError(`stored message has a topic that cannot be published (${(error as Error).message}); clear the device's session store`, key);
  }
  const message: OutgoingMessage = {
    messageId,
    topic,
    topicBytes: bytes.slice(head, head + topicLength),
    payload: bytes.slice(head + topicLength),
    qos,
    retain: (bytes[1] & 4) !== 0,
    state: OutState.Queued,
    packetId: 0,
  };
  if (sent) {
    // Only the first state of its QoS: a later one is always a flight record.
    const state = bytes[4] as OutState;
    const packetId = (bytes[5] << 8) | bytes[6];
    if (qos === 0 || state !== stateAfterSend(qos) || packetId === 0) {
      throw new StorageError("stored message record has a flight state its QoS cannot start in; clear the device's session store", key);
    }
    message.state = state;
    message.packetId = packetId;
    message.sentInRecord = true;
  }
  return message;
}

/** The flight record: [version, state, packet id]. */
export function encodeFlight(message: OutgoingMessage): Uint8Array {
  // Byte by byte: on XS `new Uint8Array([...])` builds an array first and costs three times as much.
  const bytes = new Uint8Array(4);
  bytes[0] = RECORD_VERSION;
  bytes[1] = message.state;
  bytes[2] = message.packetId >> 8;
  bytes[3] = message.packetId & 0xff;
  return bytes;
}

function applyFlight(key: string, bytes: Uint8Array, message: OutgoingMessage): void {
  const state = bytes[1] as OutState;
  const packetId = (bytes[2] << 8) | bytes[3];
  const legal = message.qos === 1 ? state === OutState.AwaitPuback : state === OutState.AwaitPubrec || state === OutState.AwaitPubcomp;
  if (bytes.length !== 4 || bytes[0] !== RECORD_VERSION || packetId === 0 || !legal) {
    throw new StorageError(`stored flight record is inconsistent with its QoS ${message.qos} message; clear the device's session store`, key);
  }
  message.state = state;
  message.packetId = packetId;
}

/**
 * Every stored outgoing message in publish order, with its flight state applied. A flight record without its message
 * cannot be written by the session (both go in one commit) and is reported, like any inconsistency.
 */
export function readStoredMessages(store: SessionStore): OutgoingMessage[] {
  const byId = new Map<number, OutgoingMessage>();
  for (const key of store.list(MESSAGE_PREFIX)) {
    const message = decodeMessage(key, store.get(key) as Uint8Array);
    byId.set(message.messageId, message);
  }
  for (const key of store.list(FLIGHT_PREFIX)) {
    const message = byId.get(idOfKey(key, FLIGHT_PREFIX));
    if (!message) throw new StorageError("stored flight record has no message; clear the device's session store", key);
    applyFlight(key, store.get(key) as Uint8Array, message);
    if (message.sentInRecord === true && !hasFlightRecord(message)) {
      // The session writes a flight record only for a state the message record does not already say.
      throw new StorageError("stored flight record repeats the state its message record holds; clear the device's session store", key);
    }
  }
  const messages = Array.from(byId.values());
  const packetIds = new Set<number>();
  for (const message of messages) {
    if (message.state === OutState.Queued) continue;
    if (packetIds.has(message.packetId)) {
      const inFlight = hasFlightRecord(message);
      const key = inFlight ? flightKey(message.messageId) : messageKey(message.messageId);
      throw new StorageError(`stored ${inFlight ? "flight" : "message"} record reuses packet id ${message.packetId}; clear the device's session store`, key);
    }
    packetIds.add(message.packetId);
  }
  return messages;
}

export interface SessionMeta {
  nextMessageId: number;
  nextPacketId: number;
}

export function encodeJson(value: unknown): Uint8Array {
  return encodeUtf8(JSON.stringify(value));
}

export function decodeJson(key: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decodeUtf8(bytes, 0, bytes.length, "STORE", key));
  } catch (error) {
    throw new StorageError(`stored record is not valid JSON (${(error as Error).message})`, key);
  }
}

/** [version, next message id as 6 bytes, next packet id as 2 bytes], big-endian. */
export function encodeMeta(meta: SessionMeta): Uint8Array {
  const bytes = new Uint8Array(9);
  bytes[0] = RECORD_VERSION;
  let id = meta.nextMessageId;
  for (let i = 6; i >= 1; i--) {
    bytes[i] = id % 256;
    id = Math.floor(id / 256);
  }
  bytes[7] = meta.nextPacketId >> 8;
  bytes[8] = meta.nextPacketId & 0xff;
  return bytes;
}

export function decodeMeta(bytes: Uint8Array | undefined): SessionMeta {
  if (!bytes) return { nextMessageId: 1, nextPacketId: 1 };
  if (bytes.length !== 9 || bytes[0] !== RECORD_VERSION) throw new StorageError("session meta record is malformed", META_KEY);
  let nextMessageId = 0;
  for (let i = 1; i <= 6; i++) nextMessageId = nextMessageId * 256 + bytes[i];
  return { nextMessageId, nextPacketId: (bytes[7] << 8) | bytes[8] };
}

export function encodeIds(ids: Iterable<number>): Uint8Array {
  const list = Array.from(ids);
  const bytes = new Uint8Array(list.length * 2);
  list.forEach((id, i) => {
    bytes[2 * i] = id >> 8;
    bytes[2 * i + 1] = id & 0xff;
  });
  return bytes;
}

/** `max`: the most ids the session ever records (a longer record is not one it wrote). */
export function decodeIds(bytes: Uint8Array | undefined, max = Infinity): number[] {
  if (!bytes) return [];
  if (bytes.length % 2 !== 0) throw new StorageError("incoming QoS 2 id record has an odd length", INCOMING_QOS2_KEY);
  if (bytes.length / 2 > max) throw new StorageError(`incoming QoS 2 id record holds ${bytes.length / 2} ids, more than the ${max} the session keeps`, INCOMING_QOS2_KEY);
  const ids: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) {
    const id = (bytes[i] << 8) | bytes[i + 1];
    if (id === 0) throw new StorageError("incoming QoS 2 id record holds packet id 0", INCOMING_QOS2_KEY);
    ids.push(id);
  }
  return ids;
}

/** Stored subscriptions: [filter, QoS] pairs the session wrote; anything else is a StorageError. */
export function decodeSubscriptions(bytes: Uint8Array): Array<[string, QoS]> {
  const entries = decodeJson(SUBSCRIPTIONS_KEY, bytes);
  const ok = Array.isArray(entries) && entries.every((e: unknown) =>
    Array.isArray(e) && e.length === 2 && typeof e[0] === "string" && e[0].length > 0 && e[0].length <= 65535 && (e[1] === 0 || e[1] === 1 || e[1] === 2));
  if (!ok) throw new StorageError("stored subscriptions are not [filter, QoS] pairs", SUBSCRIPTIONS_KEY);
  return entries as Array<[string, QoS]>;
}
