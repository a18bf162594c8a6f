// A well-behaved broker for reliability tests: answers every packet as MQTT 3.1.1 requires and records what it
// delivers onward in a witness list, keeping its session (QoS 2 receiver state) across the client's reconnects.
import { decodeUtf8 } from "../../../src/mqtt/utf8";
import { PacketType, type QoS } from "../../../src/mqtt/constants";
import type { Packet, PublishPacket } from "../../../src/mqtt/packets";
import type { ScriptedLink } from "../../support/scripted-broker";

/**
 * The two receiver methods of the QoS 2 flow (MQTT 3.1.1, 4.3.3, Figure 4.3). Both give exactly-once onward delivery
 * provided the sender never reuses a packet id for a new message before PUBCOMP:
 * - "B": on PUBLISH, store the packet id and deliver onward the first time the id is seen; a PUBLISH whose id is
 *   stored is a duplicate (DUP resend) and is only answered with PUBREC. PUBREL discards the id. After PUBREL a
 *   PUBLISH with that id is a new message, so a sender that resent a PUBLISH it had already seen PUBREC for would
 *   cause a duplicate: the client must persist "PUBREC received" before it writes PUBREL.
 * - "A": on PUBLISH, store the message by packet id (a duplicate keeps the stored one); deliver onward at PUBREL and
 *   discard it. A PUBREL for an id not stored delivers nothing and is answered with PUBCOMP (it was delivered by an
 *   earlier PUBREL whose PUBCOMP was lost).
 * (The brief that asked for this model wrote "method B: store id, deliver at PUBREL"; that mixes the two methods, so
 * both are modelled exactly as the figure has them and the fault matrix runs against each.)
 */
export type Qos2Method = "A" | "B";

export interface ServeOptions {
  cutAt?: number;
  silentCut?: boolean;
  afterEvent?: (event: number) => void;
}

export interface Delivery {
  topic: string;
  text: string;
  qos: QoS;
  packetId: number | undefined;
}

/** A rule of the sender's side of MQTT 3.1.1 the client broke; thrown out of receive()/serve() so no test misses it. */
export class BrokerModelViolation extends Error {
  override readonly name = "BrokerModelViolation";
}

/** A QoS 1/2 PUBLISH the broker has received and not yet completed towards the client (PUBACK or PUBCOMP delivered). */
interface Outstanding {
  topic: string;
  payload: string;
  qos: QoS;
  /** Order of first arrival among all messages: resends must keep it. */
  order: number;
  /** The connection (CONNECT count) it last arrived on. */
  connection: number;
}

/**
 * Besides answering, the model checks what the client sends against the sender's rules, per packet id that is
 * outstanding (received, its PUBACK or PUBCOMP not yet delivered to the client):
 * - a PUBLISH with an outstanding id and the same message is a resend: it must carry DUP=1 [MQTT-3.3.1-1] and come
 *   on a later connection (3.1.1 resends only on reconnect, 4.4), and resends come in the order the originals were
 *   first sent [MQTT-4.6.0-1];
 * - a PUBLISH with an outstanding id and another message reuses an id still in use [MQTT-2.3.1-2].
 * A clean session discards the state. Ids whose completing ack was lost with the link stay outstanding: the client
 * cannot know the broker's side, so it must resend them with DUP.
 */
export class BrokerModel {
  /** Every message delivered onward, in order: what a subscriber would see. */
  readonly witness: Delivery[] = [];
  /** Answer CONNACK with this session-present flag whatever the history; undefined models a real broker. */
  forceSessionPresent: boolean | undefined;
  private hasSession = false;
  private readonly qos2Ids = new Set<number>();
  private readonly qos2Stored = new Map<number, PublishPacket>();
  private readonly opened = new WeakSet<ScriptedLink>();
  private readonly events = new Map<ScriptedLink, number>();
  /** Every rule the client broke, in order (each one is also thrown). */
  readonly violations: string[] = [];
  private readonly outstanding = new Map<number, Outstanding>();
  private connection = 0;
  private arrivals = 0;
  /** Order of the last resend on the current connection. */
  private lastResendOrder = -1;

  constructor(readonly method: Qos2Method = "B") {}

  /** The packets the broker answers `packet` with, counted as delivered to the client (serve() counts only the sent). */
  receive(packet: Packet): Packet[] {
    const answers = this.answer(packet);
    for (const answer of answers) this.sent(answer);
    return answers;
  }

  private answer(packet: Packet): Packet[] {
    switch (packet.type) {
      case PacketType.CONNECT: {
        this.connection++;
        this.lastResendOrder = -1;
        if (packet.cleanSession) {
          this.qos2Ids.clear();
          this.qos2Stored.clear();
          this.outstanding.clear();
        }
        const present = this.forceSessionPresent ?? (!packet.cleanSession && this.hasSession);
        this.hasSession = !packet.cleanSession;
        return [{ type: PacketType.CONNACK, sessionPresent: present, returnCode: 0 }];
      }
      case PacketType.PUBLISH:
        return this.onPublish(packet);
      case PacketType.PUBREL: {
        if (this.method === "B") {
          this.qos2Ids.delete(packet.packetId);
        } else {
          const stored = this.qos2Stored.get(packet.packetId);
          if (stored) this.deliver(stored);
          this.qos2Stored.delete(packet.packetId);
        }
        return [{ type: PacketType.PUBCOMP, packetId: packet.packetId }];
      }
      case PacketType.SUBSCRIBE:
        return [{ type: PacketType.SUBACK, packetId: packet.packetId, granted: packet.subscriptions.map((s) => s.qos) }];
      case PacketType.UNSUBSCRIBE:
        return [{ type: PacketType.UNSUBACK, packetId: packet.packetId }];
      case PacketType.PINGREQ:
        return [{ type: PacketType.PINGRESP }];
      default:
        // DISCONNECT, and acks for messages the broker would send (it sends none here).
        return [];
    }
  }

