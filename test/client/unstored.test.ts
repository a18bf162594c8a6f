// publish option stored: false: the message lives in RAM only; nothing of it (message, flight, counters) is written.
import { describe, expect, it } from "vitest";
import { MqttClient } from "../../src/mqtt/client";
import { PacketType } from "../../src/mqtt/constants";
import { Session } from "../../src/mqtt/session";
import { MemoryStore } from "../../src/store/memory-store";
import { FakeClock } from "../support/fake-clock";
import { ScriptedBroker } from "../support/scripted-broker";

const topic = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const LIMITS = { maxInflight: 4, queueMaxMessages: 10, queueMaxBytes: 10_000, dropPolicy: "oldest" as const };

describe("stored: false", () => {
  it("queues, sends and completes a QoS 1 message without one store write", () => {
    const committed = new Map<string, Uint8Array>();
    const store = new MemoryStore(committed);
    const session = new Session(store, LIMITS);
    const { message } = session.enqueue("t/a", topic("t/a"), Uint8Array.of(1, 2), 1, false, true, false);
    session.commit();
    expect([...committed.keys()]).toEqual([]);
    session.send(session.nextToSend()!, () => false);
    session.commit();
    expect([...committed.keys()]).toEqual([]);
    expect(session.depth).toBe(1);
    expect(session.acknowledge(PacketType.PUBACK, message.packetId).completed).toBe(message);
    session.commit();
    expect([...committed.keys()]).toEqual([]);
    expect(session.depth).toBe(0);
  });

  it("is gone after a reboot, while a stored message beside it is kept", () => {
    const committed = new Map<string, Uint8Array>();
    const session = new Session(new MemoryStore(committed), LIMITS);
    session.enqueue("t/ram", topic("t/ram"), Uint8Array.of(1), 1, false, true, false);
    session.enqueue("t/kept", topic("t/kept"), Uint8Array.of(2), 1, false, true, true);
    session.commit();
    const after = new Session(new MemoryStore(committed), LIMITS);
    expect(after.list().map((m) => m.topic)).toEqual(["t/kept"]);
  });

  it("is refused at QoS 2 (exactly once needs the stored message)", () => {
    const client = new MqttClient({ clientId: "c" }, { transport: new ScriptedBroker().transport, clock: new FakeClock(), store: new MemoryStore(), random: () => 0.5 });
    expect(() => client.publish("t", "x", { qos: 2, stored: false })).toThrow(/QoS 0 and 1/);
    expect(client.publish("t", "x", { qos: 1, stored: false })).toBeGreaterThan(0);
  });
});
