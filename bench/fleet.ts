// Fleet reconnect: 200 of our clients in one process against a local mosquitto; SIGKILL the broker, restart it after a
// pause, and measure how long until every client has its CONNACK again and the connect rate the broker saw.
// Jittered exponential backoff (the client's default) against a fixed interval (base = cap, random() = 1).
// Environment: FLEET_DEVICES (200), FLEET_DOWNTIME_MS (3000), FLEET_RUNS (3).
//
// A counting TCP proxy sits between the clients and the broker: it timestamps each connection it manages to open to
// the broker (what the broker accepted) and each one the dead broker refused (the proxy then closes the client side,
// which the client sees as a dropped link, as it would see a refused connect).
import net from "node:net";
import { MqttClient } from "../src/mqtt/client";
import { netTransport } from "../src/platform/node/net-transport";
import { nodeClock } from "../src/platform/node/clock";
import { MemoryStore } from "../src/store/memory-store";
import { startMosquitto, type MosquittoBroker } from "../test/support/mosquitto";

const DEVICES = Number(process.env.FLEET_DEVICES ?? 200);
const DOWNTIME_MS = Number(process.env.FLEET_DOWNTIME_MS ?? 3000);
const RUNS = Number(process.env.FLEET_RUNS ?? 3);
const BUCKET_MS = 100;
const GIVE_UP_MS = 120_000;

interface CountingProxy {
  port: number;
  /** performance.now() of each connection opened to the broker. */
  accepted: number[];
  /** performance.now() of each attempt the broker refused. */
  refused: number[];
  close(): Promise<void>;
}

async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  const accepted: number[] = [];
  const refused: number[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: "127.0.0.1", port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    let opened = false;
    upstream.once("connect", () => {
      opened = true;
      accepted.push(performance.now());
    });
    client.pipe(upstream);
    upstream.pipe(client);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      if (!opened) refused.push(performance.now());
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on("error", end);
      socket.on("close", end);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    accepted,
    refused,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export interface FleetResult {
  strategy: string;
  devices: number;
  downtimeMs: number;
  /** From the restart command until the last client had its CONNACK. */
  allReconnectedMs: number;
  /** Half of the clients had their CONNACK (from the restart command). */
  medianReconnectMs: number;
  /** Most connections the broker accepted in one 100 ms bucket, as a rate per second. */
  peakAcceptsPerSecond: number;
  /** Connection attempts the dead broker refused during the downtime. */
  refusedWhileDown: number;
  /** Connections the broker accepted in each second after the restart command. */
  acceptsBySecond: number[];
}

interface Strategy {
  name: string;
  backoffBaseMs: number;
  backoffCapMs: number;
  random: () => number;
}

async function runOnce(broker: MosquittoBroker, strategy: Strategy): Promise<FleetResult> {
  const proxy = await startCountingProxy(broker.port);
  const connectedAt: number[] = new Array(DEVICES).fill(0);
  // onDisconnect also reports every failed attempt, so each client's state is a flag, not a running count.
  const up: boolean[] = new Array(DEVICES).fill(false);
  let connectedCount = 0;
  let everyoneUp!: () => void;
  let allUp = new Promise<void>((resolve) => (everyoneUp = resolve));
  const clients: MqttClient[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const client = new MqttClient(
      { clientId: `fleet-${strategy.name}-${i}`, keepAliveSeconds: 60, connectTimeoutMs: 10_000, backoffBaseMs: strategy.backoffBaseMs, backoffCapMs: strategy.backoffCapMs },
      { transport: netTransport({ host: "127.0.0.1", port: proxy.port }), clock: nodeClock, store: new MemoryStore(), random: strategy.random },
      {
        onConnect: () => {
          connectedAt[i] = performance.now();
          up[i] = true;
          if (++connectedCount === DEVICES) everyoneUp();
        },
        onDisconnect: () => {
          if (up[i]) connectedCount--;
          up[i] = false;
        },
      },
    );
    clients.push(client);
  }
  try {
    for (const client of clients) client.start();
    await withTimeout(allUp, GIVE_UP_MS, "the first connect of the fleet");

    allUp = new Promise<void>((resolve) => (everyoneUp = resolve));
    const killedAt = performance.now();
    await broker.kill();
    await sleep(DOWNTIME_MS);
    const refusedWhileDown = proxy.refused.filter((t) => t >= killedAt).length;
    const restartAt = performance.now();
    await broker.restart();
    await withTimeout(allUp, GIVE_UP_MS, `all ${DEVICES} clients to reconnect (${connectedCount} did)`);

    const after = connectedAt.map((t) => t - restartAt).sort((a, b) => a - b);
    const buckets = new Map<number, number>();
    for (const t of proxy.accepted) {
      if (t < restartAt) continue;
      const bucket = Math.floor((t - restartAt) / BUCKET_MS);
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
    }
    const peak = Math.max(0, ...buckets.values());
    const acceptsBySecond: number[] = [];
    for (const t of proxy.accepted) {
      if (t < restartAt) continue;
      const second = Math.floor((t - restartAt) / 1000);
      while (acceptsBySecond.length <= second) acceptsBySecond.push(0);
      acceptsBySecond[second]++;
    }
    return {
      strategy: strategy.name,
      devices: DEVICES,
      downtimeMs: DOWNTIME_MS,
      allReconnectedMs: after[after.length - 1],
      medianReconnectMs: after[Math.floor(after.length / 2)],
      peakAcceptsPerSecond: (peak * 1000) / BUCKET_MS,
      refusedWhileDown,
      acceptsBySecond,
    };
  } finally {
    await Promise.all(clients.map((client) => new Promise<void>((resolve) => client.end(resolve))));
    await proxy.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`fleet bench: timed out after ${ms} ms waiting for ${what}`)), ms))),
  ]);
}

