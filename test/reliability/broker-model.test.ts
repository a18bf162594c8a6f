// The broker model's sender-side checks fail on each client bug they are meant to catch (resend without DUP, id reuse,
// resend on the same connection, resends out of order) and accept the legal cases (resend with DUP after a lost ack,
// reuse after the ack was delivered, any id after a clean session).
import { describe, expect, it } from "vitest";
import { PacketType } from "../../src/mqtt/constants";
import type { Packet, PublishPacket } from "../../src/mqtt/packets";
import { BrokerModel, BrokerModelViolation } from "./support/broker-model";

const CONNECT = (cleanSession = false): Packet => ({ type: PacketType.CONNECT, clientId: "c", cleanSession, keepAlive: 60 });
const pub = (id: number, text: string, dup = false, qos: 1 | 2 = 1): PublishPacket => ({
  type: PacketType.PUBLISH, topic: `t/${text}`, payload: new TextEncoder().encode(text), qos, retain: false, dup, packetId: id,
});

/** A model whose answers to `sent` were lost (the link went before they reached the client). */
function lostAcks(model: BrokerModel, ...sent: PublishPacket[]): void {
  model.receive(CONNECT());
  // The model answers but the answers never reach the client: what serve() does when the link is cut after a PUBLISH.
  for (const p of sent) (model as unknown as { answer(p: Packet): Packet[] }).answer(p);
}

describe("broker model checks", () => {
  it("a resend after a lost PUBACK must carry DUP, on a later connection", () => {
    const model = new BrokerModel();
    lostAcks(model, pub(1, "a"));
    model.receive(CONNECT());
    expect(() => model.receive(pub(1, "a", false))).toThrow(BrokerModelViolation);
    expect(model.violations.at(-1)).toMatch(/without DUP \[MQTT-3.3.1-1\]/);

    const ok = new BrokerModel();
    lostAcks(ok, pub(1, "a"));
    ok.receive(CONNECT());
    expect(ok.receive(pub(1, "a", true))).toEqual([{ type: PacketType.PUBACK, packetId: 1 }]);
    expect(ok.violations).toEqual([]);
  });

  it("a resend on the connection that already carried the message is refused", () => {
    const model = new BrokerModel();
    lostAcks(model, pub(1, "a"));
    expect(() => model.receive(pub(1, "a", true))).toThrow(/same|already carried/);
  });

  it("a new message on an id still in use is refused; after the ack was delivered the id is free", () => {
    const model = new BrokerModel();
    lostAcks(model, pub(1, "a"));
    model.receive(CONNECT());
    expect(() => model.receive(pub(1, "b", true))).toThrow(/reuses a packet id still in use by "t\/a" \(QoS 1\) \[MQTT-2.3.1-2\]/);

    const free = new BrokerModel();
    free.receive(CONNECT());
    free.receive(pub(1, "a"));
    expect(() => free.receive(pub(1, "b"))).not.toThrow();
  });

  it("QoS 2: the id stays in use until PUBCOMP reaches the client", () => {
    const model = new BrokerModel("B");
    model.receive(CONNECT());
    model.receive(pub(5, "q2", false, 2));
    expect(() => model.receive(pub(5, "other", false, 2))).toThrow(BrokerModelViolation);
    model.receive({ type: PacketType.PUBREL, packetId: 5 });
    expect(() => model.receive(pub(5, "other", false, 2))).not.toThrow();
  });

  it("resends must come in the order the originals were first sent", () => {
    const model = new BrokerModel();
    lostAcks(model, pub(1, "a"), pub(2, "b"));
    model.receive(CONNECT());
    model.receive(pub(2, "b", true));
    expect(() => model.receive(pub(1, "a", true))).toThrow(/out of the order of the originals \[MQTT-4.6.0-1\]/);

    const inOrder = new BrokerModel();
    lostAcks(inOrder, pub(1, "a"), pub(2, "b"));
    inOrder.receive(CONNECT());
    inOrder.receive(pub(1, "a", true));
    inOrder.receive(pub(2, "b", true));
    expect(inOrder.violations).toEqual([]);
  });

  it("a clean session forgets every id", () => {
    const model = new BrokerModel();
    lostAcks(model, pub(1, "a"));
    model.receive(CONNECT(true));
    expect(() => model.receive(pub(1, "b"))).not.toThrow();
  });
});
