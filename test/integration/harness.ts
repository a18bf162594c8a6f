// Integration test support: our client on a file store with a power switch, an MQTT.js witness subscriber,
// an in-process aedes that can be closed and rebuilt on the same persistence, and event-driven waits.
import { mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Aedes } from "aedes";
import aedesMemoryPersistence from "aedes-persistence";
import mqtt, { type MqttClient as MqttJsClient } from "mqtt";
import { MqttClient } from "../../src/mqtt/client";
import { MemoryStore } from "../../src/store/memory-store";
import type { ClientOptions } from "../../src/mqtt/client-api";
import type { QoS } from "../../src/mqtt/constants";
import { nodeClock } from "../../src/platform/node/clock";
import { openFlashFileStore } from "../../src/platform/node/flash-file";
import { netTransport } from "../../src/platform/node/net-transport";
import type { Clock, Transport, TransportFactory } from "../../src/ports";

/** The payload of the barrier message: published after every other message completed, so it arrives last. */
export const SENTINEL = "end";
const PROBE = "probe";

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

/**
 * Wakes waiters when something they may be waiting for happened (a message, a delivery, a connect).
 * Every wait has a deadline and says in its error what it was waiting for and what it saw.
 */
export class Progress {
  private readonly waiters = new Set<() => void>();

  notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  until(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }
}

