// The session state a persistent MQTT session needs, kept in the SessionStore: outgoing messages and their QoS state,
// packet ids, incoming QoS 2 ids and confirmed subscriptions. No I/O and no timers: the client shell drives it.
import { ProtocolError, QueueFullError } from "../errors";
import type { SessionStore } from "../store/session-store";
import { PacketType, type QoS } from "./constants";
import type { DropPolicy } from "./client-api";
import { MAX_PACKET_ID, PacketIdAllocator } from "./packet-ids";
import type { Packet, PublishPacket } from "./packets";
import { OutState, applyAck, stateAfterSend, type OutgoingAckType } from "./qos-flow";
import {
  INCOMING_QOS2_KEY, META_KEY, SUBSCRIPTIONS_KEY, decodeIds, decodeMeta, decodeSubscriptions, encodeFlight, encodeIds, encodeJson, encodeMeta,
  encodeMessage, flightKey, hasFlightRecord, messageKey, readStoredMessages, type OutgoingMessage,
} from "./session-records";

/**
 * Message and packet ids s/meta reserves ahead of use (see Session.commit). Small next to both id spaces (a reboot
 * skips at most this many of 65535 packet ids), large enough that the counters cost one write per 64 messages.
 */
export const ID_RESERVE = 64;

/** Incoming QoS 2 messages a broker may leave awaiting PUBREL (brokers keep far fewer in flight: mosquitto 20). */
export const MAX_INCOMING_QOS2 = 256;

/**
 * What one queued message costs a store beyond its topic and payload: two items (the message and, in flight, its
 * flight record), each a CRC header and, on ESP32 NVS, an index and a chunk header entry and rounding to 32 bytes
 * (store/preference-backend). Charged against the store budget so many small messages cannot fill the store either.
 */
export const MESSAGE_STORE_OVERHEAD = 128;

export interface SessionLimits {
  maxInflight: number;
  queueMaxMessages: number;
  queueMaxBytes: number;
  dropPolicy: DropPolicy;
  /**
   * Store bytes the queue may fill, counting MESSAGE_STORE_OVERHEAD per message: a share of the store's real capacity
   * (SessionStore.capacityBytes), Infinity where nothing bounds it.
   */
  storeBudgetBytes?: number;
}

export interface AckOutcome {
  /** The message whose flow completed (delivered), if any. */
  completed?: OutgoingMessage;
  /** Send PUBREL with this id. */
  pubrel?: number;
  /** The ack named no message we hold: ignored (4.3). */
  unknown?: boolean;
}

export class Session {
  private readonly messages = new Map<number, OutgoingMessage>();
  /**
   * Queued (not yet sent) messages in publish order, from `head`. Sending is strictly in order, so every message in
   * flight is older than every queued one; that lets resume(false) put them back in front.
   */
  private queue: OutgoingMessage[] = [];
  private head = 0;
  private readonly byPacketId = new Map<number, OutgoingMessage>();
  private readonly incomingQos2 = new Set<number>();
  private readonly subscriptions = new Map<string, QoS>();
  private readonly packetIds: PacketIdAllocator;
  private nextMessageId: number;
  private inflight = 0;
  private storedBytes = 0;
  /** QoS 0 messages held (never in flight: sent means gone). At 0, "oldest-qos0-first" needs no walk of the queue. */
  private qos0Messages = 0;
  /** Message or packet id counters moved since the last commit. */
  private metaDirty = false;
  /** False until s/meta is written in this run (or after resume(false) resets the packet ids): the next commit writes it. */
  private metaCovers = false;
  /** s/meta says ids below this are taken: nextMessageId may reach it before s/meta is written again. */
  private messageIdMark = 0;
  /** Packet id cursor when s/meta was written; s/meta holds it ID_RESERVE further on. */
  private packetIdBase = 0;

