// The MQTT client shell: connection attempts, keepalive, timeouts, reconnect and the write path around the Session.
// Rule of every turn: stage state changes, commit them, then write the bytes that depend on them, then tell the user.
import { ConfigError, ConnectionRefusedError, ProtocolError, StorageError, TransportError } from "../errors";
import type { Transport } from "../ports";
import { Backoff } from "./backoff";
import type {
  ClientCounters, ClientDeps, ClientEvents, ClientOptions, ClientState, IncomingMessage, LinkProblem, MessageHandler, PublishOptions, Publisher,
} from "./client-api";
import { encode, encodedLength, encodeInto, PacketDecoder, type OversizedPublish } from "./codec";
import { ConnectReturnCode, PacketType, SUBACK_FAILURE, packetName, type QoS } from "./constants";
import type { ConnackPacket, Packet, PublishPacket, SubackPacket } from "./packets";
import { Session, type SessionLimits } from "./session";
import { repairUntil } from "../store/repair";
import { TopicCache } from "./topic-cache";
import { topicMatches, validateTopicFilter, validateTopicName } from "./topics";
import { encodeUtf8 } from "./utf8";

export const CLIENT_DEFAULTS = Object.freeze({
  cleanSession: false,
  keepAliveSeconds: 60,
  connectTimeoutMs: 10_000,
  ackTimeoutMs: 30_000,
  pingTimeoutMs: 10_000,
  maxInflight: 8,
  queueMaxMessages: 1000,
  queueMaxBytes: 256 * 1024,
  dropPolicy: "oldest-qos0-first" as const,
  refusedPolicy: "wait-on-fatal" as const,
  backoffBaseMs: 1000,
  backoffCapMs: 60_000,
  /** 5 min (2.5 to 7.5 with jitter): a fixed ACL or password is picked up within minutes, at 12 attempts an hour. */
  fatalRetryMs: 5 * 60_000,
  /** Half the default keepalive: a link that survives this long past CONNACK was not killed by what it carried. */
  stableConnectionMs: 30_000,
  maxPacketSize: 64 * 1024,
  endTimeoutMs: 30_000,
  /**
   * Share of the store's capacity (SessionStore.capacityBytes) the queue may fill. The rest is for the journal copy of
   * the largest commit, the sampler's pending readings, settings and session records: with it the queue can never
   * fill the store (on a 24 KB NVS: 8 KB, about 28 telemetry messages of 150 bytes).
   */
  queueStoreShare: 0.5,
});

type ResolvedOptions = Required<Omit<ClientOptions, "username" | "password" | "will">> & Pick<ClientOptions, "username" | "password" | "will">;

const REFUSAL_TEXT: Record<number, [string, boolean]> = {
  [ConnectReturnCode.UNACCEPTABLE_PROTOCOL_VERSION]: ["broker refused MQTT 3.1.1 (return code 1): use a broker that supports protocol level 4", false],
  [ConnectReturnCode.IDENTIFIER_REJECTED]: ["broker rejected the client id (return code 2): set a shorter or different device id", false],
  [ConnectReturnCode.SERVER_UNAVAILABLE]: ["broker is unavailable (return code 3): will retry slowly", true],
  [ConnectReturnCode.BAD_USERNAME_OR_PASSWORD]: ["broker refused the username or password (return code 4): fix mqtt_user / mqtt_password", false],
  [ConnectReturnCode.NOT_AUTHORIZED]: ["broker says this client is not authorized (return code 5): check the broker's ACL for this client id", false],
};

/** Items of one chunk of input, in stream order: decoded packets and oversized PUBLISHes read past (told apart by `type`). */
type Incoming = Packet | OversizedPublish;

/** One connection attempt: its transport, decoder, output buffer and per-connection bookkeeping. */
class Link {
  transport: Transport | undefined;
  readonly decoder: PacketDecoder;
  /** Bytes the transport has not taken yet. */
  readonly pending: Uint8Array[] = [];
  open = false;
  /** CONNACK accepted. */
  ready = false;
  /** Clock ms of the accepted CONNACK. */
  readyAt = 0;
  lastSent: number;
  lastReceived: number;
  pingDeadline = 0;
  /** When each in-flight packet id was last written, oldest first (a re-send moves it to the end). */
  readonly sentAt = new Map<number, number>();
  readonly subscribing = new Map<number, Array<{ topic: string; qos: QoS }>>();
  readonly unsubscribing = new Map<number, string[]>();
  /**
   * What the decoder found in the chunk being read, handled after the whole chunk is decoded. One array and one
   * callback per link, not per chunk: on XS the closures and wrappers of each chunk cost more than decoding a PUBACK.
   */
  readonly inbox: Incoming[] = [];
  readonly toInbox = (item: Incoming): void => {
    this.inbox.push(item);
  };
  /** Packet ids of this link's pending SUBSCRIBE/UNSUBSCRIBE, which a PUBLISH must not take; one function per link. */
  readonly isReserved = (id: number): boolean => this.subscribing.has(id) || this.unsubscribing.has(id);

  constructor(readonly startedAt: number, maxPacketSize: number) {
    this.decoder = new PacketDecoder({ maxPacketSize });
    this.lastSent = startedAt;
    this.lastReceived = startedAt;
  }
}

