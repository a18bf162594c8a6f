// Topic names and filters: validation (4.7.3, 4.7.1) and matching (4.7.1, 4.7.2), checked against a reference matcher.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../src/errors";
import { topicMatches, validateTopicFilter, validateTopicName } from "../src/mqtt/topics";
import { topicFilter, topicName } from "./support/codec-arbitraries";
import { thrown } from "./support/thrown";

function ruleOf(run: () => void): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof ProtocolError) return error.rule;
    throw error;
  }
  return "ok";
}

describe("topic name validation", () => {
  it.each(["a", "a/b", "/", "a//b", "/leading", "trailing/", "$SYS/broker", "café/温度/😀", "x y"])("accepts %j", (topic) => {
    expect(ruleOf(() => validateTopicName(topic))).toBe("ok");
  });
  it.each([
    ["", "[MQTT-4.7.3-1]"],
    ["a\u0000b", "[MQTT-4.7.3-2]"],
    ["a/+", "[MQTT-3.3.2-2]"],
    ["a/#", "[MQTT-3.3.2-2]"],
    ["+", "[MQTT-3.3.2-2]"],
    ["a+b", "[MQTT-3.3.2-2]"],
    ["x".repeat(65536), "[MQTT-4.7.3-3]"],
    ["€".repeat(21846), "[MQTT-4.7.3-3]"], // 65538 bytes of UTF-8 in 21846 characters
  ])("refuses %j with %s", (topic, rule) => {
    expect(ruleOf(() => validateTopicName(topic))).toBe(rule);
  });
  it("accepts exactly 65535 bytes", () => {
    expect(ruleOf(() => validateTopicName("x".repeat(65535)))).toBe("ok");
  });
  it("names the packet it is checking for", () => {
    expect(() => validateTopicName("#", "CONNECT")).toThrow(/^CONNECT: /);
  });
});

describe("topic filter validation", () => {
  it.each(["#", "+", "a/#", "a/+/b", "+/+", "/+", "+/", "a//#", "$SYS/#", "sport/tennis/+"])("accepts %j", (filter) => {
    expect(ruleOf(() => validateTopicFilter(filter))).toBe("ok");
  });
  it.each([
    ["", "[MQTT-4.7.3-1]"],
    ["a\u0000", "[MQTT-4.7.3-2]"],
    ["a/#/b", "[MQTT-4.7.1-2]"],
    ["#/", "[MQTT-4.7.1-2]"],
    ["a#", "[MQTT-4.7.1-2]"],
    ["sport/tennis#", "[MQTT-4.7.1-2]"],
    ["a+", "[MQTT-4.7.1-3]"],
    ["+a/b", "[MQTT-4.7.1-3]"],
    ["sport+", "[MQTT-4.7.1-3]"],
  ])("refuses %j with %s", (filter, rule) => {
    expect(ruleOf(() => validateTopicFilter(filter))).toBe(rule);
  });
});

describe("topic matching", () => {
  it.each([
    ["sport/tennis/player1/#", "sport/tennis/player1", true],
    ["sport/tennis/player1/#", "sport/tennis/player1/ranking", true],
    ["sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true],
    ["sport/#", "sport", true],
    ["#", "sport", true],
    ["#", "/", true],
    ["sport/tennis/+", "sport/tennis/player1", true],
    ["sport/tennis/+", "sport/tennis/player1/ranking", false],
    ["sport/+", "sport", false],
    ["sport/+", "sport/", true],
    ["+/+", "/finance", true],
    ["/+", "/finance", true],
    ["+", "/finance", false],
    ["a/b", "a/b", true],
    ["a/b", "a/bc", false],
    ["a/b", "a", false],
    ["a", "a/b", false],
    ["a/+/c", "a//c", true],
  ])("%j vs %j -> %s", (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it.each([
    ["#", "$SYS/broker/load", false],
    ["+/broker/load", "$SYS/broker/load", false],
    ["+", "$SYS", false],
    ["$SYS/#", "$SYS/broker/load", true],
    ["$SYS/+/load", "$SYS/broker/load", true],
    ["$SYS", "$SYS", true],
    ["a/#", "a/$SYS", true], // only a leading wildcard is kept from "$" topics
  ])("$-topics: %j vs %j -> %s [MQTT-4.7.2-1]", (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it("agrees with a level-by-level reference matcher on generated filters and topics", () => {
    const reference = (filter: string, topic: string): boolean => {
      if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) return false;
      const f = filter.split("/");
      const t = topic.split("/");
      for (let i = 0; i < f.length; i++) {
        if (f[i] === "#") return true;
        if (i >= t.length) return false;
        if (f[i] !== "+" && f[i] !== t[i]) return false;
      }
      return f.length === t.length;
    };
    fc.assert(
      fc.property(topicFilter, topicName, (filter, topic) => {
        expect(topicMatches(filter, topic)).toBe(reference(filter, topic));
      }),
      { numRuns: 3000 },
    );
    // Also filters made from the topic itself, so that matches are common.
    fc.assert(
      fc.property(topicName, fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), (topic, plusAt, hash) => {
        const levels = topic.split("/");
        for (const at of plusAt) levels[at % levels.length] = "+";
        const filter = hash ? [...levels.slice(0, Math.max(1, levels.length - 1)), "#"].join("/") : levels.join("/");
        expect(topicMatches(filter, topic)).toBe(reference(filter, topic));
      }),
      { numRuns: 3000 },
    );
  });
});

describe("topic limits with their messages", () => {
  const message = (run: () => unknown) => thrown(ProtocolError, run).message;

  it("takes a name or filter of exactly 65535 bytes and refuses one byte more, naming the packet", () => {
    expect(validateTopicName("a".repeat(65535))).toBe(65535);
    expect(validateTopicName("é".repeat(32767) + "a")).toBe(65535);
    expect(validateTopicFilter("a/".repeat(32767) + "#")).toBe(65535);
    expect(message(() => validateTopicName("a".repeat(65536)))).toBe("PUBLISH: topic name is longer than 65535 bytes [MQTT-4.7.3-3]");
    expect(message(() => validateTopicName("é".repeat(32768), "CONNECT"))).toBe("CONNECT: topic name is longer than 65535 bytes [MQTT-4.7.3-3]");
    expect(message(() => validateTopicFilter("+/".repeat(32768)))).toBe("SUBSCRIBE: topic filter is longer than 65535 bytes [MQTT-4.7.3-3]");
  });

  it("refuses an empty name or filter, or one with U+0000", () => {
    expect(message(() => validateTopicName(""))).toBe("PUBLISH: topic name must be at least one character long [MQTT-4.7.3-1]");
    expect(message(() => validateTopicFilter(""))).toBe("SUBSCRIBE: topic filter must be at least one character long [MQTT-4.7.3-1]");
    expect(message(() => validateTopicFilter("", "UNSUBSCRIBE"))).toBe("UNSUBSCRIBE: topic filter must be at least one character long [MQTT-4.7.3-1]");
    expect(message(() => validateTopicName("a\u0000"))).toBe("PUBLISH: topic name must not contain U+0000 [MQTT-4.7.3-2]");
    expect(message(() => validateTopicFilter("a/\u0000"))).toBe("SUBSCRIBE: topic filter must not contain U+0000 [MQTT-4.7.3-2]");
    // A plain JS caller's filter that is not a string at all gets the codec's error, not a TypeError.
    for (const filter of [undefined, 5, null]) {
      expect(message(() => validateTopicFilter(filter as unknown as string))).toBe("SUBSCRIBE: topic filter must be at least one character long [MQTT-4.7.3-1]");
    }
  });
});
