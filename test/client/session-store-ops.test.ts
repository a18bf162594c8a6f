// What the session asks of its store, call by call, and where its limits sit to the byte. On flash every put and
// delete is a write that wears a sector, so a redundant one is a defect even when the store's contents end up the
// same: the mutation run of session.ts found most of its survivors there (a flight record rewritten for a repeated
// PUBREC, deletes of keys never written, s/meta not rewritten after the broker lost the session), and at the limits.
import { describe, expect, it } from "vitest";
import { ProtocolError, QueueFullError } from "../../src/errors";
import type { QoS } from "../../src/mqtt/constants";
import { PacketType } from "../../src/mqtt/constants";
import { OutState } from "../../src/mqtt/qos-flow";
import { MAX_INCOMING_QOS2, MESSAGE_STORE_OVERHEAD, Session, type SessionLimits } from "../../src/mqtt/session";
import { decodeMeta, encodeIds, encodeMessage, encodeMeta, messageKey, type OutgoingMessage } from "../../src/mqtt/session-records";
import { encodeUtf8 } from "../../src/mqtt/utf8";
import { mapLookups } from "../support/map-lookups";
import { MemoryStore } from "../../src/store/memory-store";
import type { SessionStore } from "../../src/store/session-store";
import { thrown } from "../support/thrown";

