// The status page's request handling on a running firmware, engine-neutral: the same requests through RequestReader
// and StatusPage must get the same answers on Node and on XS (base64, passwords with ':' and spaces, regexes, JSON, typed arrays).
import { Firmware } from "../../../src/app/firmware";
import { PacketType as P } from "../../../src/mqtt/constants";
import type { Packet } from "../../../src/mqtt/packets";
import { decodeUtf8, encodeUtf8 } from "../../../src/mqtt/utf8";
import { createSimulatedSensor } from "../../../src/sensors/simulated";
import { FlashLogStore } from "../../../src/store/flash-log";
import { RequestReader, bytesBody, isResponse } from "../../../src/web/request";
import { StatusPage } from "../../../src/web/status-page";
import { FakeClock } from "../../support/fake-clock";
import { SimNorFlash } from "../../store/nor-flash";
import { NeutralBroker, type NeutralLink } from "./neutral-broker";

export interface WebFlowResult {
  /** One line per request: status, then the body as text. */
  answers: string[];
  outcome: string;
}

/** "Basic " + base64 of user:password, encoded here so neither engine's own encoder is involved. */
function basic(credential: string): string {
  const bytes = encodeUtf8(credential);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += alphabet[(n >> 18) & 63] + alphabet[(n >> 12) & 63] + (i + 1 < bytes.length ? alphabet[(n >> 6) & 63] : "=") + (i + 2 < bytes.length ? alphabet[n & 63] : "=");
  }
  return "Basic " + out;
}

function serve(link: NeutralLink): void {
  for (const packet of link.drain() as Packet[]) {
    if (packet.type === P.CONNECT) link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
    else if (packet.type === P.SUBSCRIBE) link.send({ type: P.SUBACK, packetId: packet.packetId, granted: packet.subscriptions.map((s) => s.qos) });
    else if (packet.type === P.PUBLISH && packet.qos === 1 && packet.packetId !== undefined) link.send({ type: P.PUBACK, packetId: packet.packetId });
  }
}

const REQUESTS: { method: string; target: string; headers: [string, string][]; body: string }[] = [
  { method: "GET", target: "/status.json", headers: [], body: "" },
  { method: "GET", target: "/status.json?since=3", headers: [], body: "" },
  { method: "GET", target: "/status.json?since=x", headers: [], body: "" },
  { method: "POST", target: "/settings/interval", headers: [["Content-Type", "application/json"], ["Content-Length", "11"]], body: '{"ms":2000}' },
  { method: "POST", target: "/settings/interval", headers: [["Content-Type", "application/json"], ["Authorization", basic("admin:wrong")], ["x-requested-with", "p"], ["Content-Length", "11"]], body: '{"ms":2000}' },
  { method: "POST", target: "/settings/interval", headers: [["Content-Type", "application/json"], ["Authorization", basic("admin:p@ss word:1")], ["Content-Length", "11"]], body: '{"ms":2000}' },
  { method: "POST", target: "/settings/deadband", headers: [["Content-Type", "application/json"], ["Authorization", basic("x:p@ss word:1")], ["Content-Length", "31"]], body: '{"value":"1.5%","channel":"zz"}' },
  { method: "POST", target: "/settings/heartbeat", headers: [["Content-Type", "application/json"], ["Authorization", basic(":p@ss word:1")], ["Content-Length", "8"]], body: '{"s":60}' },
  { method: "GET", target: "/" + "a".repeat(300), headers: [], body: "" },
  { method: "POST", target: "/settings/heartbeat", headers: [["Transfer-Encoding", "chunked"]], body: "" },
  { method: "DELETE", target: "/status.json", headers: [], body: "" },
  { method: "GET", target: "/status.json", headers: [], body: "" },
];

export function runWebFlow(board: unknown): WebFlowResult {
  const answers: string[] = [];
  let outcome = "PASSED";
  try {
    const clock = new FakeClock(0);
    const broker = new NeutralBroker([]);
    // A flash log of 8 blocks of 1 KB, worn a little before boot by commits it has to reclaim, so the store health in
    // status.json (erase counts, rate, years left: floating point and toPrecision) is computed by each engine.
    const log = FlashLogStore.open(new SimNorFlash(8 * 1024, 1024));
    for (let i = 0; i < 80; i++) {
      log.put("fill", new Uint8Array(200).fill(i));
      log.commit();
    }
    log.delete("fill");
    log.commit();
    const firmware = new Firmware(
      { config: { device_id: "xs-web", interval_ms: "1000", health_s: "0", sim_seed: "3", web_password: "p@ss word:1", ssid: "net", password: "wifi-pw", mqtt_user: "u", mqtt_password: "mqtt-pw" }, board, boardFile: "boards/lin.json" },
      {
        clock,
        store: log,
        defaultDeviceId: "unused",
        createSensor: (spec, _board, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
        transport: broker.transport,
        random: () => 0.5,
      },
    );
    const page = new StatusPage({ firmware, page: bytesBody(encodeUtf8("<p>page</p>")), password: firmware.device.config.web_password, extras: { version: "1.2.3", storeWear: () => log.stats() } });
    firmware.start();
    broker.link.open();
    for (let t = 0; t < 5000; t += 250) {
      clock.advance(250);
      serve(broker.link);
    }
    for (const r of REQUESTS) {
      const reader = new RequestReader();
      let refusal = reader.start(r.method, r.target);
      for (const [name, value] of r.headers) refusal ??= reader.header(name, value);
      if (r.body !== "") refusal ??= reader.body(encodeUtf8(r.body));
      const complete = refusal ?? reader.finish();
      const response = isResponse(complete) ? complete : page.handle(complete);
      answers.push(`${response.status} ${decodeUtf8(response.body.chunk(0, response.body.byteLength))}`);
    }
  } catch (error) {
    outcome = `FAILED: ${(error as Error).message}`;
  }
  return { answers, outcome };
}
