// Topic names and filters (4.7): validation and wildcard matching, `$` topics kept from leading wildcards.
import { ProtocolError } from "../errors";
import { checkedUtf8Length } from "./utf8";

const MAX_TOPIC_BYTES = 65535;
const NUL = 0;
const PLUS = 0x2b;
const HASH = 0x23;

/** Checks what names and filters share; returns the UTF-8 length, which the encoder needs anyway. */
function checkCommon(text: string, packetType: string, what: string): number {
  if (typeof text !== "string" || text.length === 0) {
    throw new ProtocolError(packetType, `${what} must be at least one character long`, "[MQTT-4.7.3-1]");
  }
  if (text.indexOf("\u0000") !== -1) {
    throw new ProtocolError(packetType, `${what} must not contain U+0000`, "[MQTT-4.7.3-2]");
  }
  const length = checkedUtf8Length(text, packetType, what);
  if (length > MAX_TOPIC_BYTES) {
    throw new ProtocolError(packetType, `${what} is longer than 65535 bytes`, "[MQTT-4.7.3-3]");
  }
  return length;
}

/**
 * Throws a ProtocolError unless `topic` may be published to: not empty, no U+0000, no wildcards [MQTT-3.3.2-2],
 * at most 65535 bytes. Returns its UTF-8 length. One pass over the characters: this runs for every PUBLISH.
 */
export function validateTopicName(topic: string, packetType = "PUBLISH"): number {
  if (typeof topic !== "string" || topic.length === 0) {
    throw new ProtocolError(packetType, "topic name must be at least one character long", "[MQTT-4.7.3-1]");
  }
  let ascii = true;
  for (let i = 0; i < topic.length; i++) {
    const code = topic.charCodeAt(i);
    if (code === NUL) throw new ProtocolError(packetType, "topic name must not contain U+0000", "[MQTT-4.7.3-2]");
    if (code === PLUS || code === HASH) {
      throw new ProtocolError(packetType, `topic name "${topic}" must not contain wildcards`, "[MQTT-3.3.2-2]");
    }
    if (code >= 0x80) ascii = false;
  }
  const length = ascii ? topic.length : checkedUtf8Length(topic, packetType, "topic name");
  if (length > MAX_TOPIC_BYTES) throw new ProtocolError(packetType, "topic name is longer than 65535 bytes", "[MQTT-4.7.3-3]");
  return length;
}

/** Throws a ProtocolError unless `filter` is a valid subscription filter (4.7.1); returns its UTF-8 length. */
export function validateTopicFilter(filter: string, packetType = "SUBSCRIBE"): number {
  const length = checkCommon(filter, packetType, "topic filter");
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.indexOf("#") !== -1 && (level !== "#" || i !== levels.length - 1)) {
      throw new ProtocolError(packetType, `"#" must be a whole last level in filter "${filter}"`, "[MQTT-4.7.1-2]");
    }
    if (level.indexOf("+") !== -1 && level !== "+") {
      throw new ProtocolError(packetType, `"+" must be a whole level in filter "${filter}"`, "[MQTT-4.7.1-3]");
    }
  }
  return length;
}

/** True when the (valid) `filter` matches the (valid) topic name `topic`. */
export function topicMatches(filter: string, topic: string): boolean {
  // A filter starting with a wildcard never matches a topic starting with "$" [MQTT-4.7.2-1].
  if (topic.charCodeAt(0) === 0x24 && (filter.charCodeAt(0) === 0x2b || filter.charCodeAt(0) === 0x23)) return false;
  let f = 0;
  let t = 0;
  for (;;) {
    const fEnd = indexOrEnd(filter, f);
    const level = filter.slice(f, fEnd);
    if (level === "#") return true;
    // Here t <= topic.length: the checks at the end of the loop return before a level past the topic's end.
    const tEnd = indexOrEnd(topic, t);
    if (level !== "+" && level !== topic.slice(t, tEnd)) return false;
    f = fEnd + 1;
    t = tEnd + 1;
    if (f > filter.length) return t > topic.length;
    // "sport/#" also matches "sport" [4.7.1.2]: the parent level before a final "#".
    if (t > topic.length) return filter.slice(f) === "#";
  }
}

function indexOrEnd(text: string, from: number): number {
  const at = text.indexOf("/", from);
  return at === -1 ? text.length : at;
}
