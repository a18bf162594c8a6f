// Computrons per publish on XS (xsnap's deterministic meter), measured as the SDK comparison was: the meter of 2N
// publishes minus the meter of N, over N, after a warm-up. Shared by the bench (which prints them) and the CI guard.
import type { QoS } from "../../src/mqtt/constants";
import { XsRunner, xsEntry } from "./harness";

export type MeterStore = "memory" | "none";

/** Computrons of one publish (and its acknowledgement for QoS 1 and 2) on a live link, and live slots after a gc. */
export async function publishCost(qos: QoS, store: MeterStore, n = 100): Promise<{ computrons: number; liveSlots: number[]; slotsPerPublish: number }> {
  const xs = await XsRunner.start({ entry: xsEntry("publish-meter-entry"), meteringLimit: 1e11 });
  try {
    await xs.command({ op: "start", qos, store });
    await xs.command({ op: "run", count: 5 * n, gc: true });
    const a = await xs.command({ op: "run", count: n });
    const b = await xs.command({ op: "run", count: 2 * n });
    const liveSlots: number[] = [];
    for (let k = 0; k < 3; k++) liveSlots.push((await xs.command({ op: "run", count: 10 * n, gc: true })).meter.currentHeapCount);
    // Slots allocated per publish: the heap count right after a full gc, then after 20 publishes with no gc between
    // (20 publishes allocate far less than the free slots XS keeps, so no collection runs inside them).
    const collected = (await xs.command({ op: "run", count: 0, gc: true })).meter.currentHeapCount;
    const grown = (await xs.command({ op: "run", count: 20 })).meter.currentHeapCount;
    return { computrons: (b.meter.compute - a.meter.compute) / n, liveSlots, slotsPerPublish: (grown - collected) / 20 };
  } finally {
    await xs.close();
  }
}

/** Computrons of one publish while offline (queued and stored), at a shallow and at a deep queue. */
export async function offlinePublishCost(qos: QoS): Promise<{ shallow: number; deep: number; depths: [number, number] }> {
  const xs = await XsRunner.start({ entry: xsEntry("publish-meter-entry"), meteringLimit: 1e11 });
  try {
    await xs.command({ op: "offline-start", qos });
    await xs.command({ op: "offline-run", count: 20 }); // warm-up
    const shallow = await xs.command<number>({ op: "offline-run", count: 20 });
    await xs.command({ op: "offline-run", count: 2000 });
    const deep = await xs.command<number>({ op: "offline-run", count: 20 });
    return { shallow: shallow.meter.compute / 20, deep: deep.meter.compute / 20, depths: [shallow.reply, deep.reply] };
  } finally {
    await xs.close();
  }
}
