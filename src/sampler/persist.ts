// What the sampler keeps in the SessionStore: boot counter, next seq, and settings changed by command.
//
// Seq policy: numbers are not reserved ahead. A batch's seqs are assigned when the batch is handed to
// the publisher, and the new "next seq" is committed BEFORE publish() is called. So:
//  - a power cut before that commit reuses the numbers, but nothing carrying them was published;
//  - a power cut after it (or a publish that throws, or a dropped message) leaves a gap, and the
//    readings of that gap were really lost;
//  - a reboot never skips a number that no reading had (what block reservation would do).
// One commit per batch (not per reading) keeps flash writes at 1/batch_max of the readings.
// Readings still waiting in RAM for their batch at a reboot are lost without a seq; the boot counter
// changing in the next payload shows the reboot.
import { StorageError } from "../errors";
import { decodeUtf8, encodeUtf8 } from "../mqtt/utf8";
import type { SessionStore } from "../store/session-store";

export const BOOT_KEY = "smp.boot";
export const SEQ_KEY = "smp.seq";
export const SETTINGS_KEY = "smp.set";

/** Settings changed by command; each overrides the config / board value. */
export interface StoredSettings {
  /** Sampling interval per sensor id, ms. */
  interval?: { [sensor: string]: number };
  /** Deadband text per channel id. */
  deadband?: { [channel: string]: string };
  heartbeatS?: number;
}

export function readCounter(store: SessionStore, key: string): number {
  const bytes = store.get(key);
  if (bytes === undefined) return 0;
  const text = decodeUtf8(bytes);
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new StorageError(`holds "${text}", not a counter; delete the key to restart numbering (seq will then repeat)`, key);
  }
  return Number(text);
}

export function putCounter(store: SessionStore, key: string, value: number): void {
  store.put(key, encodeUtf8(String(value)));
}

/** Reads the stored settings; a value that is not the expected shape is reported (warn) and dropped, never used. */
export function readSettings(store: SessionStore, warn: (message: string) => void): StoredSettings {
  const bytes = store.get(SETTINGS_KEY);
  if (bytes === undefined) return {};
  let data: unknown;
  try {
    data = JSON.parse(decodeUtf8(bytes));
  } catch (error) {
    warn(`stored settings (${SETTINGS_KEY}) are not JSON, using config defaults: ${(error as Error).message}`);
    return {};
  }
  const out: StoredSettings = {};
  if (typeof data !== "object" || data === null) return out;
  const o = data as Record<string, unknown>;
  if (isRecordOf(o.interval, (v) => typeof v === "number")) out.interval = o.interval as { [sensor: string]: number };
  if (isRecordOf(o.deadband, (v) => typeof v === "string")) out.deadband = o.deadband as { [channel: string]: string };
  if (typeof o.heartbeatS === "number") out.heartbeatS = o.heartbeatS;
  return out;
}

export function putSettings(store: SessionStore, settings: StoredSettings): void {
  store.put(SETTINGS_KEY, encodeUtf8(JSON.stringify(settings)));
}

function isRecordOf(value: unknown, check: (v: unknown) => boolean): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.keys(value).every((k) => check((value as Record<string, unknown>)[k]));
}
