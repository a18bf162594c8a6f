// The client's own checks of its options, each at its limit and one past it, with the message a user reads. The
// firmware's config parser checks these first, so the mutation run of client.ts found no test reaching the client's
// checks directly; a library user (or a config parser with a gap) meets them here.
import { describe, expect, it } from "vitest";
import { ConfigError, ProtocolError } from "../../src/errors";
import { MqttClient } from "../../src/mqtt/client";
import type { ClientOptions } from "../../src/mqtt/client-api";
import { PacketType as P } from "../../src/mqtt/constants";
import { MemoryStore } from "../../src/store/memory-store";
import { FakeClock } from "../support/fake-clock";
import { ScriptedBroker } from "../support/scripted-broker";
import { thrown } from "../support/thrown";
import { makeClient } from "./harness";

function build(options: Partial<ClientOptions>): MqttClient {
  return new MqttClient({ clientId: "dev-1", ...options } as ClientOptions, { transport: new ScriptedBroker().transport, clock: new FakeClock(), store: new MemoryStore(), random: () => 0.5 });
}

const refusal = (options: Partial<ClientOptions>) => thrown(ConfigError, () => build(options)).message;

describe("client options", () => {
  it("a client id must be a string, and not empty with a persistent session", () => {
    expect(refusal({ clientId: 7 as unknown as string })).toBe('config "clientId": must be a string');
    expect(refusal({ clientId: "" })).toBe('config "clientId": must not be empty with a persistent session (cleanSession false) [MQTT-3.1.3-7]');
    expect(() => build({ clientId: "", cleanSession: true })).not.toThrow();
  });

  it("counts and durations are positive integers", () => {
    for (const key of ["connectTimeoutMs", "ackTimeoutMs", "maxPacketSize", "endTimeoutMs"] as const) {
      expect(refusal({ [key]: 0 })).toBe(`config "${key}": must be a positive integer, got 0`);
      expect(refusal({ [key]: 1.5 })).toBe(`config "${key}": must be a positive integer, got 1.5`);
      expect(() => build({ [key]: 1 })).not.toThrow();
    }
  });

  it("keepalive is 0 to 65535 seconds, whole", () => {
    expect(() => build({ keepAliveSeconds: 0 })).not.toThrow();
    expect(() => build({ keepAliveSeconds: 65535 })).not.toThrow();
    for (const bad of [-1, 65536, 2.5]) expect(refusal({ keepAliveSeconds: bad })).toBe(`config "keepAliveSeconds": must be 0..65535, got ${bad}`);
  });

  it("the window is at most 65535 (the packet ids) and below the queue's length", () => {
    expect(() => build({ maxInflight: 65535, queueMaxMessages: 65536 })).not.toThrow();
    expect(refusal({ maxInflight: 65536, queueMaxMessages: 70_000 })).toBe('config "maxInflight": must be at most 65535');
    expect(refusal({ maxInflight: 8, queueMaxMessages: 8 })).toBe('config "queueMaxMessages": must be larger than maxInflight (8) so new messages can always be queued');
    expect(() => build({ maxInflight: 8, queueMaxMessages: 9 })).not.toThrow();
  });

  it("the queue's share of the store is above 0 and at most 1", () => {
    expect(() => build({ queueStoreShare: 1 })).not.toThrow();
    expect(() => build({ queueStoreShare: 0.01 })).not.toThrow();
    for (const bad of [0, -0.5, 1.01, Number.NaN]) expect(refusal({ queueStoreShare: bad })).toBe(`config "queueStoreShare": must be above 0 and at most 1, got ${bad}`);
  });

  it("the backoff cap is at least its base", () => {
    expect(() => build({ backoffBaseMs: 500, backoffCapMs: 500 })).not.toThrow();
    expect(refusal({ backoffBaseMs: 500, backoffCapMs: 499 })).toBe('config "backoffCapMs": must be at least backoffBaseMs');
  });

  it("drop and refusal policies are one of their names", () => {
    expect(refusal({ dropPolicy: "newest" as "oldest" })).toBe('config "dropPolicy": must be "oldest-qos0-first", "oldest" or "reject-new", got "newest"');
    expect(refusal({ refusedPolicy: "give-up" as "retry-slowly" })).toBe('config "refusedPolicy": must be "wait-on-fatal" or "retry-slowly", got "give-up"');
    for (const dropPolicy of ["oldest-qos0-first", "oldest", "reject-new"] as const) expect(() => build({ dropPolicy })).not.toThrow();
    for (const refusedPolicy of ["wait-on-fatal", "retry-slowly"] as const) expect(() => build({ refusedPolicy })).not.toThrow();
  });

  it("an option left undefined takes its default", () => {
    const { client, broker } = makeClient({ keepAliveSeconds: undefined, cleanSession: undefined });
    client.start();
    broker.link.open();
    broker.link.expect({ type: P.CONNECT, cleanSession: false, keepAlive: 60 });
  });

  it("the will's topic is checked as CONNECT's, and the will is not retained unless asked", () => {
    expect(thrown(ProtocolError, () => build({ will: { topic: "status/#", payload: "offline" } })).message).toBe(
      'CONNECT: topic name "status/#" must not contain wildcards [MQTT-3.3.2-2]',
    );
    const { client, broker } = makeClient({ will: { topic: "status", payload: "offline" } });
    client.start();
    broker.link.open();
    broker.link.expect({ type: P.CONNECT, will: { topic: "status", qos: 0, retain: false } });
  });
});
