// Health telemetry on its own topic, <prefix>/<id>/health (not retained): queue, drops, reconnects, heap, sensor failures, seq.
// Not on the status topic: that one carries only the retained online/offline that Home Assistant reads as availability.
//
// Example: {"boot":3,"up":3600000,"seq":4711,"sync":true,"q":2,"qb":310,"age":1200,"drop":0,"pubfail":0,
//           "rc":1,"pend":4,"heap":81234,"fail":{"env":0}}
//   boot, up (ms since boot), seq (next seq), sync (wall clock set), q/qb/age (client queue depth, bytes,
//   oldest queued ms: Publisher.queueStats()), drop (client drops + pending readings the sampler dropped
//   at its pendingMax: each a real loss), pubfail (batches publish() refused; their readings stay pending),
//   rc (client reconnects), pend (readings committed and waiting for their batch),
//   heap (free heap bytes, only when the platform tells), fail (failed reads per sensor),
//   ovr (incoming messages over the client's maximum packet size: acknowledged and discarded),
//   why (only while not connected: the last connection failure and what to do, e.g. a CONNACK refusal; the next
//   attempt follows in minutes for a failure only a change elsewhere fixes).
import type { Publisher } from "../mqtt/client-api";
import { encodeUtf8 } from "../mqtt/utf8";
import type { Sampler } from "./sampler";

export interface HealthReport {
  boot: number;
  up: number;
  seq: number;
  sync: boolean;
  q: number;
  qb: number;
  age: number;
  drop: number;
  pubfail: number;
  rc: number;
  pend: number;
  heap?: number;
  fail: { [sensor: string]: number };
  ovr: number;
  why?: string;
}

/** Longest `why` text: our own messages fit; a transport's error text is cut, so health stays small. */
const WHY_MAX = 160;

export function healthReport(sampler: Sampler, publisher: Publisher, freeHeap?: () => number | undefined): HealthReport {
  const stats = sampler.stats();
  const queue = publisher.queueStats();
  const fail: { [sensor: string]: number } = {};
  for (const id of Object.keys(stats.sensors)) fail[id] = stats.sensors[id].failures;
  const report: HealthReport = {
    boot: stats.boot,
    up: Math.round(stats.uptimeMs),
    seq: stats.nextSeq,
    sync: stats.synced,
    q: queue.depth,
    qb: queue.bytes,
    age: Math.round(queue.oldestAgeMs),
    drop: publisher.counters.dropped + stats.dropped,
    pubfail: stats.publishFailures,
    rc: publisher.counters.reconnects,
    pend: stats.pending,
    fail,
    ovr: publisher.counters.oversized,
  };
  const problem = publisher.problem?.();
  if (problem) report.why = problem.message.length > WHY_MAX ? `${problem.message.slice(0, WHY_MAX - 3)}...` : problem.message;
  const heap = freeHeap?.();
  if (typeof heap === "number") report.heap = heap;
  return report;
}

export function encodeHealth(report: HealthReport): Uint8Array {
  return encodeUtf8(JSON.stringify(report));
}
