// The firmware on the flash log with QoS 1 telemetry rebuilt from the reading records (not stored a second time):
// power cut at every flash operation of a run, reboot on the same flash, and every reading reaches the broker.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Firmware } from "../../src/app/firmware";
import { PacketType as P } from "../../src/mqtt/constants";
import type { Packet } from "../../src/mqtt/packets";
import { decodeTelemetry } from "../../src/sampler/payload";
import { createSimulatedSensor } from "../../src/sensors/simulated";
import { FlashLogStore } from "../../src/store/flash-log";
import { PowerCut } from "../store/fakes";
import { type NorCutMode, SimNorFlash } from "../store/nor-flash";
import { FakeClock } from "../support/fake-clock";
import { NeutralBroker } from "../xs/flows/neutral-broker";

const board = JSON.parse(readFileSync(new URL("../sim/fixtures/every-sample/lin.json", import.meta.url), "utf8"));
const CONFIG = { device_id: "a4cf12b3c4d5", health_s: "0", mqtt_qos: "1", interval_ms: "1000", batch_max: "5", batch_window_ms: "3000" };

interface Life {
  /** Seqs of every telemetry reading the broker received (duplicates kept). */
  seqs: number[];
  nextSeq: number;
}

/** One boot on `flash` for `seconds`, a broker that acknowledges everything; stops quietly at a power cut. */
function live(flash: SimNorFlash, seconds: number, ackEvery = true): Life {
  const clock = new FakeClock();
  const broker = new NeutralBroker([]);
  const seqs: number[] = [];
  let firmware: Firmware;
  try {
    firmware = new Firmware(
      { config: CONFIG, board, boardFile: "boards/lin.json" },
      {
        clock, store: FlashLogStore.open(flash), wallClock: () => 1_700_000_000_000 + clock.now(), defaultDeviceId: "unused",
        createSensor: (spec, _board, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id), transport: broker.transport, random: () => 0.5,
      },
    );
  } catch (error) {
    if (error instanceof PowerCut || flash.isDead) return { seqs, nextSeq: -1 };
    throw error;
  }
  const serve = () => {
    const link = broker.links[broker.links.length - 1];
    if (link === undefined || link.closed) return;
    if (!link.opened) link.open();
    for (const packet of link.drain() as Packet[]) {
      if (packet.type === P.CONNECT) link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
      else if (packet.type === P.SUBSCRIBE) link.send({ type: P.SUBACK, packetId: packet.packetId, granted: packet.subscriptions.map((s) => s.qos) });
      else if (packet.type === P.PUBLISH) {
        if (packet.topic.endsWith("/telemetry")) for (const r of decodeTelemetry(packet.payload).readings) seqs.push(r.seq);
        if (packet.qos === 1 && ackEvery) link.send({ type: P.PUBACK, packetId: packet.packetId as number });
      }
    }
  };
  try {
    firmware.start();
    for (let t = 0; t < seconds && !flash.isDead; t++) {
      serve();
      clock.advance(1000);
      serve();
    }
  } catch (error) {
    // The cut itself, or the store refusing use after the commit it broke: the device is off either way.
    if (!(error instanceof PowerCut) && !flash.isDead) throw error;
  }
  return { seqs, nextSeq: flash.isDead ? -1 : firmware.device.sampler.stats().nextSeq };
}

/** An 8 KB partition of 1 KB blocks already wrapped by earlier commits, so the run's cuts land in reclaim too. */
function wrappedFlash(seed: number): SimNorFlash {
  const flash = new SimNorFlash(8 * 1024, 1024, seed);
  const store = FlashLogStore.open(flash);
  for (let i = 0; i < 40; i++) {
    store.put("warm", new Uint8Array(200).fill(i));
    store.commit();
  }
  return flash.reboot();
}

describe("firmware on the flash log, QoS 1 telemetry rebuilt from the reading records", () => {
  it("stores no telemetry message: the records go when the batch is acknowledged", () => {
    const flash = new SimNorFlash(16 * 1024, 1024);
    const life = live(flash, 60);
    const store = FlashLogStore.open(flash.reboot());
    expect(store.list("o/")).toEqual([]);
    expect(store.list("f/")).toEqual([]);
    expect(store.list("smp.r").length).toBeLessThan(5 + 1);
    expect(new Set(life.seqs).size).toBeGreaterThan(50);
  });

  it("a reboot before the acknowledgement sends the batch again from its records (at least once)", () => {
    const flash = new SimNorFlash(16 * 1024, 1024);
    const first = live(flash, 20, false); // the broker never acknowledges
    expect(first.seqs.length).toBeGreaterThan(10);
    expect(FlashLogStore.open(flash.reboot()).list("smp.r").length).toBe(first.nextSeq);
    const rebooted = flash.reboot();
    const second = live(rebooted, 30);
    for (let seq = 0; seq < first.nextSeq; seq++) expect(second.seqs, `seq ${seq}`).toContain(seq);
  });

  for (const mode of ["before", "tear", "scatter"] as NorCutMode[]) {
    it(`a power cut at every flash operation loses no reading and leaves no seq gap (${mode})`, () => {
      const probe = wrappedFlash(1);
      live(probe, 40);
      const total = probe.operations;
      expect(probe.erases.reduce((a, b) => a + b, 0), "the run reclaims blocks").toBeGreaterThan(1);
      expect(total).toBeGreaterThan(40);
      for (let cutAt = 0; cutAt < total; cutAt++) {
        const flash = wrappedFlash(cutAt + 1);
        flash.cutAt = cutAt;
        flash.cutMode = mode;
        const first = live(flash, 40);
        const after = flash.reboot();
        const second = live(after, 60);
        const seen = new Set([...first.seqs, ...second.seqs]);
        const context = `cut at flash operation ${cutAt}`;
        expect(second.nextSeq, context).toBeGreaterThan(40);
        for (let seq = 0; seq < second.nextSeq - 5; seq++) expect(seen.has(seq), `${context}: seq ${seq} lost`).toBe(true);
        for (const seq of seen) expect(seq, context).toBeLessThan(second.nextSeq);
      }
    }, 300_000);
  }
});
