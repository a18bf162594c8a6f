// XS (xsnap) cost of our client: computrons per QoS 1 publish+ack and live heap over 20k cycles, from xsnap's meter.
import { XsRunner, xsEntry, xsnapWorkerPath } from "../test/xs/harness";

export async function benchXsClient(): Promise<void> {
  if (xsnapWorkerPath() === undefined) return;
  const rows: string[] = [];
  for (let run = 1; run <= 2; run++) {
    const xs = await XsRunner.start({ entry: xsEntry("client-entry"), meteringLimit: 1e11 });
    try {
      await xs.command({ op: "loop-start" });
      await xs.command({ op: "loop", count: 1000, gc: true });
      const a = await xs.command({ op: "loop", count: 100 });
      const b = await xs.command({ op: "loop", count: 200 });
      const warm = await xs.command({ op: "loop", count: 2000, gc: true });
      const slots: number[] = [];
      let last = warm;
      for (let k = 0; k < 4; k++) {
        last = await xs.command({ op: "loop", count: 5000, gc: true });
        slots.push(last.meter.currentHeapCount);
      }
      rows.push(
        `| ${run} | ${(b.meter.compute - a.meter.compute) / 100} | ${warm.meter.currentHeapCount} | ${slots.join(" / ")} | ${warm.meter.allocate} -> ${last.meter.allocate} |`,
      );
    } finally {
      await xs.close();
    }
  }
  console.log("| process | computrons per QoS 1 publish+ack | live slots after warm-up (gc) | live slots every 5k cycles (gc) | allocated bytes |");
  console.log("|---|---|---|---|---|");
  for (const row of rows) console.log(row);
}
