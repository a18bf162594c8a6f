// Every record the session reads back from flash, refused at each edge of its format with the whole message a user
// sees (the mutation run of session-records.ts found the refusals matched by key or class only, and no record sitting
// exactly on a length limit). A record one byte inside each limit is read back, so each check is pinned from both sides.
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/errors";
import { OutState } from "../../src/mqtt/qos-flow";
import {
  decodeIds, decodeJson, decodeMessage, decodeMeta, decodeSubscriptions, encodeFlight, encodeIds, encodeMessage, flightKey, hasFlightRecord,
  messageKey, readStoredMessages, type OutgoingMessage,
} from "../../src/mqtt/session-records";
import { MemoryStore } from "../../src/store/memory-store";
import { encodeUtf8 } from "../../src/mqtt/utf8";
import { thrown } from "../support/thrown";

const CLEAR = "; clear the device's session store";

const message = (id: number, qos: 0 | 1 | 2, state: OutState = OutState.Queued, packetId = 0): OutgoingMessage => ({
  messageId: id, topic: "t", topicBytes: encodeUtf8("t"), payload: new Uint8Array([9]), qos, retain: false, state, packetId,
});

const storeWith = (entries: Array<[string, Uint8Array]>) => new MemoryStore(new Map(entries));
const readError = (entries: Array<[string, Uint8Array]>) => thrown(StorageError, () => readStoredMessages(storeWith(entries))).message;

describe("message keys", () => {
  it("name an id only as the session writes them", () => {
    // "1x" parses as 69 but is not how 69 is written; 0 is no id; 2^60 parses exactly but is past safe integers.
    for (const suffix of ["1x", "00000000", (2 ** 60).toString(36), "-0000001"]) {
      const key = "o/" + suffix;
      expect(thrown(StorageError, () => decodeMessage(key, encodeMessage(message(1, 0)))).message).toBe(
        `stored key does not name a message id${CLEAR} (key "${key}")`,
      );
    }
    expect(decodeMessage("o/0000001x", encodeMessage(message(1, 0))).messageId).toBe(69);
    expect(decodeMessage(messageKey(2 ** 40), encodeMessage(message(1, 0))).messageId).toBe(2 ** 40);
  });

  it("a queued message has no flight record, whatever its record says", () => {
    expect(hasFlightRecord({ ...message(1, 1), sentInRecord: true })).toBe(false);
    expect(hasFlightRecord(message(1, 1))).toBe(false);
  });
});

describe("message records", () => {
  const key = messageKey(1);
  const decodeError = (bytes: number[]) => thrown(StorageError, () => decodeMessage(key, Uint8Array.from(bytes))).message;

  it("refuse an unknown version or a record shorter than its head", () => {
    const unknown = `stored message record is not in a known format${CLEAR} (key "o/00000001")`;
    expect(decodeError([3, 0, 0, 1, 0x74])).toBe(unknown);
    expect(decodeError([0, 0, 0, 1, 0x74])).toBe(unknown);
    expect(decodeError([1, 0, 0])).toBe(unknown);
    expect(decodeError([2, 1, 0, 1, OutState.AwaitPuback, 0])).toBe(unknown); // a sent record's head is 7 bytes
    // Exactly the head: read as far as the topic, which is then empty.
    expect(decodeError([1, 0, 0, 0])).toBe(
      `stored message has a topic that cannot be published (PUBLISH: topic name must be at least one character long [MQTT-4.7.3-1])${CLEAR} (key "o/00000001")`,
    );
  });

  it("refuse QoS 3, unknown flag bits and a topic longer than the record", () => {
    const inconsistent = `stored message record is inconsistent${CLEAR} (key "o/00000001")`;
    expect(decodeError([1, 3, 0, 1, 0x74])).toBe(inconsistent);
    expect(decodeError([1, 8 | 1, 0, 1, 0x74])).toBe(inconsistent);
    expect(decodeError([1, 0, 0, 2, 0x74])).toBe(inconsistent);
    expect(decodeError([1, 0, 0xff, 0xff, 0x74])).toBe(inconsistent);
    // A topic that ends the record is a message with an empty payload; retain and QoS come from the flags.
    expect(decodeMessage(key, Uint8Array.from([1, 4 | 2, 0, 1, 0x74]))).toMatchObject({ topic: "t", qos: 2, retain: true, payload: new Uint8Array(0) });
  });

  it("refuse a topic that is not UTF-8 or not a topic name, with the reason", () => {
    expect(decodeError([1, 0, 0, 1, 0xff])).toBe(
      `stored message has a topic that cannot be published (STORE: topic is not valid UTF-8 (byte 0xff at 0) [MQTT-1.5.3-1])${CLEAR} (key "o/00000001")`,
    );
    expect(decodeError([1, 0, 0, 1, 0x23])).toBe(
      `stored message has a topic that cannot be published (PUBLISH: topic name "#" must not contain wildcards [MQTT-3.3.2-2])${CLEAR} (key "o/00000001")`,
    );
  });

  it("write a queued record as four bytes of head, whatever the message's state", () => {
    const inFlight = { ...message(1, 1, OutState.AwaitPuback, 0x0102), topic: "ab", topicBytes: encodeUtf8("ab") };
    expect(Array.from(encodeMessage(inFlight))).toEqual([1, 1, 0, 2, 0x61, 0x62, 9]);
  });
});

