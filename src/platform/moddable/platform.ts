// Assembles the Moddable platform from the parsed config: clock, transport, store, network, wall clock, board sensors, logging.
import type { Board } from "../../boards/schema";
import { ConfigError } from "../../errors";
import type { FirmwareConfig } from "../../config/defaults";
import { brokerPort } from "../../config/parse";
import type { SessionStore } from "../../store/session-store";
import type { Clock, Logger, RandomSource, TransportFactory } from "../ports";
import { loadBoard } from "./board";
import { ModdableClock } from "./clock";
import { openPreferenceStore } from "./preference-store";
import { createBoardSensors, type BoardSensorInstance } from "./sensors";
import { defaultDeviceId, freeHeapBytes } from "./system";
import { createSocketTransportFactory } from "./transport";
import { SntpWallClock } from "./wall-clock";
import { StaticNetwork, WiFiLink, type NetworkEvents } from "./wifi";

/** Device id used where the platform has no MAC (the desktop simulator) and config.device_id is empty. */
const DESKTOP_DEVICE_ID = "mcsim";
/** Preference domain of the session store (at most 12 characters; see preference-store). */
const STORE_DOMAIN = "mqtt";

export interface Network {
  readonly up: boolean;
  start(): void;
  stop(): void;
}

export interface ModdablePlatform {
  readonly board: Board;
  readonly deviceId: string;
  readonly clock: Clock;
  readonly transport: TransportFactory;
  readonly store: SessionStore;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly sensors: readonly BoardSensorInstance[];
  readonly wallClock: SntpWallClock;
  readonly network: Network;
  freeHeap(): number | undefined;
}

/** Everything the platform tells the app as it happens; wire these before calling network.start(). */
export interface PlatformEvents {
  onNetworkUp?(address: string): void;
  onNetworkDown?(reason: string): void;
  onTimeSynced?(unixMs: number): void;
  onSensorError?(sensorId: string, error: Error): void;
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
 * The board file is the build's (config.board, which manifest.json sets per platform, bundled as board.json).
 * The store is opened here, so a corrupt store throws StorageError at boot naming the key that failed.
 */
export function createModdablePlatform(config: FirmwareConfig, events: PlatformEvents = {}, logger: Logger = traceLogger): ModdablePlatform {
  if (config.board === "") throw new ConfigError("board", "is empty: manifest.json sets it for every platform (e.g. esp32/nodemcu); build with -p <platform>");
  const board = loadBoard(`boards/${config.board}.json`);
  const deviceId = config.device_id !== "" ? config.device_id : defaultDeviceId(DESKTOP_DEVICE_ID);
  const log = (message: string) => logger.info(message);

  // SNTP needs the network, so the network's "up" starts it.
  const wallClock = new SntpWallClock({ hosts: [config.sntp], log }, (unixMs) => events.onTimeSynced?.(unixMs));
  const networkEvents: NetworkEvents = {
    onUp(address) {
      wallClock.start();
      events.onNetworkUp?.(address);
    },
    onDown(reason) {
      events.onNetworkDown?.(reason);
    },
  };
  const network: Network = config.ssid === ""
    ? new StaticNetwork(networkEvents)
    : new WiFiLink({ ssid: config.ssid, password: config.password, log }, networkEvents);

  const sensors = createBoardSensors(board, config.sim_seed, (sensorId, error) => {
    logger.warn(`sensor ${sensorId}: ${error.message}`);
    events.onSensorError?.(sensorId, error);
  });

  return {
    board,
    deviceId,
    clock: new ModdableClock(),
    transport: createSocketTransportFactory({ host: config.mqtt_host, port: brokerPort(config), tls: config.mqtt_tls }),
    store: openPreferenceStore(STORE_DOMAIN),
    random: Math.random,
    logger,
    sensors,
    wallClock,
    network,
    freeHeap: freeHeapBytes,
  };
}
