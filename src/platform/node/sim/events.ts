// What the simulator reports: one typed event per thing that happened, rendered as text or as one JSON object per line (--json).

/** Every event carries `t`, ms since the simulator started, added by the reporter. */
export type SimEvent =
  /** `subscribe` / `publish`: mosquitto_sub and mosquitto_pub command lines for this broker and device, ready to paste. */
  | { event: "broker"; url: string; embedded: boolean; subscribe: string; publish: string }
  /** `queuedReadings`: readings from before this boot not yet delivered, in queued messages or waiting in the store for their batch. */
  | { event: "boot"; device: string; boot: number; nextSeq: number; queuedMessages: number; queuedReadings: number; dataDir: string }
  | { event: "connected"; device: string; sessionPresent: boolean }
  | { event: "disconnected"; device: string; reason: string; retryInMs?: number }
  /** A telemetry batch handed to the client: readings taken, with seqs first..last. */
  | { event: "reading"; device: string; sensor: string; first: number; last: number; values: { [channel: string]: number } }
  | { event: "delivered"; device: string; topic: string; qos: number; readings: number }
  | { event: "dropped"; device: string; topic: string; readings: number }
  | { event: "link-drop"; device: string }
  | { event: "reboot"; device: string }
  | { event: "info"; device?: string; message: string }
  | { event: "warning"; device?: string; message: string }
  /** A message the embedded broker accepted from a client (or a will it published). */
  | { event: "broker-message"; client: string | null; topic: string; qos: number; retain: boolean; payload: string }
  | ({ event: "status" } & SimStatus)
  /** --samples: this device took its readings and everything queued is delivered. firstSeq..nextSeq-1 are this run's seqs. */
  | { event: "finished"; device: string; boot: number; firstSeq: number; nextSeq: number; taken: number }
  | { event: "exit"; code: number; message: string }
  /** A device's status page is served at url. */
  | { event: "web"; device: string; url: string }
  /** A fleet's status pages are all listed in file (the text output shows only the first few). */
  | { event: "web-list"; devices: number; file: string };

/** Totals over every device of the run. Readings are counted by seq; queued counts client messages (telemetry, status, health). */
export interface SimStatus {
  devices: number;
  connected: number;
  taken: number;
  delivered: number;
  queued: number;
  dropped: number;
  reconnects: number;
  linkDrops: number;
  reboots: number;
  finished: number;
}
