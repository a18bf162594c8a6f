// Assembles the Moddable platform the firmware runs on: clock, transport, store, sensors, network, wall clock, logging.
import type { FirmwarePlatform } from "../../app/firmware";
import type { FirmwareConfig } from "../../config/defaults";
import { brokerPort } from "../../config/parse";
import Resource from "Resource";
import type { Logger } from "../../ports";
import { ModdableClock } from "./clock";
import { openSessionStore } from "./preference-store";
import { createModdableSensor } from "./sensors";
import { defaultDeviceId, freeHeapBytes } from "./system";
import { createSocketTransportFactory } from "./transport";
import { SntpWallClock } from "./wall-clock";
import { StaticNetwork, WiFiLink, type NetworkEvents } from "./wifi";

/** Device id used where the platform has no MAC (the desktop simulator) and config.device_id is empty. */
const DESKTOP_DEVICE_ID = "mcsim";
/** Preference domain of the session store (at most 12 characters; see preference-store). */
const STORE_DOMAIN = "mqtt";
/** The broker's CA certificate (DER) when a build bundles one (docs/moddable.md, TLS); else SecureSocket uses the SDK's certificate store resources. */
const BROKER_CA_RESOURCE = "mqtt-ca.der";
/** TLS 1.2 at least. */
const TLS_MIN_VERSION = 0x303;

function tlsOptions(): Record<string, unknown> {
  return Resource.exists(BROKER_CA_RESOURCE)
    ? { protocolVersion: TLS_MIN_VERSION, certificate: new Resource(BROKER_CA_RESOURCE) }
    : { protocolVersion: TLS_MIN_VERSION };
}

export interface Network {
  readonly up: boolean;
  start(): void;
  stop(): void;
}

export interface ModdablePlatform extends FirmwarePlatform {
  readonly network: Network;
  readonly sntp: SntpWallClock;
}

/** What the platform reports as it happens; wired before network.start(). */
export interface PlatformEvents {
  onNetworkUp?(address: string): void;
  onNetworkDown?(reason: string): void;
  onTimeSynced?(unixMs: number): void;
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
    store: openSessionStore(STORE_DOMAIN, (error) =>
      logger.warn(`session store failed its checks (${error.message}): erased, starting empty; what it held is lost`)),
    transport: createSocketTransportFactory({
      host: config.mqtt_host,
      port: brokerPort(config),
      tls: config.mqtt_tls,
      secure: config.mqtt_tls ? tlsOptions() : undefined,
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
