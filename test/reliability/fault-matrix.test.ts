// The fault matrix, generated exhaustively: for QoS 1 and 2 and a few message counts, the link is cut at every packet
// of the flow (and again at every packet of the next connection), the device reboots at every packet, and the power
// fails at every storage operation. After recovery against a well-behaved broker model, its witness sees each message
// at least once (QoS 1) or exactly once (QoS 2), and the store reopens without a StorageError.
import { describe, expect, it } from "vitest";
import { MqttClient } from "../../src/mqtt/client";
import type { QoS } from "../../src/mqtt/constants";
import { FLIGHT_PREFIX, MESSAGE_PREFIX } from "../../src/mqtt/session-records";
import { JournaledStore } from "../../src/store/journaled-store";
import { MemoryStore } from "../../src/store/memory-store";
import type { SessionStore } from "../../src/store/session-store";
import { FakeClock } from "../support/fake-clock";
import { ScriptedBroker, type ScriptedLink } from "../support/scripted-broker";
import { FlashLogStore } from "../../src/store/flash-log";
import { type CutMode, MemoryBackend, PowerCut, PowerCutBackend } from "../store/fakes";
import { type NorCutMode, SimNorFlash } from "../store/nor-flash";
import { BrokerModel, type Qos2Method } from "./support/broker-model";

type Interruption =
  | { kind: "none" }
  /** The link is cut before event cuts[i] of the i-th connection (packets either way, counted from 0). */
  | { kind: "link"; cuts: number[] }
  /** The device loses RAM (not its committed store) before event `at` of the first connection. */
  | { kind: "reboot"; at: number }
  /** Power fails at backend operation `at` (write/remove/sync, counted from boot), in the given mode. */
  | { kind: "power"; mode: CutMode; at: number }
  /** Power fails at flash operation `at` (program/erase) of the flash log on a simulated NOR partition. */
  | { kind: "flash"; mode: NorCutMode; at: number };

interface Scenario {
  qos: QoS;
  count: number;
  method: Qos2Method;
  interruption: Interruption;
}

interface Outcome {
  model: BrokerModel;
  accepted: Set<string>;
  uncertain: Set<string>;
  deliveredReported: Set<string>;
  /** Events on each connection, in order. */
  events: number[];
  /** Backend operations done (power scenarios). */
  operations: number;
  reopen: () => SessionStore;
}

const MAX_INFLIGHT = 2;

/** One device life: a client over `store` on its own clock and link factory (a reboot starts a new one). */
function boot(store: SessionStore, onDelivered: (topic: string) => void) {
  const clock = new FakeClock(0);
  const broker = new ScriptedBroker();
  const client = new MqttClient(
    { clientId: "dev-1", keepAliveSeconds: 60, maxInflight: MAX_INFLIGHT, backoffBaseMs: 100, backoffCapMs: 400 },
    { transport: broker.transport, clock, store, random: () => 0.5 },
    { onDelivered: (info) => onDelivered(info.topic) },
  );
  client.start();
  return { clock, broker, client };
}