export class MqttClient implements Publisher {
  readonly counters: ClientCounters = { sent: 0, acked: 0, retried: 0, queued: 0, dropped: 0, reconnects: 0, received: 0, protocolErrors: 0, oversized: 0, ignored: 0, storeFailures: 0 };
  private readonly options: ResolvedOptions;
  /** Rebuilt from the store after a failed commit (onStoreFailure); otherwise the one session of this client. */
  private session: Session;
  private readonly sessionLimits: SessionLimits;
  /** Publish topics checked and encoded once each (see TopicCache). */
  private readonly topics = new TopicCache();
  private readonly backoff: Backoff;
  private readonly handlers = new Map<string, { qos: QoS; handler: MessageHandler }>();
  private readonly enqueuedAt = new Map<number, number>();
  private currentState: ClientState = "idle";
  private link: Link | undefined;
  private timer: unknown;
  private timerDue = 0;
  private reconnectAt = 0;
  private everConnected = false;
  /** The last failure since the last accepted CONNACK. */
  private lastProblem: LinkProblem | undefined;
  private ending: { deadline: number; callbacks: Array<() => void> } | undefined;
  private readonly staged: Packet[] = [];
  private readonly events: Array<() => void> = [];
  private draining = false;
  /** pump() stopped at its per-batch budget with more to send. */
  private morePending = false;

  constructor(options: ClientOptions, private readonly deps: ClientDeps, private readonly on: ClientEvents = {}) {
    this.options = resolveOptions(options);
    const capacity = deps.store.capacityBytes?.();
    const storeBudgetBytes = capacity === undefined ? Infinity : Math.floor(capacity * this.options.queueStoreShare);
    this.sessionLimits = { ...this.options, storeBudgetBytes };
    this.session = new Session(deps.store, this.sessionLimits);
    this.backoff = new Backoff(this.options.backoffBaseMs, this.options.backoffCapMs, deps.random);
    const now = deps.clock.now();
    for (const message of this.session.list()) this.enqueuedAt.set(message.messageId, now);
  }

  get state(): ClientState {
    return this.currentState;
  }

  /** Starts connecting; the client then keeps itself connected until end(). */
  start(): void {
    if (this.currentState !== "idle") return;
    this.connect();
    this.endTurn();
  }

  /** Queues a message durably and returns its id (see onDelivered). Throws ProtocolError for a bad topic, QueueFullError when refused. */
  publish(topic: string, payload: Uint8Array | string, options: PublishOptions = {}): number {
    if (this.currentState === "ended") throw new Error(`publish to "${topic}" after end(): create a new client`);
    const topicBytes = this.topics.bytes(topic);
    const qos = options.qos ?? 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new ProtocolError("PUBLISH", `QoS must be 0, 1 or 2, got ${qos}`, "[MQTT-3.3.1-4]");
    const link = this.link;
    if (qos === 0 && link?.ready && link.pending.length === 0 && !this.session.hasQueued()) {
      // At most once, nothing queued ahead of it and a link taking bytes: it is written before publish() returns,
      // so it needs no stored record (and its payload no copy: the encoder copies it into the packet).
      return this.publishNow(topic, topicBytes, typeof payload === "string" ? encodeUtf8(payload) : payload, options.retain ?? false);
    }
    const bytes = typeof payload === "string" ? encodeUtf8(payload) : payload.slice();
    const stored = options.stored ?? true;
    if (!stored && qos === 2) throw new RangeError(`publish to "${topic}": stored: false is for QoS 0 and 1; exactly once needs the stored message`);
    // A link taking bytes lets the session send it at once (written in flight, one record): what pump() would do next.
    const sendNow = link?.ready && link.pending.length === 0 ? link.isReserved : undefined;
    const { message, dropped, packet } = this.session.enqueue(topic, topicBytes, bytes, qos, options.retain ?? false, options.evict ?? true, stored, sendNow);
    const now = this.deps.clock.now();
    this.enqueuedAt.set(message.messageId, now);
    this.counters.queued++;
    for (let i = 0; i < dropped.length; i++) {
      const victim = dropped[i];
      this.enqueuedAt.delete(victim.messageId);
      this.counters.dropped++;
      this.defer(() => this.on.onDropped?.({ messageId: victim.messageId, topic: victim.topic, qos: victim.qos, reason: "queue-full" }));
    }
    if (packet && link) {
      this.counters.sent++;
      link.sentAt.set(message.packetId, now);
      this.stage(packet);
    } else {
      this.pump();
    }
    this.endTurn();
    return message.messageId;
  }

  private publishNow(topic: string, topicBytes: Uint8Array, payload: Uint8Array, retain: boolean): number {
    const messageId = this.session.allocateMessageId();
    this.counters.queued++;
    this.counters.sent++;
    this.stage({ type: PacketType.PUBLISH, topic, topicBytes, payload, qos: 0, retain, dup: false });
    this.defer(() => this.on.onDelivered?.({ messageId, topic, qos: 0 }));
    this.endTurn();
    return messageId;
  }

