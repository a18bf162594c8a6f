// The outgoing QoS flow's table and state names, imported afresh inside each test: they are module-level constants,
// which a mutation run switches only in a module loaded after the switch (see docs/reliability.md, "Mutation
// testing"); the client tests import the module once, so the table itself went unchecked.
import { describe, expect, it, vi } from "vitest";
import { PacketType } from "../src/mqtt/constants";
import { thrown } from "./support/thrown";

async function fresh() {
  vi.resetModules();
  return import("../src/mqtt/qos-flow");
}

describe("the outgoing QoS 1/2 flow", () => {
  it("has exactly the four legal acknowledgements, PUBREL answering each PUBREC", async () => {
    const { ACK_TRANSITIONS, OutState } = await fresh();
    expect(ACK_TRANSITIONS).toEqual([
      { ack: PacketType.PUBACK, from: OutState.AwaitPuback, to: undefined, sendPubrel: false },
      { ack: PacketType.PUBREC, from: OutState.AwaitPubrec, to: OutState.AwaitPubcomp, sendPubrel: true },
      { ack: PacketType.PUBREC, from: OutState.AwaitPubcomp, to: OutState.AwaitPubcomp, sendPubrel: true },
      { ack: PacketType.PUBCOMP, from: OutState.AwaitPubcomp, to: undefined, sendPubrel: false },
    ]);
  });

  it("names the state in the refusal of an illegal acknowledgement", async () => {
    const { applyAck, OutState, OUT_STATE_NAMES } = await fresh();
    const { ProtocolError } = await import("../src/errors");
    expect(OUT_STATE_NAMES).toEqual(["queued", "awaiting PUBACK", "awaiting PUBREC", "awaiting PUBCOMP"]);
    // The error class too comes from the fresh import: the table's module and its ProtocolError load together.
    const refusal = (state: number, ack: 4 | 5 | 7) => thrown(ProtocolError, () => applyAck(state as 0, ack, 9)).message;
    expect(refusal(OutState.Queued, PacketType.PUBACK)).toBe("PUBACK: packet id 9 is queued; PUBACK is not a legal answer there [MQTT-4.3]");
    expect(refusal(OutState.AwaitPuback, PacketType.PUBREC)).toBe("PUBREC: packet id 9 is awaiting PUBACK; PUBREC is not a legal answer there [MQTT-4.3]");
    expect(refusal(OutState.AwaitPubrec, PacketType.PUBCOMP)).toBe("PUBCOMP: packet id 9 is awaiting PUBREC; PUBCOMP is not a legal answer there [MQTT-4.3]");
    expect(refusal(OutState.AwaitPubcomp, PacketType.PUBACK)).toBe("PUBACK: packet id 9 is awaiting PUBCOMP; PUBACK is not a legal answer there [MQTT-4.3]");
  });
});
