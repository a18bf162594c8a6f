// How the session is laid out in the SessionStore: one key per outgoing message, plus small records for ids and subscriptions.
import { StorageError } from "../errors";
import type { QoS } from "./constants";
import { OutState } from "./qos-flow";
import { decodeUtf8, utf8Length, writeUtf8 } from "./utf8";

export const MESSAGE_PREFIX = "o/";
export const META_KEY = "s/meta";
export const INCOMING_QOS2_KEY = "s/in2";
export const SUBSCRIPTIONS_KEY = "s/subs";

const RECORD_VERSION = 1;

/** An outgoing message as the session keeps it. The core owns `payload`: it is the copy that will be resent. */
export interface OutgoingMessage {
  messageId: number;
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  state: OutState;
  /** 0 while queued. */
  packetId: number;
}

/** Message ids sort as fixed-width base-36 keys ("o/0000002s"), so list() returns them in publish order. */
export function messageKey(messageId: number): string {
  return MESSAGE_PREFIX + messageId.toString(36).padStart(8, "0");
}

export function encodeMessage(message: OutgoingMessage): Uint8Array {
  const topicLength = utf8Length(message.topic);
  const bytes = new Uint8Array(6 + topicLength + message.payload.length);
  bytes[0] = RECORD_VERSION;
  bytes[1] = message.qos | (message.retain ? 4 : 0) | (message.state << 3);
  bytes[2] = message.packetId >> 8;
  bytes[3] = message.packetId & 0xff;
  bytes[4] = topicLength >> 8;
  bytes[5] = topicLength & 0xff;
  writeUtf8(bytes, 6, message.topic);
  bytes.set(message.payload, 6 + topicLength);
  return bytes;
}

export function decodeMessage(key: string, bytes: Uint8Array): OutgoingMessage {
  const messageId = parseInt(key.slice(MESSAGE_PREFIX.length), 36);
  if (bytes.length < 6 || bytes[0] !== RECORD_VERSION || !Number.isFinite(messageId)) {
    throw new StorageError("stored message record is not in a known format; clear the device's session store", key);
  }
  const qos = (bytes[1] & 3) as QoS;
  const state = (bytes[1] >> 3) as OutState;
  const packetId = (bytes[2] << 8) | bytes[3];
  const topicLength = (bytes[4] << 8) | bytes[5];
  if (qos > 2 || state > OutState.AwaitPubcomp || 6 + topicLength > bytes.length || (state !== OutState.Queued) !== (packetId !== 0)) {
    throw new StorageError("stored message record is inconsistent; clear the device's session store", key);
  }
  return {
    messageId,
    topic: decodeUtf8(bytes, 6, 6 + topicLength, "STORE", "topic"),
    payload: bytes.slice(6 + topicLength),
    qos,
    retain: (bytes[1] & 4) !== 0,
    state,
    packetId,
  };
}

export interface SessionMeta {
  nextMessageId: number;
  nextPacketId: number;
}

export function encodeJson(value: unknown): Uint8Array {
  const text = JSON.stringify(value);
  const bytes = new Uint8Array(utf8Length(text));
  writeUtf8(bytes, 0, text);
  return bytes;
}

export function decodeJson(key: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decodeUtf8(bytes, 0, bytes.length, "STORE", key));
  } catch (error) {
    throw new StorageError(`stored record is not valid JSON (${(error as Error).message})`, key);
  }
}

export function decodeMeta(bytes: Uint8Array | undefined): SessionMeta {
  if (!bytes) return { nextMessageId: 1, nextPacketId: 1 };
  const value = decodeJson(META_KEY, bytes) as Partial<SessionMeta> | null;
  if (!value || !Number.isSafeInteger(value.nextMessageId) || !Number.isInteger(value.nextPacketId)) {
    throw new StorageError("session meta record is malformed", META_KEY);
  }
  return { nextMessageId: value.nextMessageId as number, nextPacketId: value.nextPacketId as number };
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

export function decodeIds(bytes: Uint8Array | undefined): number[] {
  if (!bytes) return [];
  if (bytes.length % 2 !== 0) throw new StorageError("incoming QoS 2 id record has an odd length", INCOMING_QOS2_KEY);
  const ids: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) ids.push((bytes[i] << 8) | bytes[i + 1]);
  return ids;
}