  /** Subscribes `filter` (now if connected, else on connect) and routes matching messages to `handler`. */
  subscribe(filter: string, qos: QoS, handler: MessageHandler): void {
    validateTopicFilter(filter);
    this.handlers.set(filter, { qos, handler });
    const link = this.link;
    if (link?.ready) {
      this.sendSubscribe(link, [{ topic: filter, qos }]);
      this.endTurn();
    }
  }

  unsubscribe(filter: string): void {
    this.handlers.delete(filter);
    const link = this.link;
    if (link?.ready) {
      const packetId = this.session.allocatePacketId(link.isReserved);
      link.unsubscribing.set(packetId, [filter]);
      this.stage({ type: PacketType.UNSUBSCRIBE, packetId, topics: [filter] });
      this.endTurn();
    } else {
      this.session.setSubscribed(filter, undefined);
      this.commitSession();
    }
  }

  /**
   * Stops for good: while connected, waits (up to endTimeoutMs) until every queued and in-flight message is
   * acknowledged, then sends DISCONNECT. It never reconnects; whatever is left stays in the store for the next start.
   */
  end(onEnded?: () => void): void {
    if (this.currentState === "ended") {
      if (onEnded) onEnded();
      return;
    }
    if (!this.ending) this.ending = { deadline: this.deps.clock.now() + this.options.endTimeoutMs, callbacks: [] };
    if (onEnded) this.ending.callbacks.push(onEnded);
    this.checkEnd();
    this.endTurn();
  }

  /** Why the link is down: the last failure since the last accepted CONNACK (with the next attempt's time), undefined while connected. */
  problem(): LinkProblem | undefined {
    if (this.currentState === "connected") return undefined;
    const problem = this.lastProblem;
    if (!problem) return undefined;
    return this.currentState === "waiting" ? { ...problem, retryAt: this.reconnectAt } : problem;
  }

  queueStats(): { depth: number; bytes: number; oldestAgeMs: number } {
    let oldest = Infinity;
    for (const at of this.enqueuedAt.values()) {
      oldest = at;
      break; // publish order: the first entry is the oldest
    }
    const now = this.deps.clock.now();
    return { depth: this.session.depth, bytes: this.session.bytes, oldestAgeMs: oldest === Infinity ? 0 : now - oldest };
  }

  // -------------------------------------------------------------------------------------------
  // Connection lifecycle

  private connect(): void {
    const now = this.deps.clock.now();
    const link = new Link(now, this.options.maxPacketSize);
    this.link = link;
    this.currentState = "connecting";
    this.armTimer();
    try {
      link.transport = this.deps.transport({
        onConnect: () => this.whenCurrent(link, () => this.onLinkOpen(link)),
        onData: (bytes) => {
          // whenCurrent by hand: this runs for every chunk received, and the closure it needs is the dearer part.
          if (this.link !== link) return;
          this.onLinkData(link, bytes);
          this.endTurn();
        },
        onWritable: () => this.whenCurrent(link, () => this.onLinkWritable(link)),
        onClose: (error) => this.whenCurrent(link, () => this.dropLink("connection closed", error ?? new Error("connection closed by peer"))),
      });
    } catch (error) {
      this.dropLink("could not open connection", error as Error);
    }
  }

  /** Runs `action` only for the live link (callbacks of closed links are ignored), then finishes the turn. */
  private whenCurrent(link: Link, action: () => void): void {
    if (this.link !== link) return;
    action();
    this.endTurn();
  }

  private onLinkOpen(link: Link): void {
    link.open = true;
    const o = this.options;
    this.stage({
      type: PacketType.CONNECT,
      clientId: o.clientId,
      cleanSession: o.cleanSession,
      keepAlive: o.keepAliveSeconds,
      username: o.username,
      password: o.password,
      will: o.will && {
        topic: o.will.topic,
        payload: typeof o.will.payload === "string" ? encodeUtf8(o.will.payload) : o.will.payload,
        qos: o.will.qos ?? 0,
        retain: o.will.retain ?? false,
      },
    });
  }

  private onLinkData(link: Link, bytes: Uint8Array): void {
    const inbox = link.inbox;
    let decodeError: unknown;
    try {
      link.decoder.push(bytes, link.toInbox, link.toInbox);
    } catch (error) {
      decodeError = error; // the whole packets before the bad bytes are still handled, in order, first
    }
    // The inbox is emptied before anything is handled, so a read inside a handler (a transport answering a write at
    // once) starts clean. One packet per chunk is the common case and needs no copy.
    if (inbox.length === 1) {
      const item = inbox[0];
      inbox.length = 0;
      if (!this.handleItem(link, item, true)) return;
    } else if (inbox.length > 1) {
      const items = inbox.splice(0);
      for (let i = 0; i < items.length; i++) if (!this.handleItem(link, items[i], i === 0)) return;
    }
    if (this.link !== link) return;
    if (decodeError !== undefined) this.protocolFailure(decodeError as Error);
  }

