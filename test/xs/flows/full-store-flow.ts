// The firmware offline on a 24 KB NVS model (engine-neutral: Node and xsnap): the queue follows the store's capacity,
// and a store told a capacity it does not have fails writes that are recovered from, counted, never thrown.
import { Firmware } from "../../../src/app/firmware";
import { createSimulatedSensor } from "../../../src/sensors/simulated";
import { JournaledStore } from "../../../src/store/journaled-store";
import { DEFAULT_NVS_PARTITION_BYTES, PreferenceBackend } from "../../../src/store/preference-backend";
import { FakeClock } from "../../support/fake-clock";
import { NvsSpaceModel } from "../../support/nvs-space-model";

export interface FullStoreResult {
  outcome: string;
  depth: number;
  dropped: number;
  storeFailures: number;
  nextSeq: number;
  peakEntries: number;
  limitEntries: number;
}

/** `toldBytes`: the partition size the backend is told (the real model is always 24 KB). */
export function runFullStore(board: unknown, toldBytes: number, hours: number): FullStoreResult {
  const prefs = new NvsSpaceModel(DEFAULT_NVS_PARTITION_BYTES);
  const clock = new FakeClock();
  let firmware: Firmware | undefined;
  try {
    firmware = new Firmware(
      { config: { device_id: "d1", interval_ms: "10000", deadband: "0", heartbeat_s: "0", health_s: "0", presync_max: "0", batch_window_ms: "60000" }, board, boardFile: "boards/lin.json" },
      {
        clock,
        store: JournaledStore.open(new PreferenceBackend(prefs, "mqtt", 4000, toldBytes)),
        defaultDeviceId: "d1",
        createSensor: (spec, _b, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
        transport: () => {
          throw new Error("no route to host");
        },
        random: () => 0.5,
        // Telemetry stored inside its queued message, as on NVS before the flash log: the client's queue is what fills the store.
        telemetryFromRecords: false,
      },
    );
    firmware.start();
    for (let t = 0; t < hours * 360; t++) clock.advance(10_000);
    const c = firmware.client;
    return {
      outcome: "PASSED",
      depth: c.queueStats().depth,
      dropped: c.counters.dropped,
      storeFailures: c.counters.storeFailures,
      nextSeq: firmware.device.sampler.stats().nextSeq,
      peakEntries: prefs.peak,
      limitEntries: prefs.limit,
    };
  } catch (error) {
    return { outcome: `FAILED: ${(error as Error).name}: ${(error as Error).message}`, depth: -1, dropped: -1, storeFailures: -1, nextSeq: -1, peakEntries: prefs.peak, limitEntries: prefs.limit };
  }
}
