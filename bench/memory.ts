// Memory benchmark: RSS and heap of our client over 100k QoS 1 publishes to a local mosquitto; should stay flat.
// Run with `node --expose-gc --import tsx bench/run.ts memory` so samples follow a full GC (else they are noisier).
import { MqttClient } from "../src/mqtt/client";
import { nodeClock } from "../src/platform/node/clock";
import { netTransport } from "../src/platform/node/net-transport";
import { MemoryStore } from "../src/store/memory-store";
import { startMosquitto } from "../test/support/mosquitto";

const TOTAL = 100_000;
const SAMPLE_EVERY = 10_000;
/** Publishes are topped up to this many waiting messages, as a steady producer would. */
const BACKLOG = 500;

interface Sample {
  delivered: number;
  rssMB: number;
  heapMB: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function sample(delivered: number): Sample {
  gc?.();
  const usage = process.memoryUsage();
  return { delivered, rssMB: usage.rss / 2 ** 20, heapMB: usage.heapUsed / 2 ** 20 };
}

export async function benchMemory(): Promise<Sample[]> {
  const broker = await startMosquitto({});
  const payload = new Uint8Array(64).fill(0x61);
  const samples: Sample[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let published = 0;
      let delivered = 0;
      const topUp = () => {
        while (published < TOTAL && published - delivered < BACKLOG) {
          client.publish("bench/memory", payload, { qos: 1 });
          published++;
        }
      };
      const client = new MqttClient(
        { clientId: "bench-memory", cleanSession: true, maxInflight: 100 },
        { transport: netTransport({ host: broker.host, port: broker.port }), clock: nodeClock, store: new MemoryStore(), random: Math.random },
        {
          onConnect: () => {
            samples.push(sample(0));
            topUp();
          },
          onDelivered: () => {
            delivered++;
            if (delivered % SAMPLE_EVERY === 0) samples.push(sample(delivered));
            if (delivered === TOTAL) client.end(() => resolve());
            // Not from inside the client's turn: publish() from a callback is allowed, but batching reads better.
            else if (published - delivered < BACKLOG / 2) setImmediate(topUp);
          },
          onError: reject,
        },
      );
      client.start();
    });
  } finally {
    await broker.dispose();
  }
  const start = samples[0];
  const end = samples[samples.length - 1];
  const peakRss = Math.max(...samples.map((s) => s.rssMB));
  const peakHeap = Math.max(...samples.map((s) => s.heapMB));
  console.table(samples.map((s) => ({ delivered: s.delivered, "RSS MB": s.rssMB.toFixed(1), "heap MB": s.heapMB.toFixed(2) })));
  console.log(
    `QoS 1 x ${TOTAL}: RSS start ${start.rssMB.toFixed(1)} end ${end.rssMB.toFixed(1)} peak ${peakRss.toFixed(1)} MB; ` +
      `heap start ${start.heapMB.toFixed(2)} end ${end.heapMB.toFixed(2)} peak ${peakHeap.toFixed(2)} MB` +
      (gc ? " (after a full GC at each sample)" : " (no --expose-gc: samples include garbage)"),
  );
  return samples;
}