  /** Handles one decoded item; false once the link is gone. The first whole packet of a chunk proves the broker alive. */
  private handleItem(link: Link, item: Incoming, first: boolean): boolean {
    if (this.link !== link) return false;
    if (first) {
      // Only whole packets count: a peer trickling bytes must not hold off the keepalive timeout.
      link.lastReceived = this.deps.clock.now();
      link.pingDeadline = 0;
    }
    try {
      if ("type" in item) this.handle(link, item);
      else this.onOversized(link, item);
    } catch (error) {
      this.protocolFailure(error as Error);
      return false;
    }
    return true;
  }

  private onLinkWritable(link: Link): void {
    this.flushPending(link);
    this.pump();
  }

  private protocolFailure(error: Error): void {
    if (!(error instanceof ProtocolError)) throw error;
    this.counters.protocolErrors++;
    this.defer(() => this.on.onError?.(error));
    this.dropLink("protocol error", error);
  }

  /** Closes the current link and, unless ending or stopped, schedules the next attempt. */
  private dropLink(reason: string, error: Error, retryInMs?: number): void {
    const link = this.link;
    if (!link) return;
    this.link = undefined;
    this.staged.length = 0; // packets of a dead link: their state is in the session and is resent on reconnect
    closeQuietly(link);
    if (this.ending) {
      this.finishEnd();
      this.defer(() => this.on.onDisconnect?.({ reason, error }));
      return;
    }
    const now = this.deps.clock.now();
    // The backoff resets only for a link that stayed up: one that dies soon after CONNACK (a poison message the
    // session brings back each time, a broker that drops us at once) keeps it growing.
    if (link.ready && now - link.readyAt >= this.options.stableConnectionMs) this.backoff.reset();
    let delay = retryInMs;
    if (delay === undefined && error instanceof TransportError && error.permanent) delay = this.fatalDelay();
    if (delay === undefined) delay = this.backoff.next();
    this.lastProblem = { message: `${reason}: ${error.message}`, permanent: isPermanent(error) };
    this.currentState = "waiting";
    this.reconnectAt = now + delay;
    this.armTimer();
    this.defer(() => this.on.onDisconnect?.({ reason, error, willReconnectInMs: delay }));
  }

  // -------------------------------------------------------------------------------------------
  // Incoming packets (protocol state only; user callbacks are deferred)

  private handle(link: Link, packet: Packet): void {
    if (!link.ready && packet.type !== PacketType.CONNACK) {
      throw new ProtocolError(packetName(packet.type), "received before CONNACK", "[MQTT-3.2.0-1]");
    }
    switch (packet.type) {
      case PacketType.CONNACK:
        return this.onConnack(link, packet);
      case PacketType.PUBLISH:
        return this.onPublish(packet);
      case PacketType.PUBACK:
      case PacketType.PUBREC:
      case PacketType.PUBCOMP:
        return this.onAck(link, packet.type, packet.packetId);
      case PacketType.PUBREL:
        this.session.releaseQos2(packet.packetId);
        this.stage({ type: PacketType.PUBCOMP, packetId: packet.packetId });
        return;
      case PacketType.SUBACK:
        return this.onSuback(link, packet);
      case PacketType.UNSUBACK: {
        const filters = link.unsubscribing.get(packet.packetId);
        link.unsubscribing.delete(packet.packetId);
        if (filters) for (const filter of filters) this.session.setSubscribed(filter, undefined);
        return;
      }
      case PacketType.PINGRESP:
        return;
      case PacketType.CONNECT:
      case PacketType.SUBSCRIBE:
      case PacketType.UNSUBSCRIBE:
      case PacketType.PINGREQ:
      case PacketType.DISCONNECT:
        throw new ProtocolError(packetName(packet.type), "a server must not send this packet to a client", "[MQTT-4.8]");
      default:
        return assertNever(packet);
    }
  }

  private onConnack(link: Link, packet: ConnackPacket): void {
    if (link.ready) throw new ProtocolError("CONNACK", "second CONNACK on one connection", "[MQTT-3.2.0-1]");
    if (packet.returnCode !== ConnectReturnCode.ACCEPTED) return this.onRefused(packet.returnCode);
    if (packet.sessionPresent && this.options.cleanSession) {
      throw new ProtocolError("CONNACK", "session present is 1 in answer to a clean-session CONNECT", "[MQTT-3.2.2-1]");
    }
    link.ready = true;
    link.readyAt = this.deps.clock.now();
    this.currentState = "connected";
    this.lastProblem = undefined;
    if (this.everConnected) this.counters.reconnects++;
    this.everConnected = true;
    const inflightBefore = this.session.inflightCount;
    const resend = this.session.resume(packet.sessionPresent);
    if (!packet.sessionPresent) this.counters.retried += inflightBefore; // re-published as new messages
    const now = this.deps.clock.now();
    for (const resent of resend) {
      this.counters.retried++;
      link.sentAt.set((resent as { packetId: number }).packetId, now);
      this.stage(resent);
    }
    const toSubscribe: Array<{ topic: string; qos: QoS }> = [];
    for (const [topic, { qos }] of this.handlers) if (!this.session.isSubscribed(topic, qos)) toSubscribe.push({ topic, qos });
    if (toSubscribe.length > 0) this.sendSubscribe(link, toSubscribe);
    const sessionPresent = packet.sessionPresent;
    this.defer(() => this.on.onConnect?.({ sessionPresent }));
    this.pump();
  }

