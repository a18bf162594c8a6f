// Boots the firmware on a store holding arbitrary contents (engine-neutral: Node and xsnap run the same code) and checks
// that it boots, samples, connects and delivers a new reading, whatever the store held (issue 10, "Not settled").
import { Firmware } from "../../../src/app/firmware";
import { PacketType as P } from "../../../src/mqtt/constants";
import type { Packet } from "../../../src/mqtt/packets";
import { decodeUtf8 } from "../../../src/mqtt/utf8";
import { decodeTelemetry } from "../../../src/sampler/payload";
import { createSimulatedSensor } from "../../../src/sensors/simulated";
import { MemoryStore } from "../../../src/store/memory-store";
import { FakeClock } from "../../support/fake-clock";
import { NeutralBroker } from "./neutral-broker";

/** One stored entry: a key and its value as plain numbers (JSON-able, so Node can hand the case to xsnap). */
export type StoredEntry = [key: string, value: number[]];

export interface AnyStoreResult {
  outcome: string;
  /** Keys left after the boot's repairs, sorted. */
  keysAfter: string[];
  /** Seqs of this boot's readings the broker received. */
  newSeqs: number[];
  warnings: number;
}

const CONFIG = { device_id: "d1", interval_ms: "1000", deadband: "0", heartbeat_s: "0", health_s: "0", batch_max: "1", batch_window_ms: "0", presync_max: "0", mqtt_qos: "1" };

/** Answers CONNECT, SUBSCRIBE, PINGREQ and QoS 1/2 PUBLISHes as a broker keeping our session would; records telemetry. */
function serve(link: { drain(): Packet[]; send(...p: Packet[]): unknown }, telemetry: Uint8Array[]): void {
  for (const packet of link.drain()) {
    switch (packet.type) {
      case P.CONNECT:
        link.send({ type: P.CONNACK, sessionPresent: true, returnCode: 0 });
        break;
      case P.SUBSCRIBE:
        link.send({ type: P.SUBACK, packetId: packet.packetId, granted: packet.subscriptions.map((s) => s.qos) });
        break;
      case P.PINGREQ:
        link.send({ type: P.PINGRESP });
        break;
      case P.PUBLISH:
        if (packet.topic === "xsms/d1/telemetry") telemetry.push(packet.payload);
        if (packet.qos === 1) link.send({ type: P.PUBACK, packetId: packet.packetId as number });
        if (packet.qos === 2) link.send({ type: P.PUBREC, packetId: packet.packetId as number });
        break;
      case P.PUBREL:
        link.send({ type: P.PUBCOMP, packetId: packet.packetId });
        break;
      default:
        break;
    }
  }
}

export function bootOnAnyStore(entries: StoredEntry[], board: unknown): AnyStoreResult {
  const flash = new Map<string, Uint8Array>();
  for (const [key, value] of entries) flash.set(key, Uint8Array.from(value));
  const clock = new FakeClock(0);
  const broker = new NeutralBroker([]);
  const telemetry: Uint8Array[] = [];
  let warnings = 0;
  let firmware: Firmware | undefined;
  try {
    firmware = new Firmware(
      { config: CONFIG, board, boardFile: "boards/lin.json" },
      {
        clock,
        store: new MemoryStore(flash),
        logger: { info: () => {}, warn: () => warnings++ },
        defaultDeviceId: "d1",
        createSensor: (spec, _board, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
        transport: broker.transport,
        random: () => 0.5,
      },
    );
    firmware.start();
    const boot = firmware.device.sampler.boot;
    for (let t = 0; t < 20_000; t += 250) {
      const link = broker.links[broker.links.length - 1];
      if (link && !link.closed) {
        if (!link.opened) link.open();
        serve(link, telemetry);
      }
      clock.advance(250);
    }
    const newSeqs: number[] = [];
    for (const payload of telemetry) {
      let batch;
      try {
        batch = decodeTelemetry(payload);
      } catch {
        continue; // a stored message of the earlier "boot" with our topic but not our payload: delivered as it was
      }
      if (batch.boot === boot) for (const r of batch.readings) newSeqs.push(r.seq);
    }
    const outcome = newSeqs.length >= 10 && firmware.client.state === "connected" ? "PASSED" : `FAILED: ${newSeqs.length} new readings, client ${firmware.client.state}`;
    return { outcome, keysAfter: [...flash.keys()].sort(), newSeqs, warnings };
  } catch (error) {
    return { outcome: `FAILED: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, keysAfter: [...flash.keys()].sort(), newSeqs: [], warnings };
  }
}

/** Telemetry payload text, for failure messages. */
export function describePayload(bytes: Uint8Array): string {
  try {
    return decodeUtf8(bytes);
  } catch {
    return `${bytes.length} bytes`;
  }
}
