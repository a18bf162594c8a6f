// The MQTT client's public surface: options, injected dependencies, events and counters.
import type { QoS } from "./constants";
import type { Clock, Logger, RandomSource, TransportFactory } from "../ports";
import type { SessionStore } from "../store/session-store";

/** What happens to a queued message when the offline queue is full. */
export type DropPolicy =
  /** Default: drop the oldest QoS 0 message, else the oldest message of any QoS. */
  | "oldest-qos0-first"
  /** Drop the oldest message whatever its QoS. */
  | "oldest"
  /** Refuse the new message (publish() throws QueueFullError). */
  | "reject-new";

/** What the client does when the broker refuses CONNECT (CONNACK return code 1-5). */
export type RefusedPolicy =
  /** Default: stop for codes that cannot heal (bad protocol, id, credentials, authorisation); retry slowly (at the backoff cap) for "server unavailable". */
  | "stop-on-fatal"
  /** Keep retrying every code, always at the backoff cap (never in a tight loop). */
  | "retry-slowly";

export interface WillOptions {
  topic: string;
  payload: Uint8Array | string;
  qos?: QoS;
  retain?: boolean;
}

export interface ClientOptions {
  clientId: string;
  /** false (default) keeps a persistent session at the broker and in the store. */
  cleanSession?: boolean;
  keepAliveSeconds?: number;
  username?: string;
  password?: string | Uint8Array;
  will?: WillOptions;
  /** No CONNACK within this time: drop the link and retry. */
  connectTimeoutMs?: number;
  /** An ack later than this on a live connection means the link is presumed dead: reconnect and resend. */
  ackTimeoutMs?: number;
  /** How long to wait for PINGRESP (or any packet) after PINGREQ. */
  pingTimeoutMs?: number;
  /** QoS 1/2 messages in flight at once; the rest wait in the queue, in order. */
  maxInflight?: number;
  queueMaxMessages?: number;
  queueMaxBytes?: number;
  dropPolicy?: DropPolicy;
  refusedPolicy?: RefusedPolicy;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Largest incoming packet accepted; larger ones are a protocol error and close the link. */
  maxPacketSize?: number;
  /** How long end() waits for queued and in-flight messages before it stops anyway (they stay stored). */
  endTimeoutMs?: number;
}

export interface ClientDeps {
  transport: TransportFactory;
  clock: Clock;
  store: SessionStore;
  random: RandomSource;
  logger?: Logger;
}

export interface IncomingMessage {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
}

export interface DeliveredInfo {
  /** The id publish() returned (persistent, unique per store; not the MQTT packet id). */
  messageId: number;
  topic: string;
  qos: QoS;
}

export interface DroppedInfo extends DeliveredInfo {
  reason: "queue-full";
}

export interface ClientEvents {
  onConnect?(info: { sessionPresent: boolean }): void;
  onDisconnect?(info: { reason: string; error?: Error; willReconnectInMs?: number }): void;
  onMessage?(message: IncomingMessage): void;
  onDelivered?(info: DeliveredInfo): void;
  onDropped?(info: DroppedInfo): void;
  onError?(error: Error): void;
}

export interface ClientCounters {
  sent: number;
  acked: number;
  retried: number;
  queued: number;
  dropped: number;
  reconnects: number;
  received: number;
  protocolErrors: number;
}

export type ClientState = "idle" | "connecting" | "connected" | "waiting" | "stopped" | "ended";

export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
  /**
   * false: when the queue is full, refuse this message (QueueFullError) rather than drop older ones by the drop policy.
   * For messages worth less than what is queued (status, discovery, replies). Default true.
   */
  evict?: boolean;
  /**
   * false (QoS 0 and 1 only): the client keeps this message in RAM and writes nothing of it to the store; a reboot
   * forgets it. For a publisher that can publish it again from its own durable state: the sampler keeps its reading
   * records until the telemetry is acknowledged and rebuilds the batch after a reboot, so the readings are not stored a
   * second time inside the message (docs/flash-log.md). Default true.
   */
  stored?: boolean;
}

export type MessageHandler = (message: IncomingMessage) => void;

/** The part of the client the sampler and firmware use; lets them be tested with a fake. */
export interface Publisher {
  publish(topic: string, payload: Uint8Array | string, options?: PublishOptions): number;
  subscribe(filter: string, qos: QoS, handler: MessageHandler): void;
  readonly counters: Readonly<ClientCounters>;
  /** Messages waiting (queued or in flight) and the age of the oldest, for health telemetry. */
  queueStats(): { depth: number; bytes: number; oldestAgeMs: number };
}
