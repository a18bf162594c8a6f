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

/** What the client does when the broker refuses CONNECT (CONNACK return code 1-5). It never stops for good. */
export type RefusedPolicy =
  /**
   * Default: codes a retry soon cannot fix (bad protocol, id, credentials, authorisation) retry only every
   * fatalRetryMs (jittered), so a broker whose ACL or password is fixed later is reached again without a power
   * cycle; "server unavailable" retries slowly (at the backoff cap).
   */
  | "wait-on-fatal"
  /** Retry every code at the backoff cap (never in a tight loop). */
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
  /**
   * Share (0..1] of the store's real capacity (SessionStore.capacityBytes, e.g. the NVS partition) the queue may fill,
   * charging each message its store overhead: past it the drop policy applies, as for queueMaxBytes.
   */
  queueStoreShare?: number;
  dropPolicy?: DropPolicy;
  refusedPolicy?: RefusedPolicy;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /**
   * The long wait after a failure that retrying soon cannot fix: a CONNACK refusal 1, 2, 4 or 5, or a permanent
   * TransportError (a certificate the device does not trust). Each wait is jittered over 0.5x..1.5x this value so a
   * fleet refused together does not return together.
   */
  fatalRetryMs?: number;
  /**
   * A connection counts as healthy only after it has stayed up this long past CONNACK: only then is the backoff reset.
   * A link that dies sooner (a poison message, a broker that drops us at once) keeps the backoff growing.
   */
  stableConnectionMs?: number;
  /**
   * Largest incoming packet accepted. A larger PUBLISH is read past without being buffered, acknowledged at its QoS
   * and counted (`oversized`), never delivered; any other oversized packet is a protocol error that closes the link.
   */
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
  /** queue-full: the drop policy made room for a new message. store-full: a store write failed and room was made. */
  reason: "queue-full" | "store-full";
}

/** Why the client is not connected: the last failure since the last accepted CONNACK (see Publisher.problem). */
export interface LinkProblem {
  /** What failed and what to do, e.g. the CONNACK refusal's text. */
  readonly message: string;
  /** True for failures only a change elsewhere fixes (refusal 1, 2, 4, 5; permanent transport error): retried every fatalRetryMs. */
  readonly permanent: boolean;
  /** Clock ms of the next attempt, when one is scheduled. */
  readonly retryAt?: number;
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
  /** Incoming PUBLISHes over maxPacketSize: read past, acknowledged, never delivered. */
  oversized: number;
  /** Incoming PUBLISHes to topics we do not subscribe to: acknowledged, never recorded or delivered. */
  ignored: number;
  /** Commits the store refused (full, I/O): each recovered from by dropping the oldest queued messages (in `dropped`). */
  storeFailures: number;
}

export type ClientState = "idle" | "connecting" | "connected" | "waiting" | "ended";

export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
  /**
   * false: when the queue is full, refuse this message (QueueFullError) rather than drop older ones by the drop policy.
   * For messages worth less than what is queued (status, discovery, replies). Default true.
   */
  evict?: boolean;
}

export type MessageHandler = (message: IncomingMessage) => void;

/** The part of the client the sampler and firmware use; lets them be tested with a fake. */
export interface Publisher {
  publish(topic: string, payload: Uint8Array | string, options?: PublishOptions): number;
  subscribe(filter: string, qos: QoS, handler: MessageHandler): void;
  readonly counters: Readonly<ClientCounters>;
  /** Messages waiting (queued or in flight) and the age of the oldest, for health telemetry. */
  queueStats(): { depth: number; bytes: number; oldestAgeMs: number };
  /** Why the link is down: the last failure since the last accepted CONNACK, undefined while connected. */
  problem?(): LinkProblem | undefined;
}
