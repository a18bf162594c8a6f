import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../src/errors";
import { encode } from "../src/mqtt/codec";
import { PacketType } from "../src/mqtt/constants";
import { TopicCache } from "../src/mqtt/topic-cache";
import { encodeUtf8 } from "../src/mqtt/utf8";

describe("TopicCache", () => {
  it("returns the topic's UTF-8 and the same array for a topic seen before", () => {
    const cache = new TopicCache();
    const first = cache.bytes("xsms/dev-ü/telemetry");
    expect(Array.from(first)).toEqual(Array.from(encodeUtf8("xsms/dev-ü/telemetry")));
    expect(cache.bytes("xsms/dev-ü/telemetry")).toBe(first);
  });

  it("refuses what validateTopicName refuses, every time (a refused topic is not cached)", () => {
    const cache = new TopicCache();
    for (let i = 0; i < 2; i++) {
      expect(() => cache.bytes("a/+/b")).toThrow(ProtocolError);
      expect(() => cache.bytes("")).toThrow(/MQTT-4.7.3-1/);
      expect(() => cache.bytes("a\u0000b")).toThrow(/MQTT-4.7.3-2/);
      expect(() => cache.bytes("a\ud800")).toThrow(/MQTT-1.5.3-1/);
    }
  });

  it("keeps at most its capacity, dropping the oldest topic first", () => {
    const cache = new TopicCache(2);
    const a = cache.bytes("a");
    const b = cache.bytes("b");
    expect(cache.bytes("a")).toBe(a); // full, nothing dropped yet
    const c = cache.bytes("c"); // evicts "a", the oldest in
    expect(cache.bytes("b")).toBe(b);
    expect(cache.bytes("c")).toBe(c);
    expect(cache.bytes("a")).not.toBe(a); // evicts "b"
    expect(Array.from(cache.bytes("a"))).toEqual([0x61]);
    expect(cache.bytes("c")).toBe(c);
  });
});

describe("PUBLISH with pre-encoded topic bytes", () => {
  it("encodes exactly as with the topic string", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" }), fc.uint8Array({ maxLength: 300 }), fc.constantFrom(0, 1, 2), (topic, payload, qos) => {
        fc.pre(!/[+#\u0000]/.test(topic));
        const packet = { type: PacketType.PUBLISH, topic, payload, qos: qos as 0 | 1 | 2, retain: false, dup: false, packetId: qos > 0 ? 9 : undefined };
        expect(Array.from(encode({ ...packet, topicBytes: new TopicCache().bytes(topic) }))).toEqual(Array.from(encode(packet)));
      }),
      { seed: 15, numRuns: 300 },
    );
  });
});