function run(s: Scenario): Outcome {
  const model = new BrokerModel(s.method);
  const texts = Array.from({ length: s.count }, (_, i) => `m${i}`);
  const accepted = new Set<string>();
  const uncertain = new Set<string>();
  const deliveredReported = new Set<string>();
  const committed = new Map<string, Uint8Array>();
  const disk = new MemoryBackend();
  let powerBackend: PowerCutBackend | undefined;
  // 8 blocks of 1 KB: the messages' commits wrap it, so cuts land in reclaim (copy forward, DROP, erase) too.
  let flash = new SimNorFlash(8 * 1024, 1024, 1);
  const interruption = s.interruption;
  const firstStore = (): SessionStore => {
    if (interruption.kind === "flash") {
      for (let i = 0; i < 40; i++) {
        // Fill the log with dead history first, so the scenario runs on a log that is reclaiming.
        const warm = FlashLogStore.open(flash);
        warm.put("warm", new Uint8Array(200).fill(i));
        warm.commit();
      }
      flash = flash.reboot();
      flash.cutAt = flash.operations + interruption.at;
      flash.cutMode = interruption.mode;
      return FlashLogStore.open(flash);
    }
    if (interruption.kind !== "power") return new MemoryStore(committed);
    powerBackend = new PowerCutBackend(disk, interruption.mode, interruption.at);
    return JournaledStore.open(powerBackend);
  };
  const reopen = (): SessionStore => {
    if (interruption.kind === "flash") {
      flash = flash.reboot();
      return FlashLogStore.open(flash);
    }
    if (interruption.kind !== "power") return new MemoryStore(committed);
    const store = JournaledStore.open(disk);
    store.verify();
    return store;
  };
  const flashOperations = (): number => flash.operations;
  const onDelivered = (topic: string) => deliveredReported.add(topic.slice("t/".length));

  let node: ReturnType<typeof boot> | undefined;
  let next = 0;
  const publishOne = (): void => {
    const text = texts[next++];
    uncertain.add(text);
    (node as ReturnType<typeof boot>).client.publish(`t/${text}`, text, { qos: s.qos });
    uncertain.delete(text);
    accepted.add(text);
  };
  const linkIndex = new Map<ScriptedLink, number>();
  const events: number[] = [];
  let rebooted = false;
  const cutFor = (index: number): number => {
    if (interruption.kind === "link") return interruption.cuts[index] ?? Infinity;
    if (interruption.kind === "reboot" && index === 0 && !rebooted) return interruption.at;
    return Infinity;
  };

  for (let round = 0; round < 300; round++) {
    try {
      if (!node) {
        node = boot(rebooted ? reopen() : firstStore(), onDelivered);
        // Half the messages are queued before the first connection, the rest published while it runs.
        while (!rebooted && next < Math.ceil(s.count / 2)) publishOne();
      }
      const link = node.broker.attempts > 0 ? node.broker.link : undefined;
      if (link && !link.closed) {
        if (!linkIndex.has(link)) {
          linkIndex.set(link, linkIndex.size);
          events.push(0);
        }
        const index = linkIndex.get(link) as number;
        const reboot = interruption.kind === "reboot" && index === 0 && !rebooted;
        const result = model.serve(link, {
          cutAt: cutFor(index),
          silentCut: reboot,
          afterEvent: (event) => {
            events[index] = event + 1;
            if (event >= 1 && next < s.count) publishOne();
          },
        });
        if (result === "cut" && reboot) {
          rebooted = true;
          node = undefined;
          continue;
        }
      }
      if (next < s.count) {
        publishOne();
        continue;
      }
      if (node.client.queueStats().depth === 0) break;
      const due = node.clock.nextDue();
      if (due === undefined) throw new Error(`client idle with ${node.client.queueStats().depth} message(s) left`);
      node.clock.advance(due - node.clock.now());
    } catch (error) {
      if (!(error instanceof PowerCut) || rebooted) throw error;
      rebooted = true;
      node = undefined;
    }
  }
  expect(node?.client.queueStats().depth, "flow did not finish").toBe(0);
  return { model, accepted, uncertain, deliveredReported, events, operations: interruption.kind === "flash" ? flashOperations() : powerBackend?.operations ?? 0, reopen };
}