/** Runs both strategies RUNS times (alternating) against one mosquitto, prints a table and returns the rows. */
export async function benchFleet(): Promise<FleetResult[]> {
  const broker = await startMosquitto();
  const strategies: Strategy[] = [
    { name: "jittered (base 1 s, cap 60 s, full jitter)", backoffBaseMs: 1000, backoffCapMs: 60_000, random: Math.random },
    { name: "fixed 1 s (base = cap = 1 s, random = 1)", backoffBaseMs: 1000, backoffCapMs: 1000, random: () => 1 },
  ];
  const results: FleetResult[] = [];
  try {
    // Alternating runs, so a change in machine load touches both strategies alike.
    for (let run = 0; run < RUNS; run++) for (const strategy of strategies) results.push(await runOnce(broker, strategy));
  } finally {
    await broker.dispose();
  }
  results.sort((a, b) => a.strategy.localeCompare(b.strategy));
  console.log(`${DEVICES} clients, broker SIGKILLed and restarted after ${DOWNTIME_MS} ms; times from the restart command; rate per ${BUCKET_MS} ms bucket`);
  console.log(`${"strategy".padEnd(46)}${"all up ms".padStart(11)}${"median ms".padStart(11)}${"peak acc/s".padStart(12)}${"refused while down".padStart(20)}`);
  for (const r of results) {
    console.log(
      `${r.strategy.padEnd(46)}${r.allReconnectedMs.toFixed(0).padStart(11)}${r.medianReconnectMs.toFixed(0).padStart(11)}` +
        `${r.peakAcceptsPerSecond.toFixed(0).padStart(12)}${String(r.refusedWhileDown).padStart(20)}`,
    );
  }
  // A text chart of one run per strategy: accepted connections in each second after the restart, one # per 4.
  console.log("accepts per second after the restart (first run of each; # = 4 connections)");
  for (const r of results.filter((row, i) => results.findIndex((other) => other.strategy === row.strategy) === i)) {
    console.log(r.strategy);
    r.acceptsBySecond.forEach((count, second) => console.log(`  ${String(second).padStart(2)}-${String(second + 1).padEnd(2)} s ${String(count).padStart(4)} ${"#".repeat(Math.ceil(count / 4))}`));
  }
  return results;
}