  /** Never stops for good: a refusal that cannot heal by itself waits fatalRetryMs (the broker may be fixed meanwhile). */
  private onRefused(returnCode: number): void {
    const [text, retryable] = REFUSAL_TEXT[returnCode];
    const error = new ConnectionRefusedError(returnCode, text, retryable);
    this.defer(() => this.on.onError?.(error));
    const delay = !retryable && this.options.refusedPolicy === "wait-on-fatal" ? this.fatalDelay() : this.backoff.slow();
    this.dropLink("connection refused", error, delay);
  }

  /** fatalRetryMs jittered over 0.5x..1.5x. */
  private fatalDelay(): number {
    return Math.floor(this.options.fatalRetryMs * (0.5 + this.deps.random()));
  }

  /**
   * A PUBLISH over maxPacketSize, read past by the decoder: acknowledged at its QoS so the broker's session lets go
   * of it (else it comes back at every reconnect and cuts the device off for good), counted, reported, never
   * delivered. A QoS 2 id is not recorded: nothing was delivered, so a resend cannot be delivered twice.
   */
  private onOversized(link: Link, publish: OversizedPublish): void {
    if (!link.ready) throw new ProtocolError("PUBLISH", "received before CONNACK", "[MQTT-3.2.0-1]");
    this.counters.received++;
    this.counters.oversized++;
    if (publish.qos === 1) this.stage({ type: PacketType.PUBACK, packetId: publish.packetId as number });
    else if (publish.qos === 2) this.stage({ type: PacketType.PUBREC, packetId: publish.packetId as number });
    const topic = publish.topicLength > publish.topicPrefix.length ? `${publish.topicPrefix}... (${publish.topicLength} bytes)` : publish.topicPrefix;
    const error = new ProtocolError(
      "PUBLISH",
      `message of ${publish.size} bytes on "${topic}" (QoS ${publish.qos}${publish.retain ? ", retained" : ""}) exceeds the maximum packet size of ` +
        `${this.options.maxPacketSize}: acknowledged and discarded; clear it at the broker (a retained one: publish an empty retained message)`,
    );
    this.defer(() => this.on.onError?.(error));
  }

  private onPublish(packet: PublishPacket): void {
    this.counters.received++;
    if (!this.isSubscribed(packet.topic)) {
      // Not ours (a broker bug or a stale subscription of an earlier firmware): acknowledged so the broker lets go of
      // it, but never recorded, so a flood of QoS 2 ids cannot fill the id table and cut the link.
      this.counters.ignored++;
      if (packet.qos === 1) this.stage({ type: PacketType.PUBACK, packetId: packet.packetId as number });
      else if (packet.qos === 2) this.stage({ type: PacketType.PUBREC, packetId: packet.packetId as number });
      this.deps.logger?.warn(`PUBLISH to "${packet.topic.slice(0, 64)}" matches no subscription; acknowledged and ignored`);
      return;
    }
    if (packet.qos === 1) {
      this.stage({ type: PacketType.PUBACK, packetId: packet.packetId as number });
    } else if (packet.qos === 2) {
      const first = this.session.receiveQos2(packet.packetId as number);
      this.stage({ type: PacketType.PUBREC, packetId: packet.packetId as number });
      if (!first) return; // exactly once: a duplicate before PUBREL is acknowledged, not delivered
    }
    const message: IncomingMessage = { topic: packet.topic, payload: packet.payload, qos: packet.qos, retain: packet.retain };
    this.defer(() => this.deliver(message));
  }

  private isSubscribed(topic: string): boolean {
    for (const filter of this.handlers.keys()) if (topicMatches(filter, topic)) return true;
    return false;
  }

  private deliver(message: IncomingMessage): void {
    for (const [filter, { handler }] of this.handlers) {
      if (topicMatches(filter, message.topic)) this.guard(() => handler(message));
    }
    this.on.onMessage?.(message);
  }

  private onAck(link: Link, ack: typeof PacketType.PUBACK | typeof PacketType.PUBREC | typeof PacketType.PUBCOMP, packetId: number): void {
    const outcome = this.session.acknowledge(ack, packetId);
    if (outcome.unknown) {
      this.deps.logger?.warn(`${packetName(ack)} for unknown packet id ${packetId} ignored`);
      return;
    }
    if (outcome.pubrel !== undefined) {
      link.sentAt.delete(packetId); // keep the map in time order: the PUBREL is the newest write
      link.sentAt.set(packetId, this.deps.clock.now());
      this.stage({ type: PacketType.PUBREL, packetId });
    }
    const done = outcome.completed;
    if (done) {
      link.sentAt.delete(packetId);
      this.enqueuedAt.delete(done.messageId);
      this.counters.acked++;
      this.defer(() => this.on.onDelivered?.({ messageId: done.messageId, topic: done.topic, qos: done.qos }));
      this.pump();
      this.checkEnd();
    }
  }