  /** Restores whatever an earlier run committed; a corrupt store throws StorageError from here. */
  constructor(private readonly store: SessionStore, private readonly limits: SessionLimits) {
    const meta = decodeMeta(store.get(META_KEY));
    this.nextMessageId = Math.max(1, meta.nextMessageId);
    this.packetIds = new PacketIdAllocator(meta.nextPacketId);
    for (const message of readStoredMessages(store)) {
      this.track(message);
      if (message.messageId >= this.nextMessageId) this.nextMessageId = message.messageId + 1;
    }
    for (const id of decodeIds(store.get(INCOMING_QOS2_KEY), MAX_INCOMING_QOS2)) this.incomingQos2.add(id);
    const subs = store.get(SUBSCRIPTIONS_KEY);
    if (subs) for (const [filter, qos] of decodeSubscriptions(subs)) this.subscriptions.set(filter, qos);
  }

  get depth(): number {
    return this.messages.size;
  }

  get bytes(): number {
    return this.storedBytes;
  }

  /** What the queue costs the store: topics and payloads plus MESSAGE_STORE_OVERHEAD per message. */
  get storeFootprint(): number {
    return this.storedBytes + this.messages.size * MESSAGE_STORE_OVERHEAD;
  }

  get inflightCount(): number {
    return this.inflight;
  }

  has(messageId: number): boolean {
    return this.messages.has(messageId);
  }

  /**
   * Drops queued (not in-flight) messages by the drop policy until the store footprint is at most `footprint`, at
   * least one if any is queued; "reject-new" drops the oldest (the store is full: a new message is not the issue).
   * The deletes are staged; the caller commits.
   */
  evictForRoom(footprint: number): OutgoingMessage[] {
    const dropped: OutgoingMessage[] = [];
    while (dropped.length === 0 || this.storeFootprint > footprint) {
      const victim = this.pickVictim(this.limits.dropPolicy === "reject-new" ? "oldest" : this.limits.dropPolicy);
      if (!victim) break;
      this.remove(victim);
      dropped.push(victim);
    }
    return dropped;
  }

  /** Messages in publish order (read-only view for stats and tests). */
  list(): OutgoingMessage[] {
    return Array.from(this.messages.values());
  }

  /**
   * Adds a message at the end of the queue. When the queue is full, the drop policy picks victims among
   * messages not yet in flight (those are bounded by the window and may already be at the broker).
   */
  enqueue(
    topic: string, topicBytes: Uint8Array, payload: Uint8Array, qos: QoS, retain: boolean, evict = true, stored = true, sendNow?: (id: number) => boolean,
  ): { message: OutgoingMessage; dropped: OutgoingMessage[]; packet?: PublishPacket } {
    const size = topicBytes.length + payload.length;
    const budget = this.limits.storeBudgetBytes ?? Infinity;
    if (size > this.limits.queueMaxBytes) {
      throw new QueueFullError(`a message of ${size} bytes can never fit the queue limit of ${this.limits.queueMaxBytes} bytes (queueMaxBytes)`);
    }
    if (size + MESSAGE_STORE_OVERHEAD > budget) {
      throw new QueueFullError(`a message of ${size} bytes can never fit the store's queue budget of ${budget} bytes (a share of the store's capacity)`);
    }
    const dropped: OutgoingMessage[] = [];
    while (
      this.messages.size + 1 > this.limits.queueMaxMessages ||
      this.storedBytes + size > this.limits.queueMaxBytes ||
      this.storeFootprint + size + MESSAGE_STORE_OVERHEAD > budget
    ) {
      if (this.limits.dropPolicy === "reject-new" || !evict) {
        throw new QueueFullError(`queue is full (${this.messages.size} messages, ${this.storedBytes} bytes); message to "${topic}" refused`);
      }
      const victim = this.pickVictim();
      if (!victim) throw new QueueFullError(`queue is full of in-flight messages; raise queueMaxMessages above maxInflight`);
      this.remove(victim);
      dropped.push(victim);
    }
    const message: OutgoingMessage = { messageId: this.nextMessageId++, topic, topicBytes, payload, qos, retain, state: OutState.Queued, packetId: 0 };
    if (!stored) message.stored = false;
    // Sent at once when the caller's link takes it and nothing waits ahead of it: one record, already in flight,
    // instead of a record now and a flight record a moment later (see session-records).
    const sending = sendNow !== undefined && qos > 0 && !this.hasQueued() && this.inflight < this.limits.maxInflight;
    if (sending) {
      message.packetId = this.allocatePacketId(sendNow);
      message.state = stateAfterSend(qos as 1 | 2);
      if (stored) message.sentInRecord = true;
    }
    // The record first: a store that refuses leaves RAM unchanged.
    if (stored) this.write(messageKey(message.messageId), encodeMessage(message, sending));
    this.track(message);
    if (stored) this.persistMeta();
    return sending ? { message, dropped, packet: publishOf(message, false) } : { message, dropped };
  }

