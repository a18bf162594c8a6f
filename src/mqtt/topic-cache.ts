// Topic names checked and UTF-8 encoded once per topic, not once per message: a device publishes to a handful of
// topics, and on XS checking and encoding a 29-character topic cost about 4,000 computrons per publish.
import { validateTopicName } from "./topics";
import { encodeUtf8 } from "./utf8";

/** How many distinct topics are kept; a device publishes to about five (telemetry, status, health, reply, discovery). */
export const TOPIC_CACHE_SIZE = 16;

export class TopicCache {
  private readonly entries = new Map<string, Uint8Array>();

  constructor(private readonly capacity = TOPIC_CACHE_SIZE) {}

  /** The topic's UTF-8 bytes; throws the ProtocolError of validateTopicName for a topic that may not be published to. */
  bytes(topic: string): Uint8Array {
    const cached = this.entries.get(topic);
    if (cached !== undefined) return cached;
    validateTopicName(topic);
    const bytes = encodeUtf8(topic);
    if (this.entries.size >= this.capacity) {
      // The oldest entry goes: Map keeps insertion order, so it is the first key.
      for (const oldest of this.entries.keys()) {
        this.entries.delete(oldest);
        break;
      }
    }
    this.entries.set(topic, bytes);
    return bytes;
  }
}
