// The session's store layout: message records written once, 4-byte flight records, binary meta; every inconsistency
// is a StorageError naming the key, never a guess.
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/errors";
import { OutState } from "../../src/mqtt/qos-flow";
import {
  decodeMeta, encodeFlight, encodeMessage, encodeMeta, flightKey, hasFlightRecord, messageKey, readStoredMessages, type OutgoingMessage,
} from "../../src/mqtt/session-records";
import { PacketType } from "../../src/mqtt/constants";
import { ID_RESERVE, Session } from "../../src/mqtt/session";
import { MemoryStore } from "../../src/store/memory-store";
import { encodeUtf8 } from "../../src/mqtt/utf8";
import { mapLookups } from "../support/map-lookups";

const message = (id: number, qos: 0 | 1 | 2, state: OutState = OutState.Queued, packetId = 0): OutgoingMessage => ({
  messageId: id, topic: "t/ü", topicBytes: encodeUtf8("t/ü"), payload: new Uint8Array([1, 2, 3]), qos, retain: id % 2 === 0, state, packetId,
});

function storeWith(entries: Array<[string, Uint8Array]>): MemoryStore {
  return new MemoryStore(new Map(entries));
}

describe("session records", () => {
  it("read back in publish order with their flight state", () => {
    const a = message(1, 1, OutState.AwaitPuback, 7);
    const b = message(2, 2, OutState.AwaitPubcomp, 9);
    const c = message(40, 0);
    const store = storeWith([
      [messageKey(40), encodeMessage(c)], [messageKey(2), encodeMessage(b)], [messageKey(1), encodeMessage(a)],
      [flightKey(1), encodeFlight(a)], [flightKey(2), encodeFlight(b)],
    ]);
    expect(readStoredMessages(store)).toEqual([a, b, c]);
  });

  it("a flight record holds 4 bytes whatever the payload", () => {
    expect(encodeFlight(message(1, 2, OutState.AwaitPubrec, 0x1234))).toEqual(new Uint8Array([1, OutState.AwaitPubrec, 0x12, 0x34]));
  });

  it("refuses a flight record without its message, or with a state its QoS cannot be in", () => {
    const orphan = storeWith([[flightKey(3), encodeFlight(message(3, 1, OutState.AwaitPuback, 1))]]);
    expect(() => readStoredMessages(orphan)).toThrow(StorageError);
    expect(() => readStoredMessages(orphan)).toThrow(/f\/00000003/);
    const wrong = storeWith([[messageKey(3), encodeMessage(message(3, 1))], [flightKey(3), encodeFlight(message(3, 1, OutState.AwaitPubcomp, 1))]]);
    expect(() => readStoredMessages(wrong)).toThrow(/inconsistent with its QoS 1/);
    const zeroId = storeWith([[messageKey(3), encodeMessage(message(3, 2))], [flightKey(3), new Uint8Array([1, OutState.AwaitPubrec, 0, 0])]]);
    expect(() => readStoredMessages(zeroId)).toThrow(StorageError);
  });

  it("a message sent in the turn it is published is one record, already in flight; a later state is a flight record over it", () => {
    const a = { ...message(1, 1, OutState.AwaitPuback, 7), sentInRecord: true };
    const b = { ...message(2, 2, OutState.AwaitPubrec, 8), sentInRecord: true };
    const record = encodeMessage(a, true);
    expect(Array.from(record.subarray(0, 7))).toEqual([2, 1, 0, 4, OutState.AwaitPuback, 0, 7]);
    expect(record.length).toBe(7 + 4 + 3);
    const moved = { ...b, state: OutState.AwaitPubcomp };
    const store = storeWith([[messageKey(1), record], [messageKey(2), encodeMessage(b, true)], [flightKey(2), encodeFlight(moved)]]);
    expect(readStoredMessages(store)).toEqual([a, moved]);
    expect(hasFlightRecord(a)).toBe(false);
    expect(hasFlightRecord(moved)).toBe(true);
  });

  it("refuses a sent record in a state its QoS cannot start in, a flight record repeating it, and a packet id it reuses", () => {
    const pubcomp = storeWith([[messageKey(1), encodeMessage(message(1, 2, OutState.AwaitPubcomp, 7), true)]]);
    expect(() => readStoredMessages(pubcomp)).toThrow(/flight state its QoS cannot start in/);
    const qos0 = storeWith([[messageKey(1), encodeMessage(message(1, 0, OutState.AwaitPuback, 7), true)]]);
    expect(() => readStoredMessages(qos0)).toThrow(StorageError);
    const zeroId = storeWith([[messageKey(1), encodeMessage(message(1, 1, OutState.AwaitPuback, 0), true)]]);
    expect(() => readStoredMessages(zeroId)).toThrow(/o\/00000001/);
    const sent = message(1, 1, OutState.AwaitPuback, 7);
    const repeated = storeWith([[messageKey(1), encodeMessage(sent, true)], [flightKey(1), encodeFlight(sent)]]);
    expect(() => readStoredMessages(repeated)).toThrow(/f\/00000001/);
    const twice = storeWith([[messageKey(1), encodeMessage(sent, true)], [messageKey(2), encodeMessage(message(2, 1, OutState.AwaitPuback, 7), true)]]);
    expect(() => readStoredMessages(twice)).toThrow(/message record reuses packet id 7/);
    expect(() => readStoredMessages(twice)).toThrow(/o\/00000002/);
  });

  it("the session writes a message sent at once as one record, deletes only it on PUBACK, and rewrites it as queued when the broker lost the session", () => {
    const limits = { maxInflight: 4, queueMaxMessages: 10, queueMaxBytes: 10_000, dropPolicy: "oldest" as const };
    const committed = new Map<string, Uint8Array>();
    const session = new Session(new MemoryStore(committed), limits);
    const { message: first, packet } = session.enqueue("t/a", encodeUtf8("t/a"), Uint8Array.of(1), 1, false, true, true, () => false);
    session.commit();
    expect(packet).toMatchObject({ type: PacketType.PUBLISH, packetId: first.packetId, dup: false });
    expect([...committed.keys()].sort()).toEqual([messageKey(first.messageId), "s/meta"]);
    expect(session.acknowledge(PacketType.PUBACK, first.packetId).completed).toBe(first);
    session.commit();
    expect([...committed.keys()]).toEqual(["s/meta"]);

    const { message: second } = session.enqueue("t/b", encodeUtf8("t/b"), Uint8Array.of(2), 2, false, true, true, () => false);
    session.commit();
    expect(new Session(new MemoryStore(committed), limits).list()).toMatchObject([{ messageId: second.messageId, state: OutState.AwaitPubrec, packetId: second.packetId }]);
    session.resume(false);
    session.commit();
    expect([...committed.keys()].sort()).toEqual([messageKey(second.messageId), "s/meta"]);
    expect(new Session(new MemoryStore(committed), limits).list()).toMatchObject([{ messageId: second.messageId, state: OutState.Queued, packetId: 0 }]);
  });

  it("s/meta reserves packet ids across the wrap from 65535 to 1: a reboot there reuses none of them", () => {
    const limits = { maxInflight: 4, queueMaxMessages: 10, queueMaxBytes: 10_000, dropPolicy: "oldest" as const };
    const committed = new Map<string, Uint8Array>([["s/meta", encodeMeta({ nextMessageId: 1, nextPacketId: 65530 })]]);
    const session = new Session(new MemoryStore(committed), limits);
    const used: number[] = [];
    for (let i = 0; i < 10; i++) {
      const { message } = session.enqueue("t", encodeUtf8("t"), Uint8Array.of(i), 1, false, true, true, () => false);
      session.commit();
      used.push(message.packetId);
      session.acknowledge(PacketType.PUBACK, message.packetId);
      session.commit();
    }
    expect(used).toEqual([65530, 65531, 65532, 65533, 65534, 65535, 1, 2, 3, 4]);
    const after = new Session(new MemoryStore(committed), limits);
    const { message } = after.enqueue("t", encodeUtf8("t"), Uint8Array.of(0), 1, false, true, true, () => false);
    expect(message.packetId).toBe(65531 + ID_RESERVE - 65535); // ID_RESERVE past the cursor at the first commit (65531), through the wrap
    expect(used).not.toContain(message.packetId);
  });

  it("meta round-trips large message ids and refuses a malformed record", () => {
    const meta = { nextMessageId: 2 ** 40 + 12345, nextPacketId: 65535 };
    expect(decodeMeta(encodeMeta(meta))).toEqual(meta);
    expect(decodeMeta(undefined)).toEqual({ nextMessageId: 1, nextPacketId: 1 });
    expect(() => decodeMeta(new Uint8Array([1, 2, 3]))).toThrow(/s\/meta/);
  });
});

describe("dropping from a full queue", () => {
  it("under oldest-qos0-first, with no QoS 0 message held, takes the oldest without walking the queue", () => {
    const limits = { maxInflight: 4, queueMaxMessages: 2_000, queueMaxBytes: 1_000_000, dropPolicy: "oldest-qos0-first" as const };
    const session = new Session(new MemoryStore(), limits);
    const topic = encodeUtf8("t");
    for (let i = 0; i < 2_000; i++) session.enqueue("t", topic, Uint8Array.of(1), 1, false);
    let dropped: OutgoingMessage[] = [];
    const lookups = mapLookups(() => ({ dropped } = session.enqueue("t", topic, Uint8Array.of(2), 1, false)));
    expect(dropped.map((m) => m.messageId)).toEqual([session.list()[0].messageId - 1]); // the oldest went
    expect(lookups).toBeLessThan(50); // the walk visited all 2,000 entries

    // With one QoS 0 message at the far end of the queue, it is still the one dropped (the walk finds it).
    session.enqueue("t", topic, Uint8Array.of(0), 0, false);
    const qos0 = session.list().at(-1)!;
    expect(session.enqueue("t", topic, Uint8Array.of(3), 1, false).dropped).toEqual([qos0]);
  });
});
