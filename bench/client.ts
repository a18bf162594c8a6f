// Client benchmark: publish throughput of our client against a local mosquitto at QoS 0, 1 and 2, beside MQTT.js
// and mosquitto's own C client (mosquitto_pub -l) in the same run, same 64-byte payload, same message counts.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import mqtt from "mqtt";
import { MqttClient } from "../src/mqtt/client";
import type { QoS } from "../src/mqtt/constants";
import { nodeClock } from "../src/platform/node/clock";
import { netTransport } from "../src/platform/node/net-transport";
import { FlashLogStore } from "../src/store/flash-log";
import { MemoryStore } from "../src/store/memory-store";
import type { SessionStore } from "../src/store/session-store";
import { SimNorFlash } from "../test/store/nor-flash";
import { startMosquitto, type MosquittoBroker } from "../test/support/mosquitto";

const PAYLOAD = new Uint8Array(64).fill(0x61);
const COUNTS = [5_000, 40_000];
/** Each run is repeated and the best kept: the machine is shared, so the best run is the least disturbed one. */
const ROUNDS = 3;

type Runner = (broker: MosquittoBroker, qos: QoS, count: number, tag: string) => Promise<number>;

/**
 * The flash log on a RAM NOR flash big enough for the largest run queued at once (the store's CPU cost, no disk).
 * The client keeps the queue within a share of the store's capacity: 40,000 messages need about 8 MB of it, so at
 * 16 MB the largest runs dropped messages and never reached their count.
 */
const flashLog = (): SessionStore => FlashLogStore.open(new SimNorFlash(64 * 1024 * 1024, 4096));

/** Our client on a MemoryStore (the bench measures the client, not the disk), clean session, window `maxInflight`. */
function ours(maxInflight: number, store: () => SessionStore = () => new MemoryStore(), stored = true): Runner {
  return (broker, qos, count, tag) =>
    new Promise((resolve, reject) => {
      let delivered = 0;
      let started = 0;
      const client = new MqttClient(
        {
          clientId: `bench-ours-${tag}`, cleanSession: true, maxInflight,
          queueMaxMessages: count + maxInflight + 1, queueMaxBytes: (count + maxInflight + 1) * 128,
        },
        { transport: netTransport({ host: broker.host, port: broker.port }), clock: nodeClock, store: store(), random: Math.random },
        {
          onConnect: () => {
            // Publish once: a reconnect (a keepalive missed while a long publish loop held a loaded machine) would
            // queue the whole run a second time.
            if (started !== 0) return;
            started = performance.now();
            // stored: false is how the firmware publishes QoS 1 telemetry (refused at QoS 2, which is always stored).
            for (let i = 0; i < count; i++) client.publish("bench/ours", PAYLOAD, { qos, stored: stored || qos === 2 });
          },
          onDelivered: () => {
            if (++delivered === count) {
              const ms = performance.now() - started;
              client.end(() => resolve(ms));
            }
          },
          onError: reject,
          // A drop means the run measures eviction, not publishing, and its count is never reached.
          onDropped: (drop) => reject(new Error(`bench message ${drop.messageId} dropped (${drop.reason}): the store is too small for ${count} messages`)),
        },
      );
      client.start();
    });
}

/** MQTT.js 5 with its defaults (no in-flight limit); a message is done when its publish callback fires. */
const mqttJs: Runner = async (broker, qos, count, tag) => {
  const client = await mqtt.connectAsync(broker.url, { clientId: `bench-mqttjs-${tag}`, clean: true, protocolVersion: 4, reconnectPeriod: 0 });
  const payload = Buffer.from(PAYLOAD);
  const ms = await new Promise<number>((resolve, reject) => {
    let done = 0;
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      client.publish("bench/mqttjs", payload, { qos }, (error) => {
        if (error) reject(error);
        else if (++done === count) resolve(performance.now() - started);
      });
    }
  });
  await client.endAsync();
  return ms;
};

function mosquittoPubPath(): string | undefined {
  return ["/usr/bin/mosquitto_pub", "/usr/local/bin/mosquitto_pub"].find((p) => existsSync(p));
}

