// A Publisher that records every publish and lets the test deliver incoming messages to the subscribed handlers.
import type { ClientCounters, IncomingMessage, MessageHandler, PublishOptions, Publisher } from "../../../src/mqtt/client-api";
import { topicMatches } from "../../../src/mqtt/topics";
import { decodeUtf8, encodeUtf8 } from "../../../src/mqtt/utf8";
import type { SessionStore } from "../../../src/store/session-store";

/** Key prefix of the messages a store-backed RecordingPublisher queues durably, as the client does. */
export const QUEUED_PREFIX = "mq.";

export interface RecordedPublish {
  topic: string;
  payload: Uint8Array;
  text: string;
  qos: number;
  retain: boolean;
}

export class RecordingPublisher implements Publisher {
  readonly published: RecordedPublish[] = [];
  readonly subscriptions: { filter: string; qos: number; handler: MessageHandler }[] = [];
  counters: ClientCounters = { sent: 0, acked: 0, retried: 0, queued: 0, dropped: 0, reconnects: 0, received: 0, protocolErrors: 0, oversized: 0, ignored: 0, storeFailures: 0 };
  queue = { depth: 0, bytes: 0, oldestAgeMs: 0 };
  /** When set, publish() throws it (a full queue under "reject-new"). */
  refuseWith: Error | undefined;
  private nextId = 1;
  /**
   * With a store, publish() behaves as the MQTT client does for durability: it stages the message under
   * "mq.<tag>.<id>" and commits the store before it returns (what else was staged commits with it).
   */
  private readonly durable: { store: SessionStore; tag: string } | undefined;

  constructor(durable?: { store: SessionStore; tag: string }) {
    this.durable = durable;
  }

  publish(topic: string, payload: Uint8Array | string, options: PublishOptions = {}): number {
    if (this.refuseWith) throw this.refuseWith;
    const bytes = typeof payload === "string" ? encodeUtf8(payload) : payload.slice();
    if (this.durable) {
      this.durable.store.put(`${QUEUED_PREFIX}${this.durable.tag}.${this.nextId}`, bytes);
      this.durable.store.commit();
    }
    this.published.push({ topic, payload: bytes, text: decodeUtf8(bytes), qos: options.qos ?? 0, retain: options.retain ?? false });
    return this.nextId++;
  }

  subscribe(filter: string, qos: 0 | 1 | 2, handler: MessageHandler): void {
    this.subscriptions.push({ filter, qos, handler });
  }

  queueStats(): { depth: number; bytes: number; oldestAgeMs: number } {
    return { ...this.queue };
  }

  /** Delivers a message as the broker would, to every matching subscription. */
  deliver(topic: string, payload: string | Uint8Array): void {
    const message: IncomingMessage = { topic, payload: typeof payload === "string" ? encodeUtf8(payload) : payload, qos: 1, retain: false };
    for (const s of this.subscriptions) if (topicMatches(s.filter, topic)) s.handler(message);
  }

  on(topic: string): RecordedPublish[] {
    return this.published.filter((p) => p.topic === topic);
  }
}