  /** True while any message waits to be sent for the first time (in flight ones do not count). */
  hasQueued(): boolean {
    while (this.head < this.queue.length && !this.messages.has(this.queue[this.head].messageId)) this.head++;
    return this.head < this.queue.length;
  }

  /**
   * An id for a QoS 0 message written at once, without a stored record. It is not persisted by itself: ids only need
   * to be unique among the messages of one run and increasing among stored ones, and the next stored message's commit
   * persists the counter.
   */
  allocateMessageId(): number {
    return this.nextMessageId++;
  }

  /** The next message that may go out now, in order: the oldest queued one, if the window allows it. */
  nextToSend(): OutgoingMessage | undefined {
    while (this.head < this.queue.length && !this.messages.has(this.queue[this.head].messageId)) this.head++;
    const message = this.queue[this.head];
    if (!message || (message.qos > 0 && this.inflight >= this.limits.maxInflight)) return undefined;
    return message;
  }

  /** Records the first transmission of `message` in this session and returns the PUBLISH to write. */
  send(message: OutgoingMessage, reservedIds: (id: number) => boolean): PublishPacket {
    const packet = publishOf(message, false);
    if (this.queue[this.head] === message) this.advanceHead();
    if (message.qos === 0) {
      this.remove(message); // at most once: gone from the session once handed to the link
      return packet;
    }
    message.packetId = this.allocatePacketId(reservedIds);
    message.state = stateAfterSend(message.qos);
    this.byPacketId.set(message.packetId, message);
    this.inflight++;
    if (message.stored !== false) {
      this.persistFlight(message);
      this.persistMeta();
    }
    packet.packetId = message.packetId;
    return packet;
  }

  /** A packet id free of in-flight messages and of the caller's pending SUBSCRIBE/UNSUBSCRIBE ids. */
  allocatePacketId(reservedIds: (id: number) => boolean): number {
    return this.packetIds.allocate(this.byPacketId, reservedIds);
  }

  /** Applies PUBACK/PUBREC/PUBCOMP; throws ProtocolError for an ack that is illegal in the message's state. */
  acknowledge(ack: OutgoingAckType, packetId: number): AckOutcome {
    const message = this.byPacketId.get(packetId);
    if (!message) return { unknown: true };
    const transition = applyAck(message.state, ack, packetId);
    if (transition.to === undefined) {
      this.remove(message);
      return { completed: message };
    }
    if (transition.to !== message.state) {
      message.state = transition.to;
      if (message.stored !== false) this.persistFlight(message);
    }
    return transition.sendPubrel ? { pubrel: packetId } : {};
  }

