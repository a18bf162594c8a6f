// The outgoing QoS 1/2 flow as data: the legal states of an in-flight message and the one function that moves between them.
import { ProtocolError } from "../errors";
import { PacketType, packetName } from "./constants";

export const OutState = {
  /** Waiting in the queue; not yet sent in this session (no packet id). */
  Queued: 0,
  /** QoS 1 PUBLISH sent. */
  AwaitPuback: 1,
  /** QoS 2 PUBLISH sent. */
  AwaitPubrec: 2,
  /** QoS 2 PUBREC received and PUBREL sent; the broker owns the message now. */
  AwaitPubcomp: 3,
} as const;
export type OutState = (typeof OutState)[keyof typeof OutState];

export const OUT_STATE_NAMES: readonly string[] = ["queued", "awaiting PUBACK", "awaiting PUBREC", "awaiting PUBCOMP"];

export type OutgoingAckType = typeof PacketType.PUBACK | typeof PacketType.PUBREC | typeof PacketType.PUBCOMP;

export interface AckTransition {
  ack: OutgoingAckType;
  from: OutState;
  /** undefined: the flow is complete and the message leaves the session. */
  to: OutState | undefined;
  /** PUBREL to send in answer (4.3.3). */
  sendPubrel: boolean;
}

/** Every legal acknowledgement of an outgoing message. Anything else is the broker breaking the protocol. */
export const ACK_TRANSITIONS: readonly AckTransition[] = [
  { ack: PacketType.PUBACK, from: OutState.AwaitPuback, to: undefined, sendPubrel: false },
  { ack: PacketType.PUBREC, from: OutState.AwaitPubrec, to: OutState.AwaitPubcomp, sendPubrel: true },
  // A repeated PUBREC (e.g. our PUBREL was lost with a connection) is answered with PUBREL again.
  { ack: PacketType.PUBREC, from: OutState.AwaitPubcomp, to: OutState.AwaitPubcomp, sendPubrel: true },
  { ack: PacketType.PUBCOMP, from: OutState.AwaitPubcomp, to: undefined, sendPubrel: false },
];

/** State after the first transmission of a message of the given QoS. */
export function stateAfterSend(qos: 1 | 2): OutState {
  return qos === 1 ? OutState.AwaitPuback : OutState.AwaitPubrec;
}

/** The transition `ack` makes from `state`; a ProtocolError naming packet, id and state when it is illegal. */
export function applyAck(state: OutState, ack: OutgoingAckType, packetId: number): AckTransition {
  // An index loop: on XS for-of over an array costs an iterator per call, and this runs for every acknowledgement.
  for (let i = 0; i < ACK_TRANSITIONS.length; i++) {
    const transition = ACK_TRANSITIONS[i];
    if (transition.ack === ack && transition.from === state) return transition;
  }
  throw new ProtocolError(
    packetName(ack),
    `packet id ${packetId} is ${OUT_STATE_NAMES[state]}; ${packetName(ack)} is not a legal answer there`,
    "[MQTT-4.3]",
  );
}
