// Topic names and filters (4.7): validation and wildcard matching, `$` topics kept from leading wildcards.
import { ProtocolError } from "../errors";
import { utf8Length } from "./utf8";

const MAX_TOPIC_BYTES = 65535;

function checkCommon(text: string, packetType: string, what: string): void {
  if (typeof text !== "string" || text.length === 0) {
    throw new ProtocolError(packetType, `${what} must be at least one character long`, "[MQTT-4.7.3-1]");
  }
  if (text.indexOf("\u0000") !== -1) {
    throw new ProtocolError(packetType, `${what} must not contain U+0000`, "[MQTT-4.7.3-2]");
  }
  if (utf8Length(text) > MAX_TOPIC_BYTES) {
    throw new ProtocolError(packetType, `${what} is longer than 65535 bytes`, "[MQTT-4.7.3-3]");
  }
}

/** Throws a ProtocolError unless `topic` may be published to: no wildcards [MQTT-3.3.2-2]. */
export function validateTopicName(topic: string, packetType = "PUBLISH"): void {
  checkCommon(topic, packetType, "topic name");
  if (topic.indexOf("+") !== -1 || topic.indexOf("#") !== -1) {
    throw new ProtocolError(packetType, `topic name "${topic}" must not contain wildcards`, "[MQTT-3.3.2-2]");
  }
}

/** Throws a ProtocolError unless `filter` is a valid subscription filter (4.7.1). */
export function validateTopicFilter(filter: string, packetType = "SUBSCRIBE"): void {
  checkCommon(filter, packetType, "topic filter");
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
    if (t > topic.length) return false;
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