  /**
   * Called on every CONNACK. With the broker's session present, returns the packets to resend, in publish order:
   * PUBLISH with DUP=1 for messages not yet acknowledged, PUBREL for those past PUBREC. Without it, the broker lost
   * (or never had) our session: in-flight messages go back to the queue to be published anew, never dropped.
   */
  resume(sessionPresent: boolean): Packet[] {
    if (!sessionPresent) {
      const requeued: OutgoingMessage[] = [];
      for (const message of this.messages.values()) {
        if (message.state === OutState.Queued) continue;
        const hadFlightRecord = hasFlightRecord(message);
        message.state = OutState.Queued;
        message.packetId = 0;
        if (message.stored !== false) {
          if (hadFlightRecord) this.store.delete(flightKey(message.messageId));
          if (message.sentInRecord) {
            // Its record says it was sent: written again as queued (rare: a broker that lost our session).
            delete message.sentInRecord;
            this.write(messageKey(message.messageId), encodeMessage(message));
          }
        }
        requeued.push(message);
      }
      this.queue = requeued.concat(this.queue.slice(this.head));
      this.head = 0;
      this.byPacketId.clear();
      this.inflight = 0;
      this.incomingQos2.clear();
      this.store.delete(INCOMING_QOS2_KEY);
      this.subscriptions.clear();
      this.store.delete(SUBSCRIPTIONS_KEY);
      this.packetIds.reset();
      this.metaCovers = false; // the cursor went back to 1: s/meta must say so
      this.persistMeta();
      return [];
    }
    const resend: Packet[] = [];
    for (const message of this.messages.values()) {
      if (message.state === OutState.AwaitPubcomp) {
        resend.push({ type: PacketType.PUBREL, packetId: message.packetId });
      } else if (message.state !== OutState.Queued) {
        resend.push(publishOf(message, true));
      }
    }
    return resend;
  }

  /** Incoming QoS 2 PUBLISH: true the first time this id is seen (deliver it), false for a duplicate before PUBREL. */
  receiveQos2(packetId: number): boolean {
    if (this.incomingQos2.has(packetId)) return false;
    if (this.incomingQos2.size >= MAX_INCOMING_QOS2) {
      // The ids are stored as one record: a broker that never sends PUBREL must not grow it past what flash holds.
      throw new ProtocolError("PUBLISH", `broker has ${MAX_INCOMING_QOS2} QoS 2 messages awaiting PUBREL; refusing packet id ${packetId}`, "[MQTT-4.3.3]");
    }
    this.incomingQos2.add(packetId);
    this.write(INCOMING_QOS2_KEY, encodeIds(this.incomingQos2));
    return true;
  }

  /** Incoming PUBREL: the id may be reused by the broker from now on. Unknown ids are fine (answered with PUBCOMP). */
  releaseQos2(packetId: number): void {
    if (!this.incomingQos2.delete(packetId)) return;
    if (this.incomingQos2.size === 0) this.store.delete(INCOMING_QOS2_KEY);
    else this.write(INCOMING_QOS2_KEY, encodeIds(this.incomingQos2));
  }

  /** Granted subscriptions survive with the broker's session, so a reboot need not resubscribe them. */
  isSubscribed(filter: string, qos: QoS): boolean {
    return this.subscriptions.get(filter) === qos;
  }

  setSubscribed(filter: string, qos: QoS | undefined): void {
    if (qos === undefined) this.subscriptions.delete(filter);
    else this.subscriptions.set(filter, qos);
    this.write(SUBSCRIPTIONS_KEY, encodeJson(Array.from(this.subscriptions.entries())));
  }

  /**
   * Makes every change since the last commit durable, atomically. s/meta is written ahead of use: it says where ids
   * start after a reboot, ID_RESERVE past the counters when it is written, and is written again only once the counters
   * pass that (a write every ID_RESERVE messages instead of one per message; ids after a reboot skip what was left).
   */
  commit(): void {
    if (this.metaDirty) {
      const cursor = this.packetIds.cursor;
      if (!this.metaCovers || this.nextMessageId > this.messageIdMark || packetIdDistance(this.packetIdBase, cursor) >= ID_RESERVE) {
        this.messageIdMark = this.nextMessageId + ID_RESERVE;
        this.packetIdBase = cursor;
        this.write(META_KEY, encodeMeta({ nextMessageId: this.messageIdMark, nextPacketId: packetIdAfter(cursor, ID_RESERVE) }));
        this.metaCovers = true;
      }
      this.metaDirty = false;
    }
    this.store.commit();
  }

