// Builds a client wired to a ScriptedBroker, a FakeClock and a MemoryStore, and records every event it emits.
import { MqttClient } from "../../src/mqtt/client";
import type { ClientOptions, DeliveredInfo, DroppedInfo, IncomingMessage } from "../../src/mqtt/client-api";
import { PacketType } from "../../src/mqtt/constants";
import type { SessionStore } from "../../src/store/session-store";
import { MemoryStore } from "../../src/store/memory-store";
import { FakeClock } from "../support/fake-clock";
import { ScriptedBroker } from "../support/scripted-broker";

export interface Recorded {
  connects: boolean[];
  disconnects: Array<{ reason: string; error?: Error; willReconnectInMs?: number }>;
  messages: IncomingMessage[];
  delivered: DeliveredInfo[];
  dropped: DroppedInfo[];
  errors: Error[];
}

export function makeClient(options: Partial<ClientOptions> = {}, shared?: { clock?: FakeClock; broker?: ScriptedBroker; store?: SessionStore; random?: () => number }) {
  const clock = shared?.clock ?? new FakeClock(1000);
  const broker = shared?.broker ?? new ScriptedBroker();
  const store = shared?.store ?? new MemoryStore();
  const seen: Recorded = { connects: [], disconnects: [], messages: [], delivered: [], dropped: [], errors: [] };
  const client = new MqttClient(
    { clientId: "dev-1", keepAliveSeconds: 60, ...options },
    { transport: broker.transport, clock, store, random: shared?.random ?? (() => 0.5) },
    {
      onConnect: (info) => seen.connects.push(info.sessionPresent),
      onDisconnect: (info) => seen.disconnects.push(info),
      onMessage: (message) => seen.messages.push(message),
      onDelivered: (info) => seen.delivered.push(info),
      onDropped: (info) => seen.dropped.push(info),
      onError: (error) => seen.errors.push(error),
    },
  );
  return { client, clock, broker, store, seen };
}

/** Opens the current link, checks CONNECT, answers CONNACK. */
export function handshake(broker: ScriptedBroker, sessionPresent = false): void {
  broker.link.open();
  broker.link.expect({ type: PacketType.CONNECT });
  broker.link.send({ type: PacketType.CONNACK, sessionPresent, returnCode: 0 });
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** A device that can lose power: each boot() is a new client on the same committed flash, broker and clock. */
export function rebootable(options: Partial<ClientOptions> = {}) {
  const flash = new Map<string, Uint8Array>();
  const broker = new ScriptedBroker();
  const clock = new FakeClock();
  return { flash, broker, clock, boot: () => makeClient(options, { store: new MemoryStore(flash), broker, clock }) };
}
