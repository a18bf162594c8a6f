// Assembles the Moddable platform the firmware runs on: clock, transport, store, sensors, network, wall clock, logging.
import type { FirmwarePlatform } from "../../app/firmware";
import type { FirmwareConfig } from "../../config/defaults";
import { brokerPort } from "../../config/parse";
import { ConfigError } from "../../errors";
import type { Logger } from "../../ports";
import { ModdableClock } from "./clock";
import { openFlashLogOrReset, type FlashLogStore } from "../../store/flash-log";
import { openPartition, PARTITION_DESCRIPTION } from "platform/moddable/partition";
import { migratePreferenceStore } from "./preference-store";
import { createModdableSensor } from "./sensors";
import { defaultDeviceId, freeHeapBytes } from "./system";
import { parsePins } from "../../tls/pins";
import { createDevicePeerCheck } from "./tls-check";
import { createSocketTransportFactory, deviceTlsSdk } from "./transport";
import { SntpWallClock } from "./wall-clock";
import { StaticNetwork, WiFiLink, type NetworkEvents } from "./wifi";

/** Device id used where the platform has no MAC (the desktop simulator) and config.device_id is empty. */
const DESKTOP_DEVICE_ID = "mcsim";
/** Preference domain where firmware before the flash log kept the session store (migrated once; see preference-store). */
const OLD_STORE_DOMAIN = "mqtt";
/**
 * TLS 1.2 at least. No `certificate` for the SDK: the broker's chain is checked by our own code (tls-check.ts,
 * docs/tls-sdk-flaws.md), which reads mqtt-ca.der itself.
 */
const TLS_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze({ protocolVersion: 0x303 });

export interface Network {
  readonly up: boolean;
  start(): void;
  stop(): void;
}

export interface ModdablePlatform extends FirmwarePlatform {
  /** The flash log itself (the status page reads its wear figures from it). */
  readonly store: FlashLogStore;
  readonly network: Network;
  readonly sntp: SntpWallClock;
}

/** What the platform reports as it happens; wired before network.start(). */
export interface PlatformEvents {
  onNetworkUp?(address: string): void;
  onNetworkDown?(reason: string): void;
  onTimeSynced?(unixMs: number): void;
}

/**
 * The session store: the flash log on its own partition (ESP32) or image file (mcsim). A damaged log is reported,
 * erased and opened empty; a failing block is retired and reported, never fatal; an NVS store of an earlier firmware
 * is moved in once.
 */
function openStore(logger: Logger): FlashLogStore {
  const onReset = (error: Error) => logger.warn(`session store failed its checks (${error.message}): erased, starting empty; what it held is lost`);
  const store = openFlashLogOrReset(openPartition(), onReset, {
    onRetire: (block, reason) => logger.warn(`session store: ${PARTITION_DESCRIPTION} block ${block} retired (${reason}); going on with fewer blocks`),
  });
  const moved = migratePreferenceStore(OLD_STORE_DOMAIN, store, onReset);
  if (moved > 0) logger.info(`session store: moved ${moved} value(s) from NVS (preference domain "${OLD_STORE_DOMAIN}") to the ${PARTITION_DESCRIPTION}`);
  return store;
}

export const traceLogger: Logger = {
  info(message: string) {
    trace(`${message}\n`);
  },
  warn(message: string) {
    trace(`warning: ${message}\n`);
  },
};

/**
 * `config` is the parsed firmware config (the Device parses the same raw keys again with the same code).
 * The session store is opened and verified here: a corrupt one is reported (naming the key), erased and opened empty.
 * Nothing touches the network until `network.start()`.
 */
export function createModdablePlatform(config: FirmwareConfig, events: PlatformEvents = {}, logger: Logger = traceLogger): ModdablePlatform {
  // The store first: it is what may throw (no partition), and nothing that starts a timer may be built before it, or
  // every retry of a failed start would leave one more timer behind.
  const store = openStore(logger);
  const log = (message: string) => logger.info(message);
  const sntp = new SntpWallClock({ hosts: [config.sntp], log }, (unixMs) => events.onTimeSynced?.(unixMs));
  const networkEvents: NetworkEvents = {
    onUp(address) {
      // SNTP needs the network; it keeps re-syncing by itself from here on.
      sntp.start();
      events.onNetworkUp?.(address);
    },
    onDown(reason) {
      events.onNetworkDown?.(reason);
    },
  };
  const network: Network = config.ssid === ""
    ? new StaticNetwork(networkEvents)
    : new WiFiLink({ ssid: config.ssid, password: config.password, log }, networkEvents);

  return {
    clock: new ModdableClock(),
    store,
    transport: createSocketTransportFactory({
      host: config.mqtt_host,
      port: brokerPort(config),
      tls: config.mqtt_tls,
      secure: config.mqtt_tls ? { ...TLS_OPTIONS } : undefined,
      peerCheck: config.mqtt_tls ? createDevicePeerCheck({ host: config.mqtt_host, pins: brokerPins(config), now: () => sntp.now() }, deviceTlsSdk) : undefined,
    }),
    random: Math.random,
    wallClock: () => sntp.now(),
    freeHeap: freeHeapBytes,
    logger,
    defaultDeviceId: defaultDeviceId(DESKTOP_DEVICE_ID),
    createSensor: (spec, board, sensorConfig, boot) => createModdableSensor(spec, board, sensorConfig, boot, logger),
    network,
    sntp,
  };
}

/** mqtt_pin_sha256 as digests. The parser already refused bad text; a bad pin never silently falls back to the CA. */
function brokerPins(config: FirmwareConfig): Uint8Array[] {
  const pins = parsePins(config.mqtt_pin_sha256);
  if (typeof pins === "string") throw new ConfigError("mqtt_pin_sha256", pins);
  return pins;
}
