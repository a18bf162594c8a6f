// The session's store layout: message records written once, 4-byte flight records, binary meta; every inconsistency
// is a StorageError naming the key, never a guess.
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/errors";
import { OutState } from "../../src/mqtt/qos-flow";
import {
  decodeMeta, encodeFlight, encodeMessage, encodeMeta, flightKey, messageKey, readStoredMessages, type OutgoingMessage,
} from "../../src/mqtt/session-records";
import { MemoryStore } from "../../src/store/memory-store";
import { encodeUtf8 } from "../../src/mqtt/utf8";

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

  it("meta round-trips large message ids and refuses a malformed record", () => {
    const meta = { nextMessageId: 2 ** 40 + 12345, nextPacketId: 65535 };
    expect(decodeMeta(encodeMeta(meta))).toEqual(meta);
    expect(decodeMeta(undefined)).toEqual({ nextMessageId: 1, nextPacketId: 1 });
    expect(() => decodeMeta(new Uint8Array([1, 2, 3]))).toThrow(/s\/meta/);
  });
});
