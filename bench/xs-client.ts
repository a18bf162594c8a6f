// XS (xsnap) cost of our client per publish, QoS 0/1/2, beside the Moddable SDK's own MQTT clients; plus the older
// publish+ack loop through the engine-neutral broker (which also decodes and logs every packet) for continuity.
import { XsRunner, xsEntry, xsnapWorkerPath } from "../test/xs/harness";
import { offlinePublishCost, publishCost } from "../test/xs/publish-cost";

/**
 * The SDK's figures, measured with the same method (meter of 2N minus meter of N over N, after warm-up; xsnap 0.15.0;
 * 29-character topic, 64-byte payload, the same 97 wire bytes) from Moddable SDK 8.2.3 on 2026-11-29, as reported in
 * this project's issue 15. The SDK is not available to CI, so they are constants here.
 */
const SDK_FIGURES = [
  { client: "Moddable SDK 8.2.3 modules/network/mqtt/mqtt.js (QoS 0 only, no tracking)", qos0: 727, qos1: "1,513 (PUBACK parsed, then dropped)" },
  { client: "SDK ECMA-419 examples/io/tcp/mqttclient (reports PUBACK, no retry, no persistence)", qos0: 693, qos1: "1,610" },
];

export async function benchXsClient(): Promise<void> {
  if (xsnapWorkerPath() === undefined) return;
  console.log("computrons per publish (QoS 1: + PUBACK; QoS 2: + PUBREC, PUBREL, PUBCOMP), live link:");
  console.log("| client | store | QoS 0 | QoS 1 | QoS 2 | slots allocated per publish, QoS 0 / 1 / 2 | live slots after gc, QoS 0 / 1 / 2 (3 readings, 1k publishes apart) |");
  console.log("|---|---|---|---|---|---|---|");
  for (const figures of SDK_FIGURES) console.log(`| ${figures.client} | none | ${figures.qos0} | ${figures.qos1} | - | - | - |`);
  for (const store of ["memory", "none"] as const) {
    const costs = [await publishCost(0, store), await publishCost(1, store), await publishCost(2, store)];
    console.log(
      `| ours | ${store === "memory" ? "MemoryStore (committed before publish() returns)" : "a store that keeps nothing"} | ` +
        `${costs.map((c) => c.computrons).join(" | ")} | ${costs.map((c) => c.slotsPerPublish).join(" / ")} | ${costs.map((c) => c.liveSlots.join("/")).join(" ; ")} |`,
    );
  }
  console.log("\nwhile offline (queued and committed to a MemoryStore): work per publish against queue depth");
  console.log("| QoS | computrons at depth ~40 | computrons at depth ~2,060 |");
  console.log("|---|---|---|");
  for (const qos of [0, 1, 2] as const) {
    const cost = await offlinePublishCost(qos);
    console.log(`| ${qos} | ${cost.shallow} | ${cost.deep} |`);
  }

  console.log("\nthrough the engine-neutral scripted broker (it also decodes and hex-logs each packet; for continuity):");
  const xs = await XsRunner.start({ entry: xsEntry("client-entry"), meteringLimit: 1e11 });
  try {
    await xs.command({ op: "loop-start" });
    await xs.command({ op: "loop", count: 1000, gc: true });
    const a = await xs.command({ op: "loop", count: 100 });
    const b = await xs.command({ op: "loop", count: 200 });
    console.log(`computrons per QoS 1 publish+ack, with the broker's work: ${(b.meter.compute - a.meter.compute) / 100}`);
  } finally {
    await xs.close();
  }
}