  /**
   * Serves `link` until the client has nothing more to say: opens it the first time, delivers each packet the client
   * wrote and writes the answers, each packet one event. When the event counter of this link reaches `cutAt` that
   * packet is lost and the link cut (returns "cut"): the client is told (onClose), or with `silentCut` it is not (the
   * device died; nothing of it runs any more). `afterEvent` runs after each delivered event (the test may publish from
   * there). Exceptions from the client side (a power cut inside the client) propagate.
   */
  serve(link: ScriptedLink, options: ServeOptions = {}): "idle" | "cut" | "closed" {
    const cutAt = options.cutAt ?? Infinity;
    if (!this.opened.has(link)) {
      this.opened.add(link);
      link.open();
    }
    const count = (): number | "cut" => {
      const event = this.events.get(link) ?? 0;
      if (event >= cutAt) {
        if (options.silentCut) link.closed = true;
        else link.cut();
        return "cut";
      }
      this.events.set(link, event + 1);
      return event;
    };
    const afterEvent = options.afterEvent;
    for (;;) {
      if (link.closed) return "closed";
      const packet = link.written.shift();
      if (!packet) return "idle";
      const inbound = count();
      if (inbound === "cut") return "cut";
      afterEvent?.(inbound);
      for (const answer of this.answer(packet)) {
        if (link.closed) return "closed";
        const outbound = count();
        if (outbound === "cut") return "cut";
        this.sent(answer);
        link.send(answer);
        afterEvent?.(outbound);
      }
    }
  }

  /** True once serve() has opened `link`: a link the test opened itself belongs to another (misbehaving) broker. */
  owns(link: ScriptedLink): boolean {
    return this.opened.has(link);
  }

  /** Events (packets either way) seen on `link` so far. */
  eventsOn(link: ScriptedLink): number {
    return this.events.get(link) ?? 0;
  }

  /** Texts delivered onward, with their count. */
  counts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const d of this.witness) out.set(d.text, (out.get(d.text) ?? 0) + 1);
    return out;
  }

  /** The client got `answer`: a PUBACK or PUBCOMP completes its id, which the client may then reuse. */
  private sent(answer: Packet): void {
    if (answer.type === PacketType.PUBACK || answer.type === PacketType.PUBCOMP) this.outstanding.delete(answer.packetId);
  }

  private violation(message: string): never {
    this.violations.push(message);
    throw new BrokerModelViolation(message);
  }

  /** Checks a QoS 1/2 PUBLISH against the ids outstanding, then records it. */
  private checkPublish(packet: PublishPacket, id: number): void {
    const payload = toHexText(packet.payload);
    const seen = this.outstanding.get(id);
    const what = `PUBLISH id ${id} ("${packet.topic}", QoS ${packet.qos})`;
    if (seen === undefined) {
      this.outstanding.set(id, { topic: packet.topic, payload, qos: packet.qos, order: this.arrivals++, connection: this.connection });
      return;
    }
    if (seen.topic !== packet.topic || seen.payload !== payload || seen.qos !== packet.qos) {
      this.violation(`${what} reuses a packet id still in use by "${seen.topic}" (QoS ${seen.qos}) [MQTT-2.3.1-2]`);
    }
    if (seen.connection === this.connection) this.violation(`${what} resent on the connection that already carried it (4.4)`);
    if (!packet.dup) this.violation(`${what} resent without DUP [MQTT-3.3.1-1]`);
    if (seen.order < this.lastResendOrder) this.violation(`${what} resent out of the order of the originals [MQTT-4.6.0-1]`);
    this.lastResendOrder = seen.order;
    seen.connection = this.connection;
  }

  private onPublish(packet: PublishPacket): Packet[] {
    const id = packet.packetId as number;
    if (packet.qos === 0) {
      this.deliver(packet);
      return [];
    }
    this.checkPublish(packet, id);
    if (packet.qos === 1) {
      this.deliver(packet); // at least once: every PUBLISH, duplicates included, goes onward
      return [{ type: PacketType.PUBACK, packetId: id }];
    }
    if (this.method === "B") {
      if (!this.qos2Ids.has(id)) {
        this.qos2Ids.add(id);
        this.deliver(packet);
      }
    } else if (!this.qos2Stored.has(id)) {
      this.qos2Stored.set(id, packet);
    }
    return [{ type: PacketType.PUBREC, packetId: id }];
  }

  private deliver(packet: PublishPacket): void {
    this.witness.push({ topic: packet.topic, text: decodeUtf8(packet.payload), qos: packet.qos, packetId: packet.packetId });
  }
}

function toHexText(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}