  private pickVictim(policy: DropPolicy = this.limits.dropPolicy): OutgoingMessage | undefined {
    // Without a QoS 0 message the walk would end at the oldest anyway, after visiting the whole queue: on a full
    // queue of QoS 1 messages that was every publish (quadratic in the client bench's 40,000-message runs).
    if (policy === "oldest-qos0-first" && this.qos0Messages === 0) policy = "oldest";
    let oldest: OutgoingMessage | undefined;
    for (let i = this.head; i < this.queue.length; i++) {
      const message = this.queue[i];
      if (!this.messages.has(message.messageId)) continue;
      if (policy === "oldest-qos0-first" && message.qos === 0) return message;
      if (!oldest) oldest = message;
      if (policy === "oldest") break;
    }
    return oldest;
  }

  /** Moves past the head; trims the consumed part now and then so the array does not grow forever. */
  private advanceHead(): void {
    this.head++;
    // Compact early: every entry before `head` keeps a sent message (and its payload) alive. At 1024 the array held
    // ~1000 sent messages, ~16 slots each: more than an ESP32 board's whole XS heap (4,928 slots on nodemcu; mcsim
    // showed live slots climbing ~4 a second at a 1 s interval with health every 7 s).
    if (this.head > 32 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private track(message: OutgoingMessage): void {
    this.messages.set(message.messageId, message);
    if (message.qos === 0) this.qos0Messages++;
    if (message.state === OutState.Queued) this.queue.push(message);
    this.storedBytes += messageSize(message);
    if (message.state !== OutState.Queued) {
      this.byPacketId.set(message.packetId, message);
      this.inflight++;
    }
  }

  private remove(message: OutgoingMessage): void {
    if (!this.messages.delete(message.messageId)) return;
    if (message.qos === 0) this.qos0Messages--;
    this.storedBytes -= messageSize(message);
    if (message.state !== OutState.Queued) {
      this.byPacketId.delete(message.packetId);
      this.inflight--;
      if (message.stored !== false && hasFlightRecord(message)) this.store.delete(flightKey(message.messageId));
    }
    if (message.stored !== false) this.store.delete(messageKey(message.messageId));
  }

  /** Stores a record encoded for this call: handed over without a copy where the store allows it (SessionStore.putOwned). */
  private write(key: string, record: Uint8Array): void {
    if (this.store.putOwned) this.store.putOwned(key, record);
    else this.store.put(key, record);
  }

  private persistFlight(message: OutgoingMessage): void {
    this.write(flightKey(message.messageId), encodeFlight(message));
  }

  /** The counters go to the store with the next commit, once however many messages moved them. */
  private persistMeta(): void {
    this.metaDirty = true;
  }
}

/** How far the packet id cursor moved from `from` to `to` (cursors run 1..65535 and wrap to 1). */
function packetIdDistance(from: number, to: number): number {
  return (to - from + MAX_PACKET_ID) % MAX_PACKET_ID;
}

function packetIdAfter(cursor: number, steps: number): number {
  return ((cursor - 1 + steps) % MAX_PACKET_ID) + 1;
}

/** The PUBLISH that carries `message` (packet id only once it has one). */
function publishOf(message: OutgoingMessage, dup: boolean): PublishPacket {
  const packet: PublishPacket = { type: PacketType.PUBLISH, topic: message.topic, topicBytes: message.topicBytes, payload: message.payload, qos: message.qos, retain: message.retain, dup };
  if (message.state !== OutState.Queued) packet.packetId = message.packetId;
  return packet;
}

function messageSize(message: OutgoingMessage): number {
  return message.topicBytes.length + message.payload.length;
}