  private onSuback(link: Link, packet: SubackPacket): void {
    const requested = link.subscribing.get(packet.packetId);
    if (!requested) return;
    link.subscribing.delete(packet.packetId);
    if (requested.length !== packet.granted.length) {
      throw new ProtocolError("SUBACK", `${packet.granted.length} return codes for ${requested.length} filters`, "[MQTT-3.8.4-5]");
    }
    requested.forEach(({ topic, qos }, i) => {
      if (packet.granted[i] === SUBACK_FAILURE) {
        const error = new ProtocolError("SUBACK", `broker refused the subscription to "${topic}" (0x80): check its ACL`);
        this.defer(() => this.on.onError?.(error));
      } else {
        this.session.setSubscribed(topic, qos);
      }
    });
  }

  // -------------------------------------------------------------------------------------------
  // Outgoing

  private sendSubscribe(link: Link, subscriptions: Array<{ topic: string; qos: QoS }>): void {
    const packetId = this.session.allocatePacketId(link.isReserved);
    link.subscribing.set(packetId, subscriptions);
    this.stage({ type: PacketType.SUBSCRIBE, packetId, subscriptions });
  }

  /** Moves queued messages into the window while the link takes bytes. */
  private pump(): void {
    const link = this.link;
    if (!link?.ready || link.pending.length > 0) return;
    let budget = 16 * 1024; // bytes per turn, so one turn never builds an unbounded batch
    const now = this.deps.clock.now();
    this.morePending = false;
    for (;;) {
      const message = this.session.nextToSend();
      if (!message) break;
      if (budget <= 0) {
        this.morePending = true;
        break;
      }
      const packet = this.session.send(message, link.isReserved);
      this.counters.sent++;
      budget -= message.payload.length + message.topic.length + 8;
      if (packet.qos === 0) {
        this.enqueuedAt.delete(message.messageId);
        this.defer(() => this.on.onDelivered?.({ messageId: message.messageId, topic: message.topic, qos: 0 }));
      } else {
        link.sentAt.set(packet.packetId as number, now);
      }
      this.stage(packet);
    }
    this.checkEnd();
  }

  private stage(packet: Packet): void {
    this.staged.push(packet);
  }

  /**
   * Commit, then write, then call the user: the order that keeps a crash from losing or inventing state.
   * Batches repeat while the link keeps taking bytes; once it pushes back, onWritable resumes the pump.
   */
  private endTurn(): void {
    for (;;) {
      const link = this.link;
      this.commitAndWrite();
      if (!this.morePending || this.link !== link || !link || link.pending.length > 0) break;
      this.pump();
    }
    // Always re-arm: a timer that fired a little early (Node's do, against performance.now()) must be set again.
    if (this.currentState !== "ended") this.armTimer();
    this.drainEvents();
  }

  /** Commits the session, then writes every staged packet as one batch (dropped when no link is open to take them). */
  private commitAndWrite(): void {
    this.commitSession();
    const link = this.link;
    if (!link?.open) {
      this.staged.length = 0;
      return;
    }
    if (this.staged.length === 0) return;
    this.writeBytes(link, encodeBatch(this.staged.splice(0)));
    if (this.link === link) link.lastSent = this.deps.clock.now();
  }

  /** Queues `bytes` behind what the link has not taken yet, then writes as much as it takes now. */
  private writeBytes(link: Link, bytes: Uint8Array): void {
    if (this.link !== link || !link.transport) return;
    link.pending.push(bytes);
    if (link.pending.length === 1) this.flushPending(link);
  }

  /** Writes pending bytes in order until the transport pushes back (onWritable resumes) or they are all gone. */
  private flushPending(link: Link): void {
    while (link.pending.length > 0 && link.transport && this.link === link) {
      const head = link.pending[0];
      let written: number;
      try {
        written = link.transport.write(head);
      } catch (error) {
        this.dropLink("write failed", error as Error);
        return;
      }
      if (written < head.length) {
        link.pending[0] = head.subarray(written);
        return;
      }
      link.pending.shift();
    }
  }