describe("flight records", () => {
  const queued = (qos: 1 | 2) => [messageKey(1), encodeMessage(message(1, qos))] as [string, Uint8Array];
  const inconsistent = (qos: number) => `stored flight record is inconsistent with its QoS ${qos} message${CLEAR} (key "f/00000001")`;

  it("refuse a length, version, state or id the session never writes", () => {
    expect(readError([queued(2), [flightKey(1), Uint8Array.from([1, OutState.AwaitPubrec, 0, 5, 0])]])).toBe(inconsistent(2));
    expect(readError([queued(2), [flightKey(1), Uint8Array.from([2, OutState.AwaitPubrec, 0, 5])]])).toBe(inconsistent(2));
    expect(readError([queued(2), [flightKey(1), Uint8Array.from([1, OutState.AwaitPuback, 0, 5])]])).toBe(inconsistent(2));
    expect(readError([queued(1), [flightKey(1), Uint8Array.from([1, OutState.AwaitPubrec, 0, 5])]])).toBe(inconsistent(1));
    expect(readError([queued(1), [flightKey(1), Uint8Array.from([1, OutState.AwaitPuback, 0, 0])]])).toBe(inconsistent(1));
    // Both QoS 2 states are read back.
    for (const state of [OutState.AwaitPubrec, OutState.AwaitPubcomp]) {
      expect(readStoredMessages(storeWith([queued(2), [flightKey(1), Uint8Array.from([1, state, 0, 5])]]))).toMatchObject([{ state, packetId: 5 }]);
    }
  });

  it("refuse one without its message, one repeating its sent record, and two in flight on one packet id", () => {
    expect(readError([[flightKey(1), encodeFlight(message(1, 1, OutState.AwaitPuback, 5))]])).toBe(
      `stored flight record has no message${CLEAR} (key "f/00000001")`,
    );
    const sent = message(1, 1, OutState.AwaitPuback, 5);
    expect(readError([[messageKey(1), encodeMessage(sent, true)], [flightKey(1), encodeFlight(sent)]])).toBe(
      `stored flight record repeats the state its message record holds${CLEAR} (key "f/00000001")`,
    );
    const a = message(1, 1, OutState.AwaitPuback, 5);
    const b = message(2, 1, OutState.AwaitPuback, 5);
    expect(readError([
      [messageKey(1), encodeMessage(a)], [flightKey(1), encodeFlight(a)], [messageKey(2), encodeMessage(b)], [flightKey(2), encodeFlight(b)],
    ])).toBe(`stored flight record reuses packet id 5${CLEAR} (key "f/00000002")`);
  });
});

describe("small records", () => {
  it("JSON records name the key and the parser's reason", () => {
    const notJson = thrown(StorageError, () => decodeJson("s/subs", encodeUtf8("[1,"))).message;
    expect(notJson).toMatch(/^stored record is not valid JSON \(.+\) \(key "s\/subs"\)$/);
    expect(thrown(StorageError, () => decodeJson("s/subs", Uint8Array.of(0x5b, 0xff, 0x5d))).message).toBe(
      `stored record is not valid JSON (STORE: s/subs is not valid UTF-8 (byte 0xff at 1) [MQTT-1.5.3-1]) (key "s/subs")`,
    );
  });

  it("meta is exactly nine bytes of version 1", () => {
    const malformed = `session meta record is malformed (key "s/meta")`;
    expect(thrown(StorageError, () => decodeMeta(new Uint8Array(8).fill(1))).message).toBe(malformed);
    expect(thrown(StorageError, () => decodeMeta(Uint8Array.of(2, 0, 0, 0, 0, 0, 1, 0, 1))).message).toBe(malformed);
    expect(decodeMeta(Uint8Array.of(1, 0, 0, 0, 0, 1, 2, 0xff, 0xfe))).toEqual({ nextMessageId: 258, nextPacketId: 65534 });
  });

  it("incoming QoS 2 ids are big-endian pairs, none 0, at most the session's limit", () => {
    expect(Array.from(encodeIds([1, 0x1234, 0xabcd]))).toEqual([0, 1, 0x12, 0x34, 0xab, 0xcd]);
    expect(decodeIds(Uint8Array.of(0, 1, 0x12, 0x34), 2)).toEqual([1, 0x1234]);
    expect(thrown(StorageError, () => decodeIds(Uint8Array.of(0, 1, 0x12, 0x34, 0, 7), 2)).message).toBe(
      `incoming QoS 2 id record holds 3 ids, more than the 2 the session keeps (key "s/in2")`,
    );
    expect(thrown(StorageError, () => decodeIds(Uint8Array.of(0, 1, 0), 2)).message).toBe(`incoming QoS 2 id record has an odd length (key "s/in2")`);
    expect(thrown(StorageError, () => decodeIds(Uint8Array.of(0, 1, 0, 0), 2)).message).toBe(`incoming QoS 2 id record holds packet id 0 (key "s/in2")`);
  });

  it("subscriptions are [filter, QoS] pairs with a filter of 1 to 65535 characters", () => {
    const ok = (value: unknown) => decodeSubscriptions(encodeUtf8(JSON.stringify(value)));
    const longest = "a".repeat(65535);
    expect(ok([["a/#", 0], ["b", 1], [longest, 2]])).toEqual([["a/#", 0], ["b", 1], [longest, 2]]);
    expect(ok([])).toEqual([]);
    const refusal = `stored subscriptions are not [filter, QoS] pairs (key "s/subs")`;
    const bad: unknown[] = [
      { a: 1 }, ["a", 0], [["a"]], [["a", 0, 1]], [[1, 0]], [[["a"], 0]], [["", 0]], [[longest + "a", 0]], [["a", 3]], [["a", "1"]], [["a", -1]],
      [["a", 0], ["b", 3]],
    ];
    for (const value of bad) expect(thrown(StorageError, () => ok(value)).message, JSON.stringify(value).slice(0, 40)).toBe(refusal);
  });
});
