// The topics one device publishes and listens on, derived once from prefix and device id.

export interface DeviceTopics {
  /** Telemetry batches (see sampler/payload). */
  readonly telemetry: string;
  /** Retained "online" birth, "offline" will, and (not retained) health JSON. */
  readonly status: string;
  /** Filter for commands: <prefix>/<id>/cmd/+ (one level: cmd/<name>; deeper topics are not commands). */
  readonly commandFilter: string;
  /** Prefix of command topics, ending in "/". */
  readonly commandPrefix: string;
  /** Command replies. */
  readonly reply: string;
}

export const STATUS_ONLINE = "online";
export const STATUS_OFFLINE = "offline";

export function deviceTopics(prefix: string, deviceId: string): DeviceTopics {
  const base = `${prefix}/${deviceId}`;
  return Object.freeze({
    telemetry: `${base}/telemetry`,
    status: `${base}/status`,
    commandFilter: `${base}/cmd/+`,
    commandPrefix: `${base}/cmd/`,
    reply: `${base}/reply`,
  });
}
