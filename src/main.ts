// Firmware entry on Moddable: reads mc/config and the bundled board file, builds the platform and runs the firmware.
// A start that fails (bad config, board, store or sensor) never leaves the device idle: it reports on the status topic
// and tries again on a schedule (app/fatal).
import config from "mc/config";
import { FatalMode, salvageConfig } from "app/fatal";
import { Firmware } from "app/firmware";
import { ConfigError } from "./errors";
import type { FirmwareConfig } from "config/defaults";
import { firmwareKeys, parseConfig } from "config/parse";
import { readBoardFile } from "platform/moddable/board";
import { createModdablePlatform, traceLogger, type ModdablePlatform } from "platform/moddable/platform";
import { freeHeapBytes, wifiRssi, xsMemory } from "platform/moddable/system";
import { pageFromResource, startWebServer, type WebServer } from "platform/moddable/web-server";
import { FIRMWARE_VERSION } from "app/version";
import { StatusPage } from "web/status-page";
import Timer from "timer";

/** A platform that cannot even be built (no network, no store) is tried again after this long. */
const PLATFORM_RETRY_MS = 60_000;

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function main(): void {
  const rawConfig = firmwareKeys(config as Record<string, unknown>);
  // Parsed once, here; the Device gets the result. A bad config still yields one that can reach the broker to say so.
  let settings: FirmwareConfig;
  let configError: unknown;
  try {
    settings = parseConfig(rawConfig);
  } catch (error) {
    configError = error;
    settings = salvageConfig(rawConfig);
  }

  let firmware: Firmware | undefined;
  let fatal: FatalMode | undefined;
  let clientStarted = false;
  let webServer: WebServer | undefined;
  let platform: ModdablePlatform;

  /** The status page, once the firmware runs and the network is up (web_port 0: never). A failure leaves it off, nothing else. */
  const serveStatusPage = (address: string): void => {
    if (firmware === undefined || webServer !== undefined || settings.web_port === 0) return;
    try {
      const page = new StatusPage({
        firmware,
        page: pageFromResource(),
        password: settings.web_password,
        extras: {
          version: FIRMWARE_VERSION,
          wifiRssi: settings.ssid === "" ? undefined : wifiRssi,
          freeHeap: freeHeapBytes,
          xsMemory,
          storeWear: () => platform.store.stats(),
        },
        logger: traceLogger,
      });
      webServer = startWebServer(page, settings.web_port, platform.clock, traceLogger);
      traceLogger.info(`status page: http://${address || "127.0.0.1"}${settings.web_port === 80 ? "" : `:${settings.web_port}`}/`);
    } catch (error) {
      // Port taken or no memory: the page is off; sampling and publishing go on.
      traceLogger.warn(`status page not started on port ${settings.web_port}: ${describe(error)}`);
    }
  };

  try {
    platform = createModdablePlatform(settings, {
      onNetworkUp(address) {
        traceLogger.info(`network up${address ? ` (${address})` : ""}`);
        // The client reconnects by itself after any later loss; it only needs the network once to begin.
        if (firmware !== undefined && !clientStarted) {
          clientStarted = true;
          firmware.client.start();
        }
        fatal?.networkUp();
        serveStatusPage(address);
      },
      onNetworkDown: (reason) => traceLogger.warn(`network down: ${reason}`),
      onTimeSynced(unixMs) {
        traceLogger.info(`wall clock ${new Date(unixMs).toISOString()}`);
        firmware?.device.sampler.timeSynced();
      },
    });
  } catch (error) {
    trace(`fatal: ${describe(error)}; trying again in ${PLATFORM_RETRY_MS / 1000} s\n`);
    Timer.set(run, PLATFORM_RETRY_MS);
    return;
  }

  /** Builds and starts the firmware; throws what stops it. */
  const start = (): void => {
    if (configError !== undefined) throw configError;
    if (settings.board === "") throw new ConfigError("board", "is empty: manifest.json sets it for every platform it supports; build with -p lin or -p esp32/<board>");
    const boardFile = `boards/${settings.board}.json`;
    firmware = new Firmware({ config: rawConfig, parsed: settings, board: readBoardFile(boardFile), boardFile }, platform, {
      onConnect: ({ sessionPresent }) => traceLogger.info(`MQTT connected to ${settings.mqtt_host} (session present: ${sessionPresent})`),
      onDisconnect: ({ reason, error, willReconnectInMs }) =>
        traceLogger.warn(`MQTT disconnected: ${reason}${error ? ` (${error.message})` : ""}${willReconnectInMs === undefined ? "" : `; retry in ${willReconnectInMs} ms`}`),
      onError: (error) => traceLogger.warn(`MQTT: ${error.message}`),
    });
    const device = firmware.device;
    traceLogger.info(`device ${device.deviceId} on ${device.board.name}: telemetry to ${device.topics.telemetry}`);
    // Sampling starts now, online or not: readings taken before the link is up are queued durably.
    device.start();
    if (platform.network.up && !clientStarted) {
      clientStarted = true;
      firmware.client.start();
    }
    if (platform.network.up) serveStatusPage("");
  };

  try {
    start();
  } catch (error) {
    // A bad config key, board file or corrupt store: say what to fix, on the console and (once the network is up) on
    // the status topic, and try again on a schedule.
    firmware = undefined;
    trace(`fatal: ${describe(error)}\n`);
    const deviceId = settings.device_id !== "" ? settings.device_id : platform.defaultDeviceId;
    fatal = new FatalMode(platform, settings, deviceId, error, () => {
      try {
        start();
        return true;
      } catch (again) {
        firmware = undefined;
        trace(`fatal: ${describe(again)}\n`);
        throw again;
      }
    });
  }
  // Only the network is retried here: the firmware above is already running, and run()'s retry would build a second
  // one beside it. The ESP32 Wi-Fi driver throws "out of memory" when it cannot allocate its monitor.
  const startNetwork = (): void => {
    try {
      platform.network.start();
    } catch (error) {
      trace(`fatal: the network did not start (${describe(error)}); trying again in ${PLATFORM_RETRY_MS / 1000} s\n`);
      Timer.set(startNetwork, PLATFORM_RETRY_MS);
    }
  };
  startNetwork();
}

function run(): void {
  try {
    main();
  } catch (error) {
    // Nothing above should throw; if it does, the device still tries again rather than idle.
    trace(`fatal: ${describe(error)}; trying again in ${PLATFORM_RETRY_MS / 1000} s\n`);
    Timer.set(run, PLATFORM_RETRY_MS);
  }
}

run();
