// The 14 MQTT 3.1.1 packets as a discriminated union on `type`, so a switch narrows and is checked for exhaustiveness.
import { PacketType, type QoS } from "./constants";

export interface Will {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
}

export interface ConnectPacket {
  type: typeof PacketType.CONNECT;
  clientId: string;
  cleanSession: boolean;
  /** Seconds; 0 turns keepalive off. */
  keepAlive: number;
  username?: string;
  /** Binary data in 3.1.1; a string is sent as UTF-8. */
  password?: Uint8Array | string;
  will?: Will;
}

export interface ConnackPacket {
  type: typeof PacketType.CONNACK;
  sessionPresent: boolean;
  returnCode: number;
}

export interface PublishPacket {
  type: typeof PacketType.PUBLISH;
  topic: string;
  /**
   * Encoder only: `topic` already validated and UTF-8 encoded (see TopicCache), copied instead of checked and
   * encoded again. It must be exactly the UTF-8 of `topic`. The decoder never sets it.
   */
  topicBytes?: Uint8Array;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** Present exactly when qos > 0. */
  packetId?: number;
}

export interface PubackPacket { type: typeof PacketType.PUBACK; packetId: number }
export interface PubrecPacket { type: typeof PacketType.PUBREC; packetId: number }
export interface PubrelPacket { type: typeof PacketType.PUBREL; packetId: number }
export interface PubcompPacket { type: typeof PacketType.PUBCOMP; packetId: number }

export interface Subscription {
  topic: string;
  qos: QoS;
}

export interface SubscribePacket {
  type: typeof PacketType.SUBSCRIBE;
  packetId: number;
  subscriptions: Subscription[];
}

export interface SubackPacket {
  type: typeof PacketType.SUBACK;
  packetId: number;
  /** Granted QoS per filter, or SUBACK_FAILURE (0x80). */
  granted: number[];
}

export interface UnsubscribePacket {
  type: typeof PacketType.UNSUBSCRIBE;
  packetId: number;
  topics: string[];
}

export interface UnsubackPacket { type: typeof PacketType.UNSUBACK; packetId: number }
export interface PingreqPacket { type: typeof PacketType.PINGREQ }
export interface PingrespPacket { type: typeof PacketType.PINGRESP }
export interface DisconnectPacket { type: typeof PacketType.DISCONNECT }

/** The four acknowledgements that carry only a packet id (plus UNSUBACK, which has the same shape). */
export type AckPacket = PubackPacket | PubrecPacket | PubrelPacket | PubcompPacket | UnsubackPacket;

export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | AckPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket;
