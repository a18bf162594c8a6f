// The numbers MQTT 3.1.1 defines, named once; no other module writes a packet type or return code as a literal.

export const PacketType = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBSCRIBE: 8,
  SUBACK: 9,
  UNSUBSCRIBE: 10,
  UNSUBACK: 11,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
} as const;
export type PacketTypeCode = (typeof PacketType)[keyof typeof PacketType];

export const PACKET_NAMES: readonly string[] = [
  "RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
  "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "RESERVED",
];

export function packetName(type: number): string {
  return PACKET_NAMES[type & 15] ?? "UNKNOWN";
}

export const PROTOCOL_NAME = "MQTT";
export const PROTOCOL_LEVEL_311 = 4;

/** CONNACK return codes (3.2.2.3). */
export const ConnectReturnCode = {
  ACCEPTED: 0,
  UNACCEPTABLE_PROTOCOL_VERSION: 1,
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_USERNAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;

/** SUBACK return code for a refused subscription (3.9.3). */
export const SUBACK_FAILURE = 0x80;

/** The largest Remaining Length the 4-byte variable encoding can carry (2.2.3). */
export const MAX_REMAINING_LENGTH = 268_435_455;

export type QoS = 0 | 1 | 2;
