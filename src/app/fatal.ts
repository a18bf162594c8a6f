// When the firmware cannot start (a bad config key, a bad board file, a store or sensor that fails to open): keep the
// network up, say what is wrong on the health topic, and try to start again on a schedule, instead of idling forever.
//
// Rule of every turn: the retry timer either starts the firmware (and the report stops, so the two never share the
// client id) or re-arms itself; the report's client is its own, on a RAM store, so nothing reaches flash.
import { ConfigError } from "../errors";
import { CONFIG_DEFAULTS, type FirmwareConfig } from "../config/defaults";
import { deviceTopics, STATUS_OFFLINE } from "../config/device-topics";
import { ConfigErrors, parseConfig } from "../config/parse";
import { MqttClient } from "../mqtt/client";
import type { Clock, Logger, RandomSource, TimerHandle, TransportFactory } from "../ports";
import { MemoryStore } from "../store/memory-store";

/** How often a failed start is tried again: a store or sensor that failed may have recovered; a config error is re-reported. */
export const FATAL_RETRY_MS = 10 * 60_000;
/** Longest error text put in the status message (a ConfigErrors lists every bad key; a board error can be long). */
const FATAL_TEXT_MAX = 1000;

/**
 * The config to reach the broker with when `raw` does not parse: every key that is valid is kept, every bad one
 * falls back to its default, so a typo in `interval_ms` still lets the device report it through the configured broker.
 */
export function salvageConfig(raw: Record<string, unknown>): FirmwareConfig {
  try {
    return parseConfig(raw);
  } catch (error) {
    if (!(error instanceof ConfigErrors)) return CONFIG_DEFAULTS;
    const bad = new Set(error.errors.map((e) => e.key));
    const kept: Record<string, unknown> = {};
    for (const key of Object.keys(raw)) if (!bad.has(key)) kept[key] = raw[key];
    try {
      return parseConfig(kept);
    } catch {
      // A cross-key rule (a password without its user) failed on what is left: the defaults still reach a local broker.
      return CONFIG_DEFAULTS;
    }
  }
}

/** The retained health payload that says why the device is not running: {"fatal": "...", "retry_s": N}. */
export function fatalStatus(error: unknown, retryMs: number): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const fatal = text.length > FATAL_TEXT_MAX ? `${text.slice(0, FATAL_TEXT_MAX - 3)}...` : text;
  return JSON.stringify({ fatal, retry_s: Math.round(retryMs / 1000) });
}

export interface FatalModeDeps {
  clock: Clock;
  transport: TransportFactory;
  random: RandomSource;
  logger?: Logger;
}

/**
 * Reports `error` as a retained message on the health topic (and "offline" on the status topic, which carries only the
 * availability states) through its own MQTT client (started by networkUp()), and calls
 * `retry` every `retryMs`. `retry` returns true when the firmware started: the report's client then ends (after its
 * message is acknowledged or its end timeout) and the timer stops.
 */
export class FatalMode {
  private readonly client: MqttClient;
  private readonly statusTopic: string;
  private readonly healthTopic: string;
  private timer: TimerHandle | undefined;
  private started = false;
  private done = false;

  constructor(
    private readonly deps: FatalModeDeps,
    config: FirmwareConfig,
    deviceId: string,
    private error: unknown,
    private readonly retry: () => boolean,
    private readonly retryMs = FATAL_RETRY_MS,
  ) {
    if (!Number.isInteger(retryMs) || retryMs <= 0) throw new ConfigError("retryMs", `must be a positive integer, got ${retryMs}`);
    const topics = deviceTopics(config.prefix, deviceId);
    this.statusTopic = topics.status;
    this.healthTopic = topics.health;
    this.client = new MqttClient(
      {
        clientId: deviceId,
        cleanSession: true,
        keepAliveSeconds: config.mqtt_keepalive,
        ...(config.mqtt_user !== "" ? { username: config.mqtt_user } : {}),
        ...(config.mqtt_password !== "" ? { password: config.mqtt_password } : {}),
      },
      { transport: deps.transport, clock: deps.clock, store: new MemoryStore(), random: deps.random, logger: deps.logger },
      { onError: (e) => deps.logger?.warn(`fatal report: ${e.message}`) },
    );
    try {
      this.client.publish(this.statusTopic, STATUS_OFFLINE, { qos: 1, retain: true });
    } catch (error) {
      this.deps.logger?.warn(`fatal report: offline status not queued: ${(error as Error).message}`);
    }
    this.publish();
    this.arm();
  }

  /** The network is up: connect and deliver the report (the client then keeps itself connected). */
  networkUp(): void {
    if (this.started || this.done) return;
    this.started = true;
    this.client.start();
  }

  /** Whether the firmware is running now (a retry succeeded). */
  get recovered(): boolean {
    return this.done;
  }

  private publish(): void {
    try {
      this.client.publish(this.healthTopic, fatalStatus(this.error, this.retryMs), { qos: 1, retain: true });
    } catch (error) {
      this.deps.logger?.warn(`fatal report not queued: ${(error as Error).message}`);
    }
  }

  private arm(): void {
    this.timer = this.deps.clock.setTimeout(() => this.attempt(), this.retryMs);
  }

  private attempt(): void {
    this.timer = undefined;
    let ok = false;
    try {
      ok = this.retry();
    } catch (error) {
      // A retry that throws is the next error to report; never let it out of the timer.
      this.error = error;
    }
    if (ok) {
      this.done = true;
      this.client.end();
      return;
    }
    this.deps.logger?.warn(`start failed again; next try in ${Math.round(this.retryMs / 1000)} s`);
    this.publish();
    this.arm();
  }
}