/** A MemoryStore that logs each call the session makes ("put o/00000001", "delete f/00000001", "commit"). */
class RecordingStore implements SessionStore {
  readonly calls: string[] = [];
  readonly values = new Map<string, Uint8Array>();
  constructor(readonly inner = new MemoryStore()) {}
  get(key: string) {
    return this.inner.get(key);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
  put(key: string, value: Uint8Array) {
    this.calls.push(`put ${key}`);
    this.values.set(key, value.slice());
    this.inner.put(key, value);
  }
  delete(key: string) {
    this.calls.push(`delete ${key}`);
    this.inner.delete(key);
  }
  commit() {
    this.calls.push("commit");
    this.inner.commit();
  }
  /** The calls since the last take. */
  take(): string[] {
    return this.calls.splice(0);
  }
}

const LIMITS: SessionLimits = { maxInflight: 100, queueMaxMessages: 1_000, queueMaxBytes: 1_000_000, dropPolicy: "oldest" };
const T = encodeUtf8("t");
const free = () => false;

function sessionOn(limits: Partial<SessionLimits> = {}, store = new RecordingStore()) {
  return { store, session: new Session(store, { ...LIMITS, ...limits }) };
}

/** Publishes on a live link: sent in the same turn when nothing waits ahead of it. */
function publishNow(session: Session, qos: QoS, payload = Uint8Array.of(1), stored = true) {
  return session.enqueue("t", T, payload, qos, false, true, stored, free);
}

function queue(session: Session, qos: QoS, payload = Uint8Array.of(1)) {
  return session.enqueue("t", T, payload, qos, false).message;
}

/** Sends whatever the window allows, in order, as the client does after CONNACK or an ack. */
function sendAll(session: Session): OutgoingMessage[] {
  const sent: OutgoingMessage[] = [];
  for (let m = session.nextToSend(); m; m = session.nextToSend()) {
    session.send(m, free);
    sent.push(m);
  }
  return sent;
}

describe("store calls per QoS flow", () => {
  it("QoS 1 sent at once: one record and s/meta, then one delete on PUBACK (no flight record to delete)", () => {
    const { store, session } = sessionOn();
    const { message } = publishNow(session, 1);
    session.commit();
    expect(store.take()).toEqual(["put o/00000001", "put s/meta", "commit"]);
    session.acknowledge(PacketType.PUBACK, message.packetId);
    session.commit();
    expect(store.take()).toEqual(["delete o/00000001", "commit"]);
  });

  it("QoS 2 queued then sent: its flight record is written per state, not again for a repeated PUBREC", () => {
    const { store, session } = sessionOn();
    const message = queue(session, 2);
    session.commit();
    sendAll(session);
    session.commit();
    expect(store.take()).toEqual(["put o/00000001", "put s/meta", "commit", "put f/00000001", "commit"]);
    expect(session.acknowledge(PacketType.PUBREC, message.packetId)).toEqual({ pubrel: message.packetId });
    expect(session.acknowledge(PacketType.PUBREC, message.packetId)).toEqual({ pubrel: message.packetId });
    expect(store.take()).toEqual(["put f/00000001"]);
    expect(session.acknowledge(PacketType.PUBCOMP, message.packetId)).toEqual({ completed: message });
    expect(store.take()).toEqual(["delete f/00000001", "delete o/00000001"]);
  });

  it("a message kept in RAM only (stored: false) never touches the store, sent at once or not", () => {
    const { store, session } = sessionOn();
    const { message, packet } = publishNow(session, 2, Uint8Array.of(1), false);
    expect(packet).toBeDefined();
    expect(message.sentInRecord).toBeUndefined();
    session.acknowledge(PacketType.PUBREC, message.packetId);
    session.acknowledge(PacketType.PUBCOMP, message.packetId);
    const later = session.enqueue("t", T, Uint8Array.of(2), 1, false, true, false).message;
    sendAll(session);
    session.acknowledge(PacketType.PUBACK, later.packetId);
    session.commit();
    expect(store.take()).toEqual(["commit"]);
  });

  it("without the broker's session: a sent record is rewritten as queued, a flight record deleted, s/meta rewritten", () => {
    const { store, session } = sessionOn();
    const sentAtOnce = publishNow(session, 1).message; // its record says "sent"
    const queued = queue(session, 2);
    session.enqueue("t", T, Uint8Array.of(3), 1, false, true, false); // RAM only
    sendAll(session); // queued (QoS 2) and the RAM-only one
    session.receiveQos2(7);
    session.setSubscribed("a", 1);
    session.commit();
    store.take();
    expect(session.resume(false)).toEqual([]);
    session.commit();
    expect(store.take()).toEqual([
      `put ${messageKey(sentAtOnce.messageId)}`, `delete f/0000000${queued.messageId}`, "delete s/in2", "delete s/subs", "put s/meta", "commit",
    ]);
    expect(store.values.get(messageKey(sentAtOnce.messageId))).toEqual(encodeMessage({ ...sentAtOnce, state: OutState.Queued, packetId: 0 }));
    expect(decodeMeta(store.values.get("s/meta")).nextPacketId).toBe(65); // the cursor went back to 1
    expect(session.list().map((m) => [m.state, m.packetId])).toEqual([[OutState.Queued, 0], [OutState.Queued, 0], [OutState.Queued, 0]]);
  });

  it("s/meta is rewritten when the broker lost the session even where the old one still covers the cursor", () => {
    // Written at the cursor's start (1): after resume(false) the cursor is back at 1, where the last s/meta was written.
    const { store, session } = sessionOn();
    queue(session, 1);
    session.commit();
    expect(store.take()).toEqual(["put o/00000001", "put s/meta", "commit"]);
    session.resume(false);
    session.commit();
    expect(store.take()).toEqual(["delete s/in2", "delete s/subs", "put s/meta", "commit"]);
  });

  it("incoming QoS 2 ids: one record, rewritten on each change, deleted with the last; unknown releases touch nothing", () => {
    const { store, session } = sessionOn();
    expect(session.receiveQos2(7)).toBe(true);
    expect(session.receiveQos2(9)).toBe(true);
    expect(session.receiveQos2(7)).toBe(false);
    expect(store.take()).toEqual(["put s/in2", "put s/in2"]);
    session.releaseQos2(5);
    expect(store.take()).toEqual([]);
    session.releaseQos2(7);
    expect(store.take()).toEqual(["put s/in2"]);
    expect(store.values.get("s/in2")).toEqual(encodeIds([9]));
    session.releaseQos2(9);
    expect(store.take()).toEqual(["delete s/in2"]);
    expect(session.receiveQos2(7)).toBe(true); // released: the broker may use the id again
  });

  it("refuses the QoS 2 message past the limit with the rule it breaks", () => {
    const { session } = sessionOn();
    for (let id = 1; id <= MAX_INCOMING_QOS2; id++) session.receiveQos2(id);
    expect(thrown(ProtocolError, () => session.receiveQos2(1000)).message).toBe(
      `PUBLISH: broker has ${MAX_INCOMING_QOS2} QoS 2 messages awaiting PUBREL; refusing packet id 1000 [MQTT-4.3.3]`,
    );
  });

  it("subscriptions are recorded with their QoS and forgotten when unsubscribed", () => {
    const { store, session } = sessionOn();
    session.setSubscribed("a/#", 1);
    expect(session.isSubscribed("a/#", 1)).toBe(true);
    expect(session.isSubscribed("a/#", 0)).toBe(false);
    session.setSubscribed("a/#", undefined);
    expect(session.isSubscribed("a/#", 1)).toBe(false);
    expect(store.take()).toEqual(["put s/subs", "put s/subs"]);
    expect(new TextDecoder().decode(store.values.get("s/subs"))).toBe("[]");
  });
});

describe("s/meta cadence", () => {
  /** The message counts (1-based) after whose commit s/meta was written. */
  function metaWrites(publish: (session: Session) => void, messages: number): number[] {
    const { store, session } = sessionOn({ queueMaxMessages: 1_000 });
    const at: number[] = [];
    for (let n = 1; n <= messages; n++) {
      publish(session);
      session.commit();
      if (store.take().includes("put s/meta")) at.push(n);
    }
    return at;
  }

  it("queued messages: once, then each time the message ids pass the 64 reserved", () => {
    expect(metaWrites((s) => queue(s, 0), 140)).toEqual([1, 66, 131]);
  });

  it("messages sent and acknowledged at once: each time the packet ids pass the 64 reserved", () => {
    const sendAndAck = (s: Session) => s.acknowledge(PacketType.PUBACK, publishNow(s, 1).message.packetId);
    expect(metaWrites(sendAndAck, 140)).toEqual([1, 65, 129]);
  });

  it("restores the message id counter past both s/meta and the newest stored message", () => {
    const stored = (meta: number) => new MemoryStore(new Map([["s/meta", encodeMeta({ nextMessageId: meta, nextPacketId: 1 })], [messageKey(5), encodeMessage({
      messageId: 5, topic: "t", topicBytes: T, payload: Uint8Array.of(1), qos: 1, retain: false, state: OutState.Queued, packetId: 0,
    })]]));
    expect(queue(new Session(stored(100), LIMITS), 1).messageId).toBe(100);
    expect(queue(new Session(stored(3), LIMITS), 1).messageId).toBe(6);
  });
});

describe("queue limits, to the byte", () => {
  const sized = (n: number) => new Uint8Array(n - T.length); // topic "t" plus payload: n bytes in all

  it("a message the size of queueMaxBytes fits; one byte more never can", () => {
    const { session } = sessionOn({ queueMaxBytes: 10 });
    session.enqueue("t", T, sized(10), 1, false);
    expect(thrown(QueueFullError, () => session.enqueue("t", T, sized(11), 1, false)).message).toBe(
      "a message of 11 bytes can never fit the queue limit of 10 bytes (queueMaxBytes)",
    );
  });

  it("a message filling the store budget with its overhead fits; one byte more never can", () => {
    const budget = 10 + MESSAGE_STORE_OVERHEAD;
    const { session } = sessionOn({ storeBudgetBytes: budget });
    session.enqueue("t", T, sized(10), 1, false);
    expect(thrown(QueueFullError, () => session.enqueue("t", T, sized(11), 1, false)).message).toBe(
      `a message of 11 bytes can never fit the store's queue budget of ${budget} bytes (a share of the store's capacity)`,
    );
  });

  it("the queue fills to exactly queueMaxBytes and to exactly the store budget before anything is dropped", () => {
    const bytes = sessionOn({ queueMaxBytes: 10 }).session;
    bytes.enqueue("t", T, sized(4), 1, false);
    expect(bytes.enqueue("t", T, sized(6), 1, false).dropped).toEqual([]);
    expect(bytes.enqueue("t", T, sized(1), 1, false).dropped.map((m) => m.messageId)).toEqual([1]);

    const budget = sessionOn({ storeBudgetBytes: 2 * MESSAGE_STORE_OVERHEAD + 10 }).session;
    budget.enqueue("t", T, sized(4), 1, false);
    expect(budget.enqueue("t", T, sized(6), 1, false).dropped).toEqual([]);
    expect(budget.storeFootprint).toBe(2 * MESSAGE_STORE_OVERHEAD + 10);
    expect(budget.enqueue("t", T, sized(1), 1, false).dropped.map((m) => m.messageId)).toEqual([1]);
  });

  it("says which limit refused a message: full under reject-new, or full of messages in flight", () => {
    const reject = sessionOn({ queueMaxMessages: 2, dropPolicy: "reject-new" }).session;
    queue(reject, 1, Uint8Array.of(1));
    queue(reject, 1, Uint8Array.of(1));
    expect(thrown(QueueFullError, () => reject.enqueue("t/x", encodeUtf8("t/x"), Uint8Array.of(1), 1, false)).message).toBe(
      `queue is full (2 messages, 4 bytes); message to "t/x" refused`,
    );
    const inFlight = sessionOn({ queueMaxMessages: 2, maxInflight: 2 }).session;
    publishNow(inFlight, 1);
    publishNow(inFlight, 1);
    expect(thrown(QueueFullError, () => queue(inFlight, 1)).message).toBe("queue is full of in-flight messages; raise queueMaxMessages above maxInflight");
  });

  it("dropping a queued message does not open the window for one more in flight", () => {
    const { session } = sessionOn({ maxInflight: 1, queueMaxMessages: 2 });
    queue(session, 1);
    queue(session, 1);
    expect(session.enqueue("t", T, Uint8Array.of(3), 1, false).dropped.map((m) => m.messageId)).toEqual([1]);
    expect(sendAll(session).map((m) => m.messageId)).toEqual([2]);
    expect(session.inflightCount).toBe(1);
  });
});

describe("evicting for room in the store", () => {
  it("drops at least one queued message, and stops as soon as the footprint fits", () => {
    const { session } = sessionOn();
    for (let i = 0; i < 4; i++) queue(session, 1);
    expect(session.evictForRoom(Infinity).map((m) => m.messageId)).toEqual([1]);
    const perMessage = 2 + MESSAGE_STORE_OVERHEAD;
    expect(session.evictForRoom(2 * perMessage).map((m) => m.messageId)).toEqual([2]);
    expect(session.evictForRoom(0).map((m) => m.messageId)).toEqual([3, 4]);
    expect(session.evictForRoom(0)).toEqual([]);
  });

  it("follows the drop policy: QoS 0 first under oldest-qos0-first; the oldest under reject-new", () => {
    const qos0First = sessionOn({ dropPolicy: "oldest-qos0-first" }).session;
    queue(qos0First, 1);
    const qos0 = queue(qos0First, 0);
    expect(qos0First.evictForRoom(Infinity)).toEqual([qos0]);
    const rejectNew = sessionOn({ dropPolicy: "reject-new" }).session;
    const oldest = queue(rejectNew, 1);
    queue(rejectNew, 0);
    expect(rejectNew.evictForRoom(Infinity)).toEqual([oldest]);
  });
});

describe("sending order", () => {
  it("a QoS 0 message is never sent in the publishing turn: it waits for the send loop, which hands it over without an id", () => {
    const { session } = sessionOn();
    const { message, packet } = publishNow(session, 0);
    expect(packet).toBeUndefined();
    expect(message.state).toBe(OutState.Queued);
    const sent = session.send(session.nextToSend()!, free);
    expect(sent).toEqual({ type: PacketType.PUBLISH, topic: "t", topicBytes: T, payload: Uint8Array.of(1), qos: 0, retain: false, dup: false });
    expect(session.depth).toBe(0);
  });

  it("a message is sent in the publishing turn only when none waits ahead of it, also after the one ahead was dropped", () => {
    const { session } = sessionOn({ queueMaxMessages: 2 });
    queue(session, 1);
    expect(publishNow(session, 1).packet).toBeUndefined(); // message 1 waits ahead of it
    const third = publishNow(session, 1); // drops message 1; message 2 still waits
    expect(third.dropped.map((m) => m.messageId)).toEqual([1]);
    expect(third.packet).toBeUndefined();
    const one = sessionOn({ queueMaxMessages: 1 }).session;
    queue(one, 1);
    const next = publishNow(one, 1); // drops the only one waiting: nothing is ahead now
    expect(next.dropped.map((m) => m.messageId)).toEqual([1]);
    expect(next.packet).toMatchObject({ packetId: 1, dup: false });
  });

  it("a full window holds back QoS 1 and 2, not QoS 0", () => {
    const { session } = sessionOn({ maxInflight: 1 });
    publishNow(session, 1);
    const qos0 = queue(session, 0);
    expect(session.nextToSend()).toBe(qos0);
  });

  it("every queued message is sent once, in order, however long the queue (the consumed part is trimmed as it goes)", () => {
    const { session } = sessionOn({ maxInflight: 1_000 });
    for (let i = 0; i < 150; i++) queue(session, (i % 3) as QoS);
    const sent = sendAll(session).map((m) => m.messageId);
    expect(sent).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    for (let i = 0; i < 10; i++) queue(session, 1);
    expect(sendAll(session).map((m) => m.messageId)).toEqual(Array.from({ length: 10 }, (_, i) => 151 + i));
  });

  it("the sent part of the queue is trimmed once it is over 32 entries and over half the array (RAM on the board)", () => {
    // White-box on purpose: every sent entry kept in the array holds its message (and payload) alive, which no
    // result shows; at 1,024 untrimmed entries that was more than an ESP32 board's XS heap (see advanceHead).
    const { session } = sessionOn();
    const internals = session as unknown as { queue: unknown[]; head: number };
    for (let i = 0; i < 100; i++) queue(session, 0);
    const shapes: Array<[number, number]> = [];
    for (let m = session.nextToSend(); m; m = session.nextToSend()) {
      session.send(m, free);
      if (internals.head === 0) shapes.push([internals.queue.length, 100 - session.depth]);
    }
    // Trimmed at head 51 of 100 (49 left), then at head 33 of 49 (16 left); the last 16 stay below the threshold.
    expect(shapes).toEqual([[49, 51], [16, 84]]);
    expect([internals.queue.length, internals.head]).toEqual([16, 16]);
  });

  it("message ids for unstored QoS 0 messages count up from the session's counter", () => {
    const { session } = sessionOn();
    const first = session.allocateMessageId();
    expect(session.allocateMessageId()).toBe(first + 1);
    expect(queue(session, 1).messageId).toBe(first + 2);
  });
});

describe("dropping under oldest-qos0-first stays cheap once no QoS 0 message is held", () => {
  it("after a QoS 0 message was sent, and after a QoS 1 message was dropped", () => {
    const { session } = sessionOn({ dropPolicy: "oldest-qos0-first", queueMaxMessages: 500 });
    queue(session, 0);
    sendAll(session); // the QoS 0 message is gone
    for (let i = 0; i < 500; i++) queue(session, 1);
    expect(mapLookups(() => queue(session, 1))).toBeLessThan(50); // a walk visits all 500
    expect(mapLookups(() => queue(session, 1))).toBeLessThan(50);
  });
});