/** The matrix's claim for one scenario. */
function verify(s: Scenario, o: Outcome): void {
  const label = JSON.stringify(s.interruption);
  const counts = o.model.counts();
  for (const text of o.accepted) {
    const n = counts.get(text) ?? 0;
    if (s.qos === 1) expect(n, `${label}: ${text} at least once`).toBeGreaterThanOrEqual(1);
    else expect(n, `${label}: ${text} exactly once`).toBe(1);
    // The publisher was told too (after a reboot, by the next client, from the stored message). Not after a power cut
    // inside the commit that completed the flow: the commit may be durable while the notification dies with the RAM.
    if (s.interruption.kind !== "power" && s.interruption.kind !== "flash") expect(o.deliveredReported.has(text), `${label}: ${text} reported delivered`).toBe(true);
  }
  for (const [text, n] of counts) {
    // publish() threw (power cut inside it): the message may or may not have been committed, but never twice at QoS 2.
    expect(o.accepted.has(text) || o.uncertain.has(text), `${label}: ${text} was never published`).toBe(true);
    if (s.qos === 2) expect(n, `${label}: ${text} at most once`).toBeLessThanOrEqual(1);
  }
  // The store reopens cleanly (CRC-checked for the journaled store) and holds no message any more.
  const store = o.reopen();
  expect(store.list(MESSAGE_PREFIX), `${label}: messages left in the store`).toEqual([]);
  expect(store.list(FLIGHT_PREFIX), `${label}: flight records left in the store`).toEqual([]);
  const client = new MqttClient({ clientId: "dev-1" }, { transport: new ScriptedBroker().transport, clock: new FakeClock(), store, random: () => 0.5 });
  expect(client.queueStats().depth).toBe(0);
}

const COUNTS = [1, 2, 4];
const FLOWS: Array<{ qos: QoS; method: Qos2Method }> = [
  { qos: 1, method: "B" },
  { qos: 2, method: "B" },
  { qos: 2, method: "A" },
];
const MODES: CutMode[] = ["before", "tear", "erase", "cache-drop", "cache-odd"];
const FLASH_MODES: NorCutMode[] = ["before", "tear", "scatter"];

describe("fault matrix", () => {
  for (const { qos, method } of FLOWS) {
    const flow = qos === 1 ? "QoS 1" : `QoS 2 (receiver method ${method})`;
    describe(flow, () => {
      for (const count of COUNTS) {
        const base = { qos, count, method };

        it(`${count} message(s): the link cut before every packet of a connection and of the next one`, () => {
          const clean = run({ ...base, interruption: { kind: "none" } });
          verify({ ...base, interruption: { kind: "none" } }, clean);
          const first = clean.events[0];
          expect(first).toBe(2 + (qos === 1 ? 2 : 4) * count); // CONNECT, CONNACK, then 2 or 4 packets per message
          let scenarios = 0;
          for (let k1 = 0; k1 < first; k1++) {
            const single: Scenario = { ...base, interruption: { kind: "link", cuts: [k1] } };
            const once = run(single);
            verify(single, once);
            scenarios++;
            for (let k2 = 0; k2 < once.events[1]; k2++) {
              const double: Scenario = { ...base, interruption: { kind: "link", cuts: [k1, k2] } };
              verify(double, run(double));
              scenarios++;
            }
          }
          expect(scenarios).toBeGreaterThan(first);
        });

        it(`${count} message(s): the device reboots (RAM lost, committed store kept) before every packet`, () => {
          const first = run({ ...base, interruption: { kind: "none" } }).events[0];
          for (let at = 0; at < first; at++) {
            const scenario: Scenario = { ...base, interruption: { kind: "reboot", at } };
            verify(scenario, run(scenario));
          }
        });

        for (const mode of MODES) {
          it(`${count} message(s): power fails at every storage operation (cut mode "${mode}")`, () => {
            const total = run({ ...base, interruption: { kind: "power", mode, at: Infinity } }).operations;
            expect(total).toBeGreaterThan(count * 3);
            for (let at = 0; at < total; at++) {
              const scenario: Scenario = { ...base, interruption: { kind: "power", mode, at } };
              verify(scenario, run(scenario));
            }
          });
        }

        for (const mode of FLASH_MODES) {
          it(`${count} message(s): power fails at every flash operation of the flash log (cut mode "${mode}")`, () => {
            const total = run({ ...base, interruption: { kind: "flash", mode, at: Infinity } }).operations;
            expect(total).toBeGreaterThan(count * 2);
            for (let at = 0; at < total; at++) {
              const scenario: Scenario = { ...base, interruption: { kind: "flash", mode, at } };
              verify(scenario, run(scenario));
            }
          });
        }
      }
    });
  }
});
