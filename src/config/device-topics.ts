// The topics one device publishes and listens on, derived once from prefix and device id.

export interface DeviceTopics {
  /** Telemetry batches (see sampler/payload). */
  readonly telemetry: string;
  /**
   * Retained "online" birth and "offline" will, nothing else: Home Assistant's discovery configs name it as the
   * availability topic, where any other payload is an unknown availability state.
   */
  readonly status: string;
  /** Health JSON (not retained; see sampler/health). */
  readonly health: string;
  /** Filter for commands: <prefix>/<id>/cmd/<name>. */
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
    health: `${base}/health`,
    commandFilter: `${base}/cmd/#`,
    commandPrefix: `${base}/cmd/`,
    reply: `${base}/reply`,
  });
}