/** For states that raise no event we can hook (a broker's log file): checks every `everyMs`. */
export async function pollUntil(condition: () => boolean, timeoutMs: number, what: string, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

// ---------------------------------------------------------------------------------------------
// Witness: an independent subscriber (MQTT.js) with its own persistent session.

/** Which client the witness is: MQTT.js (independent of the code under test) or our own client on a memory store. */
export type WitnessKind = "mqtt.js" | "ours";

export class Witness {
  /** Times each message index was received. */
  readonly counts = new Map<number, number>();
  sentinels = 0;
  connects = 0;

  private constructor(readonly clientId: string, private readonly progress: Progress, readonly close: () => Promise<void>) {}

  private received(text: string): void {
    if (text === SENTINEL) this.sentinels++;
    else {
      const index = Number(text.slice(text.lastIndexOf(":") + 1));
      this.counts.set(index, (this.counts.get(index) ?? 0) + 1);
    }
    this.progress.notify();
  }

  /** Connects with a persistent session (clean = false) and subscribes `filter` at `qos`; resolves once subscribed. */
  static async start(url: string, clientId: string, filter: string, qos: QoS, progress: Progress, kind: WitnessKind = "mqtt.js"): Promise<Witness> {
    if (kind === "ours") return Witness.startOurs(url, clientId, filter, qos, progress);
    const client = mqtt.connect(url, { clientId, clean: false, protocolVersion: 4, reconnectPeriod: 50, connectTimeout: 10_000, keepalive: 30 });
    const witness = new Witness(clientId, progress, () => new Promise((resolve) => client.end(true, {}, () => resolve())));
    client.on("connect", () => {
      witness.connects++;
      progress.notify();
    });
    client.on("message", (_topic, payload) => witness.received(payload.toString()));
    // Refused connections while the broker restarts are expected; MQTT.js retries on its own.
    client.on("error", () => {});
    await new Promise<void>((resolve, reject) => {
      client.once("connect", () => {
        client.subscribe(filter, { qos }, (error) => (error ? reject(error) : resolve()));
      });
    });
    return witness;
  }

  private static async startOurs(url: string, clientId: string, filter: string, qos: QoS, progress: Progress): Promise<Witness> {
    const port = Number(new URL(url).port);
    let probed = false;
    let witness: Witness | undefined;
    const client = new MqttClient(
      { clientId, keepAliveSeconds: 10, backoffBaseMs: 20, backoffCapMs: 200, connectTimeoutMs: 5_000 },
      { transport: netTransport({ host: "127.0.0.1", port }), clock: gatedClock(), store: new MemoryStore(), random: Math.random },
      {
        onConnect: () => {
          if (witness) witness.connects++;
          progress.notify();
        },
      },
    );
    witness = new Witness(clientId, progress, () => new Promise((resolve) => client.end(resolve)));
    const self = witness;
    client.subscribe(filter, qos, (message) => {
      const text = new TextDecoder().decode(message.payload);
      if (text === PROBE) {
        probed = true;
        progress.notify();
      } else self.received(text);
    });
    client.start();
    // Our client reports no SUBACK: a probe it publishes after SUBSCRIBE, on the same link, comes back once subscribed.
    client.publish(filter.replace(/[#+].*$/, "probe"), PROBE, { qos: 1 });
    await progress.until(() => probed, 10_000, () => "the witness's probe to come back");
    return self;
  }

  get distinct(): number {
    return this.counts.size;
  }

  /** Every index in [0, n) seen at least once. */
  hasAll(n: number): boolean {
    for (let i = 0; i < n; i++) if (!this.counts.has(i)) return false;
    return true;
  }

  missing(n: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (!this.counts.has(i)) out.push(i);
    return out;
  }

  duplicates(): Array<[index: number, times: number]> {
    return [...this.counts].filter(([, times]) => times > 1);
  }

  summary(n: number): string {
    const missing = this.missing(n);
    return `${this.distinct}/${n} distinct (missing ${missing.length}: ${missing.slice(0, 20).join(",")}), ${this.duplicates().length} duplicated, ${this.sentinels} sentinel(s)`;
  }
}

// ---------------------------------------------------------------------------------------------
// Our client on a file store, with a power switch.

export interface PublisherOptions {
  port: number;
  dir: string;
  clientId: string;
  progress: Progress;
  client?: Partial<ClientOptions>;
  /** A filter to subscribe (QoS 1): aedes reports "session present" only for clients holding a subscription. */
  subscribe?: string;
}

/**
 * Our MqttClient over TCP, a file store (fsync off: a commit survives a killed process, which is all these tests
 * do) and the Node clock. `powerOff()` models a power cut between two turns: the socket is torn down, and no
 * callback or timer of this client runs again; the store keeps whatever the last commit wrote. No end(), no DISCONNECT.
 */
export class Publisher {
  readonly client: MqttClient;
  /** message id (publish()'s return) -> message index in the payload. */
  readonly indexOf = new Map<number, number>();
  readonly delivered = new Set<number>();
  readonly errors: Error[] = [];
  connects = 0;
  sessionPresent: boolean[] = [];
  /** Why each link went down, for failure messages. */
  readonly disconnects: string[] = [];
  private alive = true;
  private readonly transports = new Set<Transport>();

  constructor(private readonly options: PublisherOptions) {
    const store = openFlashFileStore(options.dir, { fsync: false, imageBytes: 1024 * 1024 });
    const progress = options.progress;
    const factory = netTransport({ host: "127.0.0.1", port: options.port });
    const transport: TransportFactory = (handlers) => {
      const link = factory({
        onConnect: () => this.alive && handlers.onConnect(),
        onData: (bytes) => this.alive && handlers.onData(bytes),
        onWritable: () => this.alive && handlers.onWritable(),
        onClose: (error) => {
          this.transports.delete(link);
          if (this.alive) handlers.onClose(error);
        },
      });
      this.transports.add(link);
      return link;
    };
    const clock = gatedClock(() => this.alive);
    this.client = new MqttClient(
      {
        clientId: options.clientId,
        keepAliveSeconds: 10,
        connectTimeoutMs: 5_000,
        ackTimeoutMs: 10_000,
        backoffBaseMs: 20,
        backoffCapMs: 200,
        queueMaxMessages: 5_000,
        queueMaxBytes: 1024 * 1024,
        endTimeoutMs: 30_000,
        ...options.client,
      },
      { transport, clock, store, random: Math.random },
      {
        onConnect: ({ sessionPresent }) => {
          this.connects++;
          this.sessionPresent.push(sessionPresent);
          progress.notify();
        },
        onDisconnect: ({ reason, error }) => {
          this.disconnects.push(`${reason}: ${error?.message ?? ""}`);
          progress.notify();
        },
        onDelivered: ({ messageId }) => {
          this.delivered.add(messageId);
          progress.notify();
        },
        onDropped: (info) => this.errors.push(new Error(`message ${info.messageId} dropped: ${info.reason}`)),
        onError: (error) => this.errors.push(error),
      },
    );
  }

  start(): void {
    if (this.options.subscribe) this.client.subscribe(this.options.subscribe, 1, () => {});
    this.client.start();
  }

  publish(topic: string, index: number, qos: QoS, tag: string): number {
    const id = this.client.publish(topic, `${tag}:${index}`, { qos });
    this.indexOf.set(id, index);
    return id;
  }

  /** Indexes whose delivery (PUBACK or PUBCOMP) this client has reported. */
  deliveredIndexes(): number[] {
    return [...this.delivered].map((id) => this.indexOf.get(id)).filter((i): i is number => i !== undefined);
  }

  /** One line on where the client is, for failure messages. */
  describe(): string {
    const c = this.client.counters;
    return `state ${this.client.state}, depth ${this.depth}, sent ${c.sent}, acked ${c.acked}, retried ${c.retried}, reconnects ${c.reconnects}; last disconnects: ${this.disconnects.slice(-3).join(" | ")}`;
  }

  get depth(): number {
    return this.client.queueStats().depth;
  }

  powerOff(): void {
    this.alive = false;
    for (const link of this.transports) link.close();
    this.transports.clear();
  }

  /** Clean stop: waits for everything queued to be acknowledged, then DISCONNECT. */
  end(): Promise<void> {
    return new Promise((resolve) => this.client.end(resolve));
  }
}

/** nodeClock whose callbacks do nothing once `alive()` is false: a "powered off" client must not act again. */
export function gatedClock(alive: () => boolean = () => true): Clock {
  return {
    now: nodeClock.now,
    setTimeout: (callback, ms) => nodeClock.setTimeout(() => {
      if (alive()) callback();
    }, ms),
    clearTimeout: (handle) => nodeClock.clearTimeout(handle),
  };
}

// ---------------------------------------------------------------------------------------------
// aedes in-process: close and rebuild on the same persistence object (which is where sessions live).

export class AedesBroker {
  /** Per client id, how many times aedes accepted each message index from it (its "publish" event, after its own QoS 2 dedup). */
  readonly accepted = new Map<string, Map<number, number>>();
  private broker: Aedes | undefined;
  private server: net.Server | undefined;
  private readonly persistence = aedesMemoryPersistence();
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async start(): Promise<void> {
    // aedes 1.x: createBroker() runs persistence.setup(broker); the same persistence restores every session.
    const broker = await Aedes.createBroker({ persistence: this.persistence });
    broker.on("publish", (packet, client) => {
      if (!client) return;
      const text = packet.payload.toString();
      if (text === SENTINEL || text === PROBE) return;
      let counts = this.accepted.get(client.id);
      if (!counts) this.accepted.set(client.id, (counts = new Map()));
      const index = Number(text.slice(text.lastIndexOf(":") + 1));
      counts.set(index, (counts.get(index) ?? 0) + 1);
    });
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (typeof address !== "object" || !address) throw new Error("aedes: no listening address");
    this.port = address.port;
    this.broker = broker;
    this.server = server;
  }

  /** Closes the broker (its clients are disconnected) and the listener; the persistence object survives. */
  async stop(): Promise<void> {
    const broker = this.broker;
    const server = this.server;
    this.broker = undefined;
    this.server = undefined;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}
