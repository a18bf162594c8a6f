// The firmware (client + Device + sampler) with simulated sensors, a fake clock and an auto-acking scripted broker,
// engine-neutral: the telemetry payloads and every byte on the wire must be the same on Node and on XS.
import { Firmware } from "../../../src/app/firmware";
import { PacketType as P } from "../../../src/mqtt/constants";
import type { Packet } from "../../../src/mqtt/packets";
import { decodeUtf8, encodeUtf8 } from "../../../src/mqtt/utf8";
import { decodeTelemetry } from "../../../src/sampler/payload";
import { createSimulatedSensor } from "../../../src/sensors/simulated";
import { MemoryStore } from "../../../src/store/memory-store";
import { FakeClock } from "../../support/fake-clock";
import { check, NeutralBroker, type NeutralLink } from "./neutral-broker";

export interface DeviceFlowResult {
  log: string[];
  /** Telemetry payloads (text) in the order the broker received them, first copies only. */
  telemetry: string[];
  seqs: number[];
  outcome: string;
}

const CONFIG = { device_id: "a4cf12b3c4d5", interval_ms: "1000", deadband: "0", batch_max: "3", batch_window_ms: "2500", health_s: "0", presync_max: "0", sim_seed: "7", mqtt_qos: "1" };

/** Answers what a broker would, for every packet the client wrote on `link`; records telemetry. */
function serve(link: NeutralLink, telemetry: string[], seen: Set<string>): void {
  for (const packet of link.drain() as Packet[]) {
    switch (packet.type) {
      case P.CONNECT:
        link.send({ type: P.CONNACK, sessionPresent: true, returnCode: 0 });
        break;
      case P.SUBSCRIBE:
        link.send({ type: P.SUBACK, packetId: packet.packetId, granted: packet.subscriptions.map((s) => s.qos) });
        break;
      case P.PUBLISH: {
        if (packet.topic.endsWith("/telemetry")) {
          const body = decodeUtf8(packet.payload);
          if (!seen.has(body)) telemetry.push(body);
          seen.add(body);
        }
        if (packet.qos === 1 && packet.packetId !== undefined) link.send({ type: P.PUBACK, packetId: packet.packetId });
        break;
      }
      default:
        break;
    }
  }
}

function boot(flash: Map<string, Uint8Array>, board: unknown, broker: NeutralBroker, clock: FakeClock, wallBase: number | undefined): Firmware {
  return new Firmware(
    { config: CONFIG, board, boardFile: "boards/lin.json" },
    {
      clock,
      store: new MemoryStore(flash),
      wallClock: () => (wallBase === undefined ? undefined : wallBase + clock.now()),
      defaultDeviceId: "unused",
      createSensor: (spec, _board, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
      transport: broker.transport,
      random: () => 0.5,
    },
  );
}

/**
 * Boot 1 (no wall clock): samples 6 s online, the link is cut for 3 s, back for 2 s, then the power fails with
 * readings pending. Boot 2 (wall clock set): restores them, samples 4 s and stops cleanly.
 */
export function runDeviceFlow(boardFile: unknown): DeviceFlowResult {
  // The board's per-channel deadbands would drop most simulated samples; config deadband "0" reports each one.
  const board = JSON.parse(JSON.stringify(boardFile), (key, value: unknown) => (key === "deadband" ? undefined : value)) as unknown;
  const log: string[] = [];
  const telemetry: string[] = [];
  const seen = new Set<string>();
  const flash = new Map<string, Uint8Array>();
  const broker = new NeutralBroker(log);
  const run = (clock: FakeClock, ms: number, online: () => boolean) => {
    for (let t = 0; t < ms; t += 250) {
      clock.advance(250);
      const link = broker.links[broker.links.length - 1];
      if (link && !link.closed && online()) serve(link, telemetry, seen);
    }
  };
  let outcome = "PASSED";
  try {
    const clock1 = new FakeClock(0);
    const first = boot(flash, board, broker, clock1, undefined);
    first.start();
    broker.link.open();
    serve(broker.link, telemetry, seen);
    run(clock1, 6000, () => true);
    broker.link.cut();
    run(clock1, 3000, () => false);
    if (!broker.link.opened) broker.link.open();
    serve(broker.link, telemetry, seen);
    run(clock1, 2000, () => true);
    log.push("power cut");
    const clock2 = new FakeClock(0);
    const second = boot(flash, board, broker, clock2, 1_718_000_000_000);
    second.start();
    broker.link.open();
    serve(broker.link, telemetry, seen);
    run(clock2, 4000, () => true);
    let stopped = false;
    second.stop(() => {
      stopped = true;
    });
    run(clock2, 1000, () => true);
    check(stopped, "stop() completed once every message was acked");
  } catch (error) {
    outcome = `FAILED: ${(error as Error).message}`;
  }
  const seqs: number[] = [];
  for (const body of telemetry) {
    for (const reading of decodeTelemetry(encodeUtf8(body)).readings) seqs.push(reading.seq);
  }
  return { log, telemetry, seqs, outcome };
}
