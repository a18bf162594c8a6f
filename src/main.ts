// Firmware entry on Moddable: reads mc/config and the bundled board file, builds the platform and runs the firmware.
import config from "mc/config";
import { Firmware } from "app/firmware";
import { ConfigError } from "./errors";
import { parseConfig } from "config/parse";
import { readBoardFile } from "platform/moddable/board";
import { createModdablePlatform, traceLogger } from "platform/moddable/platform";
import { freeHeapBytes, wifiRssi, xsMemory } from "platform/moddable/system";
import { pageFromResource, startWebServer, type WebServer } from "platform/moddable/web-server";
import { FIRMWARE_VERSION } from "app/version";
import { StatusPage } from "web/status-page";

/**
 * mc/config also carries keys the SDK's own manifests set: objects (`file`, `tls`) and, on the desktop, the
 * screen `format`. Those are left out; every other key goes to the parser, so a mistyped key is still reported.
 */
const SDK_SCALAR_KEYS: readonly string[] = ["format"];

function firmwareKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    if (typeof value === "object" || SDK_SCALAR_KEYS.indexOf(key) !== -1) continue;
    out[key] = value;
  }
  return out;
}

function main(): void {
  const rawConfig = firmwareKeys(config as Record<string, unknown>);
  const settings = parseConfig(rawConfig);
  if (settings.board === "") throw new ConfigError("board", "is empty: manifest.json sets it for every platform it supports; build with -p lin or -p esp32/<board>");
  const boardFile = `boards/${settings.board}.json`;

  let firmware: Firmware | undefined;
  let clientStarted = false;
  let statusPage: StatusPage | undefined;
  let webServer: WebServer | undefined;
  const platform = createModdablePlatform(settings, {
    onNetworkUp(address) {
      traceLogger.info(`network up${address ? ` (${address})` : ""}`);
      // The client reconnects by itself after any later loss; it only needs the network once to begin.
      if (firmware !== undefined && !clientStarted) {
        clientStarted = true;
        firmware.client.start();
      }
      if (statusPage !== undefined && webServer === undefined) {
        try {
          webServer = startWebServer(statusPage, settings.web_port, platform.clock, traceLogger);
          traceLogger.info(`status page: http://${address || "127.0.0.1"}${settings.web_port === 80 ? "" : `:${settings.web_port}`}/`);
        } catch (error) {
          // Port taken or no memory: the page is off, sampling and publishing go on.
          traceLogger.warn(`status page not started on port ${settings.web_port}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    },
    onNetworkDown: (reason) => traceLogger.warn(`network down: ${reason}`),
    onTimeSynced(unixMs) {
      traceLogger.info(`wall clock ${new Date(unixMs).toISOString()}`);
      firmware?.device.sampler.timeSynced();
    },
  });

  firmware = new Firmware({ config: rawConfig, board: readBoardFile(boardFile), boardFile }, platform, {
    onConnect: ({ sessionPresent }) => traceLogger.info(`MQTT connected to ${settings.mqtt_host} (session present: ${sessionPresent})`),
    onDisconnect: ({ reason, error, willReconnectInMs }) =>
      traceLogger.warn(`MQTT disconnected: ${reason}${error ? ` (${error.message})` : ""}${willReconnectInMs === undefined ? "" : `; retry in ${willReconnectInMs} ms`}`),
    onError: (error) => traceLogger.warn(`MQTT: ${error.message}`),
  });
  const device = firmware.device;
  if (settings.web_port !== 0) {
    statusPage = new StatusPage({
      firmware,
      page: pageFromResource(),
      password: settings.web_password,
      extras: { version: FIRMWARE_VERSION, wifiRssi: settings.ssid === "" ? undefined : wifiRssi, freeHeap: freeHeapBytes, xsMemory },
      logger: traceLogger,
    });
  }
  traceLogger.info(`device ${device.deviceId} on ${device.board.name}: telemetry to ${device.topics.telemetry}`);

  // Sampling starts now, online or not: readings taken before the link is up are queued durably.
  device.start();
  platform.network.start();
}

try {
  main();
} catch (error) {
  // A bad config key, board file or corrupt store stops the device here, with the message that says what to fix.
  trace(`fatal: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
}