  /** Commits the session; a store that fails (full, I/O) never throws out of a turn (see onStoreFailure). */
  private commitSession(): void {
    try {
      this.session.commit();
    } catch (error) {
      this.onStoreFailure(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * A commit failed, so its staged changes are lost. The store is brought back to its last durable state and the
   * session rebuilt from it (messages whose enqueue never became durable are reported dropped); room is made by
   * dropping the oldest queued messages by the drop policy, each counted and reported ("store-full"); and the link
   * is restarted so the broker and the session agree again. Nothing throws out of the turn: a timer must never throw
   * out of the firmware.
   */
  private onStoreFailure(error: Error): void {
    this.counters.storeFailures++;
    const report = new StorageError(`store write failed (${error.message}); the oldest queued messages are dropped to make room`);
    this.defer(() => this.on.onError?.(report));
    this.staged.length = 0;
    const store = this.deps.store;
    if (!store.recover) throw error; // a store that cannot be brought back: nothing to go on with
    try {
      store.recover();
      // A redo cut short by a full partition can leave records that disagree (a flight record without its message):
      // each is deleted and named, as at boot.
      this.session = repairUntil(store, this.deps.logger, () => new Session(store, this.sessionLimits));
    } catch {
      // The store cannot be brought back (its medium is gone, or the power is: on a board nothing runs after that,
      // and the power-cut tests model it by this error going on up). A full store always recovers: see JournaledStore.
      throw error;
    }
    for (const [messageId] of this.enqueuedAt) {
      if (!this.session.has(messageId)) this.reportDropped(messageId, "store-full");
    }
    const victims = this.session.evictForRoom(Math.floor(this.session.storeFootprint * 0.75));
    // The store held less than its capacity said (worn or shared flash, a capacity that lied): learn it, so the queue
    // stays below what just failed instead of filling up to it again.
    this.sessionLimits.storeBudgetBytes = Math.min(this.sessionLimits.storeBudgetBytes ?? Infinity, this.session.storeFootprint);
    try {
      this.session.commit();
    } catch (again) {
      this.deps.logger?.warn(`store still failing after dropping ${victims.length} message(s): ${(again as Error).message}`);
      try {
        store.recover?.();
        this.session = repairUntil(store, this.deps.logger, () => new Session(store, this.sessionLimits));
      } catch {
        // tried again at the next commit
      }
    }
    // Only once their deletes are durable (or staged on a store that could not be brought back): a session rebuilt
    // after a second failure still holds them, and they will be delivered, so they were never dropped.
    for (const victim of victims) if (!this.session.has(victim.messageId)) this.reportDropped(victim.messageId, "store-full", victim);
    if (this.link) this.dropLink("store write failed", report);
  }

  private reportDropped(messageId: number, reason: "queue-full" | "store-full", message?: { topic: string; qos: QoS }): void {
    this.enqueuedAt.delete(messageId);
    this.counters.dropped++;
    const topic = message?.topic ?? "";
    const qos = message?.qos ?? 0;
    this.defer(() => this.on.onDropped?.({ messageId, topic, qos, reason }));
  }

  // -------------------------------------------------------------------------------------------
  // Time: one timer, always armed for the earliest deadline

  /**
   * Keeps one timer armed no later than the earliest deadline. A timer already due earlier is left alone: when it
   * fires, onTimer checks every deadline against the clock and arms again, so a turn costs no timer churn.
   */
  private armTimer(): void {
    const due = this.nextDeadline();
    if (this.timer !== undefined && this.timerDue <= due) return;
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = due;
    if (due === Infinity) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerDue = 0;
      this.onTimer();
      this.endTurn();
    }, Math.max(0, due - this.deps.clock.now()));
  }

  private nextDeadline(): number {
    let due = this.ending ? this.ending.deadline : Infinity;
    if (this.currentState === "waiting") return Math.min(due, this.reconnectAt);
    const link = this.link;
    if (!link) return due;
    if (!link.ready) return Math.min(due, link.startedAt + this.options.connectTimeoutMs);
    const keepAliveMs = this.options.keepAliveSeconds * 1000;
    if (link.pingDeadline) due = Math.min(due, link.pingDeadline);
    else if (keepAliveMs > 0) due = Math.min(due, Math.min(link.lastSent, link.lastReceived) + keepAliveMs);
    const oldest = firstValue(link.sentAt);
    if (oldest !== undefined) due = Math.min(due, oldest + this.options.ackTimeoutMs);
    return due;
  }

  private onTimer(): void {
    const now = this.deps.clock.now();
    if (this.ending && now >= this.ending.deadline) {
      this.deps.logger?.warn(`end(): ${this.session.depth} message(s) not acknowledged within ${this.options.endTimeoutMs} ms; they stay stored`);
      this.finishEnd();
      return;
    }
    if (this.currentState === "waiting") {
      if (now >= this.reconnectAt) this.connect();
      return;
    }
    const link = this.link;
    if (!link) return;
    if (!link.ready) {
      if (now >= link.startedAt + this.options.connectTimeoutMs) {
        this.dropLink("connect timeout", new Error(`no CONNACK within ${this.options.connectTimeoutMs} ms`));
      }
      return;
    }
    if (link.pingDeadline && now >= link.pingDeadline) {
      this.dropLink("keepalive timeout", new Error(`no answer to PINGREQ within ${this.options.pingTimeoutMs} ms`));
      return;
    }
    for (const [packetId, sentAt] of link.sentAt) {
      // Oldest first: the first entry decides.
      if (now - sentAt >= this.options.ackTimeoutMs) {
        // Resending on a live connection is not allowed in 3.1.1 (4.4): presume the link dead and resend after reconnect.
        this.dropLink("ack timeout", new Error(`no acknowledgement for packet id ${packetId} within ${this.options.ackTimeoutMs} ms`));
        return;
      }
      break;
    }
    const keepAliveMs = this.options.keepAliveSeconds * 1000;
    if (keepAliveMs > 0 && !link.pingDeadline && now - Math.min(link.lastSent, link.lastReceived) >= keepAliveMs) {
      link.pingDeadline = now + this.options.pingTimeoutMs;
      this.stage({ type: PacketType.PINGREQ });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Ending

  private checkEnd(): void {
    if (!this.ending) return;
    const link = this.link;
    if (link?.ready && this.session.depth > 0) return; // still delivering
    if (link?.ready) {
      this.stage({ type: PacketType.DISCONNECT });
      this.commitAndWrite(); // before finishEnd() closes the link
    }
    this.finishEnd();
  }

  private finishEnd(): void {
    const ending = this.ending;
    if (!ending || this.currentState === "ended") return;
    this.currentState = "ended";
    const link = this.link;
    this.link = undefined;
    if (link) closeQuietly(link);
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.commitSession();
    for (const callback of ending.callbacks) this.defer(callback);
  }

  // -------------------------------------------------------------------------------------------
  // Events

  private defer(event: () => void): void {
    this.events.push(event);
  }

  private drainEvents(): void {
    if (this.draining || this.events.length === 0) return;
    this.draining = true;
    try {
      // Index walk, not shift(): a turn may carry thousands of events. Events added meanwhile are seen too.
      for (let i = 0; i < this.events.length; i++) this.guard(this.events[i]);
    } finally {
      this.events.length = 0;
      this.draining = false;
    }
  }

  /** A throwing user callback is reported, never allowed to break the client's state. */
  private guard(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      if (this.on.onError) {
        try {
          this.on.onError(error as Error);
        } catch {
          this.deps.logger?.warn(`onError handler threw while reporting: ${(error as Error).message}`);
        }
      } else {
        this.deps.logger?.warn(`event handler threw: ${(error as Error).message}`);
      }
    }
  }
}

/** Closes the link's transport; one that throws because it is already closed has nothing left to release. */
function closeQuietly(link: Link): void {
  try {
    link.transport?.close();
  } catch {
    // already closed
  }
}

/** A failure only a change elsewhere fixes: a refusal that is not "server unavailable", or a permanent transport error. */
function isPermanent(error: Error): boolean {
  if (error instanceof ConnectionRefusedError) return !error.retryable;
  return error instanceof TransportError && error.permanent;
}

/** The first value in insertion order. next() on the iterator, not for-of: on XS that also calls return(), and costs twice. */
function firstValue<K, V>(map: Map<K, V>): V | undefined {
  if (map.size === 0) return undefined;
  const first = map.values().next();
  return first.done ? undefined : first.value;
}

/** Encodes packets into one buffer, so a turn costs one allocation and one transport write however many packets it carries. */
function encodeBatch(packets: Packet[]): Uint8Array {
  if (packets.length === 1) return encode(packets[0]);
  let total = 0;
  for (const packet of packets) total += encodedLength(packet);
  const out = new Uint8Array(total);
  let at = 0;
  for (const packet of packets) at = encodeInto(packet, out, at);
  return out;
}

function assertNever(value: never): never {
  throw new ProtocolError("UNKNOWN", `unhandled packet ${JSON.stringify(value)}`);
}

function resolveOptions(options: ClientOptions): ResolvedOptions {
  if (typeof options.clientId !== "string") throw new ConfigError("clientId", "must be a string");
  if (options.clientId === "" && options.cleanSession !== true) throw new ConfigError("clientId", "must not be empty with a persistent session (cleanSession false) [MQTT-3.1.3-7]");
  const resolved = { ...CLIENT_DEFAULTS, ...stripUndefined(options) } as ResolvedOptions;
  const positive = [
    "connectTimeoutMs", "ackTimeoutMs", "pingTimeoutMs", "maxInflight", "queueMaxMessages", "queueMaxBytes", "backoffBaseMs", "backoffCapMs",
    "fatalRetryMs", "stableConnectionMs", "maxPacketSize", "endTimeoutMs",
  ] as const;
  for (const key of positive) {
    const value = resolved[key];
    if (!Number.isInteger(value) || value <= 0) throw new ConfigError(key, `must be a positive integer, got ${value}`);
  }
  if (!Number.isInteger(resolved.keepAliveSeconds) || resolved.keepAliveSeconds < 0 || resolved.keepAliveSeconds > 65535) {
    throw new ConfigError("keepAliveSeconds", `must be 0..65535, got ${resolved.keepAliveSeconds}`);
  }
  if (resolved.maxInflight > 65535) throw new ConfigError("maxInflight", "must be at most 65535");
  if (resolved.queueMaxMessages <= resolved.maxInflight) {
    throw new ConfigError("queueMaxMessages", `must be larger than maxInflight (${resolved.maxInflight}) so new messages can always be queued`);
  }
  if (!(resolved.queueStoreShare > 0 && resolved.queueStoreShare <= 1)) throw new ConfigError("queueStoreShare", `must be above 0 and at most 1, got ${resolved.queueStoreShare}`);
  if (resolved.backoffCapMs < resolved.backoffBaseMs) throw new ConfigError("backoffCapMs", "must be at least backoffBaseMs");
  if (!["oldest-qos0-first", "oldest", "reject-new"].includes(resolved.dropPolicy)) {
    throw new ConfigError("dropPolicy", `must be "oldest-qos0-first", "oldest" or "reject-new", got "${resolved.dropPolicy}"`);
  }
  if (!["wait-on-fatal", "retry-slowly"].includes(resolved.refusedPolicy)) {
    throw new ConfigError("refusedPolicy", `must be "wait-on-fatal" or "retry-slowly", got "${resolved.refusedPolicy}"`);
  }
  if (resolved.will) validateTopicName(resolved.will.topic, "CONNECT");
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as Array<keyof T>) if (value[key] !== undefined) out[key] = value[key];
  return out;
}