/** mosquitto_pub -l: one message per stdin line; timed from spawn to exit, so it includes process start (a few ms). */
const mosquittoPub: Runner = (broker, qos, count, tag) =>
  new Promise((resolve, reject) => {
    const line = "a".repeat(PAYLOAD.length) + "\n";
    const input = line.repeat(count);
    const started = performance.now();
    const proc = spawn(mosquittoPubPath()!, ["-h", broker.host, "-p", String(broker.port), "-i", `bench-c-${tag}`, "-q", String(qos), "-t", "bench/c", "-l"], { stdio: ["pipe", "ignore", "pipe"] });
    let errors = "";
    proc.stderr.on("data", (d: Buffer) => (errors += d.toString()));
    proc.on("exit", (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`mosquitto_pub exited ${code}: ${errors}`))));
    proc.stdin.end(input);
  });

export interface ClientBenchRow {
  qos: QoS;
  count: number;
  /** Messages per second, best of ROUNDS. */
  ours1000: number;
  ours8: number;
  /** Window 1000 on the flash log (the device's store) instead of a MemoryStore. */
  oursFlash: number;
  /** Window 1000 on the flash log, publishing with stored: false (QoS 0 and 1), as the firmware sends telemetry. */
  oursFlashUnstored: number;
  mqttJs: number;
  mosquittoPub: number | undefined;
}

async function best(run: Runner, broker: MosquittoBroker, qos: QoS, count: number, tag: string): Promise<number> {
  let fastest = Infinity;
  for (let round = 0; round < ROUNDS; round++) fastest = Math.min(fastest, await run(broker, qos, count, `${tag}-${round}`));
  return (count * 1000) / fastest;
}

export async function benchClient(): Promise<ClientBenchRow[]> {
  const broker = await startMosquitto({});
  const rows: ClientBenchRow[] = [];
  const cPub = mosquittoPubPath() ? mosquittoPub : undefined;
  console.log(`node ${process.version}, ${os.cpus().length} cpu(s), load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} at start`);
  try {
    // Warm-up: JIT both clients before anything is timed.
    for (const qos of [0, 1, 2] as const) {
      await ours(1000)(broker, qos, 2_000, "warm");
      await mqttJs(broker, qos, 2_000, "warm");
    }
    for (const qos of [0, 1, 2] as const) {
      for (const count of COUNTS) {
        const tag = `q${qos}-${count}`;
        rows.push({
          qos,
          count,
          ours1000: await best(ours(1000), broker, qos, count, `${tag}-1000`),
          ours8: await best(ours(8), broker, qos, count, `${tag}-8`),
          oursFlash: await best(ours(1000, flashLog), broker, qos, count, `${tag}-flash`),
          oursFlashUnstored: await best(ours(1000, flashLog, false), broker, qos, count, `${tag}-flash-ram`),
          mqttJs: await best(mqttJs, broker, qos, count, tag),
          mosquittoPub: cPub ? await best(cPub, broker, qos, count, tag) : undefined,
        });
      }
    }
  } finally {
    await broker.dispose();
  }
  const k = (rate: number | undefined) => (rate === undefined ? "n/a" : `${(rate / 1000).toFixed(1)}k`);
  const table = rows.map((r) => ({
    QoS: r.qos,
    messages: r.count,
    "ours window 1000 (msg/s)": k(r.ours1000),
    "ours window 8 (msg/s)": k(r.ours8),
    "ours 1000, flash log (msg/s)": k(r.oursFlash),
    "same, stored: false (msg/s)": k(r.oursFlashUnstored),
    "MQTT.js (msg/s)": k(r.mqttJs),
    "mosquitto_pub -l (msg/s)": k(r.mosquittoPub),
    "ours 1000 / MQTT.js": (r.ours1000 / r.mqttJs).toFixed(2),
    "ours 8 / MQTT.js": (r.ours8 / r.mqttJs).toFixed(2),
    "flash log / MQTT.js": (r.oursFlash / r.mqttJs).toFixed(2),
    "stored: false / MQTT.js": (r.oursFlashUnstored / r.mqttJs).toFixed(2),
  }));
  console.table(table);
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} at end; 64-byte payload; best of ${ROUNDS}; MQTT.js has no in-flight limit`);
  return rows;
}
