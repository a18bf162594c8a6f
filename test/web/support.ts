// Builds a Firmware (real client, device, simulated sensors) over a scripted broker and a fake clock, with its StatusPage.
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Firmware } from "../../src/app/firmware";
import { PacketType } from "../../src/mqtt/constants";
import { createSimulatedSensor } from "../../src/sensors/simulated";
import { MemoryStore } from "../../src/store/memory-store";
import type { SessionStore } from "../../src/store/session-store";
import type { WearFigures } from "../../src/store/wear";
import { bytesBody, type WebRequest, type WebResponse } from "../../src/web/request";
import { StatusPage } from "../../src/web/status-page";
import type { LockoutPolicy } from "../../src/web/auth";
import { FakeClock } from "../support/fake-clock";
import { ScriptedBroker } from "../support/scripted-broker";

const BOARD_FILE = "boards/lin.json";
const board = JSON.parse(readFileSync(join(__dirname, "..", "..", BOARD_FILE), "utf8"));

export const PAGE_HTML = "<!doctype html><title>test page</title>";

/** Secrets a test config carries; none may ever appear in a response. */
export const SECRETS = { password: "wifi-secret-1", mqtt_password: "broker-secret-2" };

/** The session store to boot on (a MemoryStore by default), and its wear figures when it is a flash log. */
export interface PageStore {
  store: SessionStore;
  storeWear?: () => WearFigures;
}

export function bootWithPage(config: Record<string, unknown> = {}, lockout?: LockoutPolicy, storage: PageStore = { store: new MemoryStore(new Map()) }) {
  const clock = new FakeClock();
  const broker = new ScriptedBroker();
  const firmware = new Firmware(
    {
      config: {
        device_id: "web-1", prefix: "t", health_s: "0", interval_ms: "1000", batch_max: "1", batch_window_ms: "0", mqtt_qos: "1",
        ssid: "home", password: SECRETS.password, mqtt_user: "dev", mqtt_password: SECRETS.mqtt_password, ...config,
      },
      board,
      boardFile: BOARD_FILE,
    },
    {
      clock,
      store: storage.store,
      wallClock: () => 1_700_000_000_000 + clock.now(),
      defaultDeviceId: "unused",
      createSensor: (spec, _board, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
      transport: broker.transport,
      random: () => 0.5,
    },
  );
  const page = new StatusPage({
    firmware,
    page: bytesBody(new Uint8Array(gzipSync(PAGE_HTML))),
    password: firmware.device.config.web_password,
    extras: { version: "9.9.9", freeHeap: () => 12345, xsMemory: () => ({ slotBytes: 1, chunkBytes: 2, stackPeakBytes: 3 }), storeWear: storage.storeWear },
    lockout,
  });
  firmware.start();
  return { firmware, page, clock, broker };
}

/** Completes the CONNECT handshake and acks whatever the client sends, so the link is up. */
export function connect(broker: ScriptedBroker): void {
  broker.link.open();
  broker.link.send({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
  ackAll(broker);
}

export function ackAll(broker: ScriptedBroker): void {
  for (const packet of broker.link.drain()) {
    if (packet.type === PacketType.PUBLISH && packet.qos === 1) broker.link.send({ type: PacketType.PUBACK, packetId: packet.packetId as number });
    else if (packet.type === PacketType.SUBSCRIBE) broker.link.send({ type: PacketType.SUBACK, packetId: packet.packetId, granted: packet.subscriptions.map((s) => s.qos) });
  }
}

export function request(partial: Partial<WebRequest> & { target: string }): WebRequest {
  return { method: "GET", body: new Uint8Array(0), ...partial };
}

export function basic(password: string, user = "admin"): string {
  return "Basic " + Buffer.from(`${user}:${password}`, "utf8").toString("base64");
}

export function bodyText(response: WebResponse): string {
  return new TextDecoder().decode(response.body.chunk(0, response.body.byteLength));
}

export function header(response: WebResponse, name: string): string | undefined {
  return response.headers.find(([n]) => n === name)?.[1];
}
