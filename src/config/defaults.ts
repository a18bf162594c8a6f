// The firmware's flat config keys: one frozen defaults object and the documentation of every key.
// Flat because mcconfig `key=value` overrides reach mc/config only as top-level strings.

/** The parsed, validated firmware config. Every field is always present. */
export interface FirmwareConfig {
  /** Wi-Fi network name; "" on platforms without Wi-Fi (desktop, mcsim). */
  readonly ssid: string;
  /** Wi-Fi passphrase; "" for an open network. */
  readonly password: string;
  /** Broker host name or IP address. */
  readonly mqtt_host: string;
  /** Broker TCP port; 0 picks 1883, or 8883 when mqtt_tls is on. */
  readonly mqtt_port: number;
  /** TLS to the broker (SecureSocket on device). */
  readonly mqtt_tls: boolean;
  /**
   * TLS: SHA-256 of the broker's public key (SubjectPublicKeyInfo), 64 hex digits or base64, comma separated for a
   * rollover; "" trusts the CA in mqtt-ca.der (or the SDK's store) instead. See docs/tls.md.
   */
  readonly mqtt_pin_sha256: string;
  /** MQTT user name; "" sends none. */
  readonly mqtt_user: string;
  /** MQTT password; needs mqtt_user [MQTT-3.1.2-22]. */
  readonly mqtt_password: string;
  /** Keep-alive in seconds, 0 turns it off (3.1.2.10). */
  readonly mqtt_keepalive: number;
  /** QoS of telemetry and status (command replies always go at QoS 0). */
  readonly mqtt_qos: 0 | 1 | 2;
  /**
   * Largest incoming MQTT packet accepted, bytes (the client's maxPacketSize). What we subscribe to (commands, at
   * most 512 B of payload) needs under 1 KB. On a board the packet is assembled in the XS chunk heap (nodemcu: 78,848
   * B in all, ~50 KB free when idle): the client's desktop default of 64 KB would not fit, hence 4 KB.
   */
  readonly mqtt_max_packet: number;
  /** Device id used in topics and as the MQTT client id; "" means the platform's (the Wi-Fi MAC on device). */
  readonly device_id: string;
  /** First topic level(s) of every device topic. */
  readonly prefix: string;
  /** Sampling interval of every sensor, ms (a command can change it per sensor). */
  readonly interval_ms: number;
  /** Default deadband of every channel: "0.2" (absolute, in the channel's unit) or "1%" (of the last reported value); "0" reports every sample. */
  readonly deadband: string;
  /** Publish a reading at least this often even without change, s; 0 turns the heartbeat off. */
  readonly heartbeat_s: number;
  /** Readings packed into one telemetry PUBLISH at most. 1 turns batching off. */
  readonly batch_max: number;
  /** How long the first reading of a batch may wait for others, ms (while online). */
  readonly batch_window_ms: number;
  /** Messages the MQTT client keeps queued while offline (its queueMaxMessages). */
  readonly queue_max: number;
  /** Readings held back before the wall clock is set so they can be stamped; beyond this they go out with boot-relative time only. */
  readonly presync_max: number;
  /** Health telemetry period on the status topic, s; 0 turns it off. */
  readonly health_s: number;
  /** Publish retained Home Assistant discovery configs. */
  readonly ha_discovery: boolean;
  /** Home Assistant discovery prefix. */
  readonly ha_prefix: string;
  /** Board file name (boards/<board>.json, "/" allowed: "esp32/nodemcu"); "" means the build's subplatform. */
  readonly board: string;
  /** SNTP server used to set the wall clock on device. */
  readonly sntp: string;
  /** Seed of the simulated sensors (desktop and the Node simulator). */
  readonly sim_seed: number;
  /** TCP port of the status page on the device (80); 0 turns the page off. The Node simulator picks a free port instead. */
  readonly web_port: number;
  /** Password that allows settings changes from the status page (HTTP Basic, any user name); "" keeps the page read-only. */
  readonly web_password: string;
}

export type ConfigKey = keyof FirmwareConfig;

export const CONFIG_DEFAULTS: Readonly<FirmwareConfig> = Object.freeze({
  ssid: "",
  password: "",
  mqtt_host: "127.0.0.1",
  mqtt_port: 0,
  mqtt_tls: false,
  mqtt_pin_sha256: "",
  mqtt_user: "",
  mqtt_password: "",
  mqtt_keepalive: 60,
  mqtt_qos: 1,
  mqtt_max_packet: 4096,
  device_id: "",
  prefix: "xsms",
  interval_ms: 10_000,
  deadband: "0",
  heartbeat_s: 300,
  batch_max: 10,
  batch_window_ms: 60_000,
  queue_max: 500,
  presync_max: 60,
  health_s: 300,
  ha_discovery: false,
  ha_prefix: "homeassistant",
  board: "",
  sntp: "pool.ntp.org",
  sim_seed: 1,
  web_port: 80,
  web_password: "",
});

/** Every key, in documentation order. */
export const CONFIG_KEYS: readonly ConfigKey[] = Object.freeze(Object.keys(CONFIG_DEFAULTS) as ConfigKey[]);

/** MQTT's well-known ports, used when mqtt_port is 0. */
export const MQTT_PORT = 1883;
export const MQTT_TLS_PORT = 8883;
