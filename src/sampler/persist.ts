// What the sampler keeps in the SessionStore: boot counter, next seq, settings changed by command, and every
// reading that has a seq but has not yet been handed to the MQTT client (binary records, one key each).
//
// Keys (all <= 15 characters, the NVS limit):
//   smp.boot          boot counter (decimal ASCII)
//   smp.seq           a lower bound of the next seq (decimal ASCII); see below
//   smp.set           settings changed by command (JSON)
//   smp.wo            wall-clock offsets of recent boots (binary, see encodeOffsets)
//   smp.r<10 base36>  one pending reading; the suffix is its seq, zero-padded, so key order is seq order
//
// Seq invariant: the next seq is max(smp.seq, highest pending record's seq + 1). A reading's record IS the
// durable advance of the counter for its seq, so accepting a reading is one commit of one item; smp.seq is
// rewritten only when records are deleted (in the same commit as the deletes), so the numbers of deleted
// records are never handed out again.
//
// Reading record, version 1 (15-25 bytes for a 3-channel sensor):
//   u8 version (1) | u8 id length, sensor id (ASCII) | varint boot | varint ms since boot
//   | u8 channel count | per channel: zigzag varint of the value scaled by 10^decimals (what the payload carries)
// Varints are unsigned LEB128 computed with arithmetic (safe to 2^53), zigzag maps -1,1,-2 to 1,2,3.
import { StorageError } from "../errors";
import { decodeUtf8, encodeUtf8 } from "../mqtt/utf8";
import type { SessionStore } from "../store/session-store";
import { pushVarint } from "../store/bytes";

export const BOOT_KEY = "smp.boot";
export const SEQ_KEY = "smp.seq";
export const SETTINGS_KEY = "smp.set";
export const OFFSETS_KEY = "smp.wo";
export const RECORD_PREFIX = "smp.r";
const SEQ_DIGITS = 10;
/** Seqs fit the key's 10 base-36 digits: 3.6e15 readings, 11 million years at 10 readings a second. */
export const MAX_SEQ = 36 ** SEQ_DIGITS - 1;
const RECORD_VERSION = 1;
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

/** Settings changed by command; each overrides the config / board value. */
export interface StoredSettings {
  /** Sampling interval per sensor id, ms. */
  interval?: { [sensor: string]: number };
  /** Deadband text per channel id. */
  deadband?: { [channel: string]: string };
  heartbeatS?: number;
}

/** A persisted reading: what the telemetry payload needs to carry it after a reboot. */
export interface ReadingRecord {
  readonly seq: number;
  readonly sensor: string;
  readonly boot: number;
  readonly uptimeMs: number;
  /** Values scaled by 10^decimals of their channel and rounded: exactly the integers the payload carries. */
  readonly scaled: readonly number[];
}

/**
 * Stored data is untrusted (a crash mid-write, a store written by other firmware): every reader here checks lengths
 * and shapes by hand, with no RegExp and no unbounded parse. XS's RegExp matcher keeps its backtracking state on the
 * machine's stack area and in malloc'd blocks (xsre.c, fxPushState); a boot that ran it on stored strings while the
 * heap was nearly full segfaulted in mcsim (issue 10), so nothing read from flash goes near it.
 */
const COUNTER_DIGITS_MAX = 16;
/** Settings are a few hundred bytes of JSON; anything much larger is not ours and is not parsed. */
export const SETTINGS_BYTES_MAX = 4096;
/** A deadband text is a short number ("0.25", "1.5%"); longer stored text is not one. */
export const DEADBAND_TEXT_MAX = 24;
const INTERVAL_MIN_MS = 100;
const INTERVAL_MAX_MS = 86_400_000;
const HEARTBEAT_MAX_S = 86_400 * 7;

export function readCounter(store: SessionStore, key: string): number {
  const bytes = store.get(key);
  if (bytes === undefined) return 0;
  let value = 0;
  let ok = bytes.length >= 1 && bytes.length <= COUNTER_DIGITS_MAX;
  for (let i = 0; ok && i < bytes.length; i++) {
    const digit = bytes[i] - 0x30;
    if (digit < 0 || digit > 9) ok = false;
    else value = value * 10 + digit;
  }
  if (!ok || !Number.isSafeInteger(value)) {
    throw new StorageError(`holds ${bytes.length} byte(s) that are not a counter; delete the key to restart numbering (seq will then repeat)`, key);
  }
  return value;
}

export function putCounter(store: SessionStore, key: string, value: number): void {
  store.put(key, encodeUtf8(String(value)));
}

/** Reads the stored settings; a value that is not the expected shape is reported (warn) and dropped, never used. */
export function readSettings(store: SessionStore, warn: (message: string) => void): StoredSettings {
  const bytes = store.get(SETTINGS_KEY);
  if (bytes === undefined) return {};
  if (bytes.length > SETTINGS_BYTES_MAX) {
    warn(`stored settings (${SETTINGS_KEY}) are ${bytes.length} bytes, more than settings ever take; using config defaults`);
    return {};
  }
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
  if (isRecordOf(o.interval, (v) => Number.isInteger(v) && (v as number) >= INTERVAL_MIN_MS && (v as number) <= INTERVAL_MAX_MS)) {
    out.interval = o.interval as { [sensor: string]: number };
  } else if (o.interval !== undefined) warn(`stored intervals (${SETTINGS_KEY}) are not whole ms from ${INTERVAL_MIN_MS} to ${INTERVAL_MAX_MS}; using config defaults`);
  if (isRecordOf(o.deadband, (v) => typeof v === "string" && v.length <= DEADBAND_TEXT_MAX)) {
    out.deadband = o.deadband as { [channel: string]: string };
  } else if (o.deadband !== undefined) warn(`stored deadbands (${SETTINGS_KEY}) are not short texts; using config defaults`);
  if (Number.isInteger(o.heartbeatS) && (o.heartbeatS as number) >= 0 && (o.heartbeatS as number) <= HEARTBEAT_MAX_S) out.heartbeatS = o.heartbeatS as number;
  else if (o.heartbeatS !== undefined) warn(`stored heartbeat (${SETTINGS_KEY}) is not 0 to ${HEARTBEAT_MAX_S} s; using the config's`);
  return out;
}

export function putSettings(store: SessionStore, settings: StoredSettings): void {
  store.put(SETTINGS_KEY, encodeUtf8(JSON.stringify(settings)));
}

/** The store key of the pending reading with this seq. */
export function recordKey(seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 0 || seq > MAX_SEQ) throw new RangeError(`seq ${seq} does not fit a record key (0..${MAX_SEQ})`);
  return RECORD_PREFIX + seq.toString(36).padStart(SEQ_DIGITS, "0");
}

/** The seq of a record key, or undefined when the key is not one. */
export function seqOfKey(key: string): number | undefined {
  const digits = key.slice(RECORD_PREFIX.length);
  if (!key.startsWith(RECORD_PREFIX) || digits.length !== SEQ_DIGITS) return undefined;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a))) return undefined;
  }
  return parseInt(digits, 36);
}

/** Scales a value as the payload does for a channel with `decimals` decimals. */
export function scaleValue(value: number, decimals: number): number {
  return Math.round(value * POW10[decimals]);
}

export function unscaleValue(scaled: number, decimals: number): number {
  return scaled / POW10[decimals];
}

export function encodeRecord(record: ReadingRecord): Uint8Array {
  const out: number[] = [RECORD_VERSION, record.sensor.length];
  for (let i = 0; i < record.sensor.length; i++) out.push(record.sensor.charCodeAt(i) & 0x7f);
  pushVarint(out, record.boot);
  pushVarint(out, Math.max(0, Math.round(record.uptimeMs)));
  out.push(record.scaled.length);
  for (const v of record.scaled) pushVarint(out, v >= 0 ? v * 2 : -v * 2 - 1);
  return Uint8Array.from(out);
}

/** Decodes a record; throws StorageError naming the key when the bytes are not a version 1 record. */
export function decodeRecord(key: string, bytes: Uint8Array): ReadingRecord {
  const seq = seqOfKey(key);
  const bad = (what: string) => new StorageError(`is not a pending-reading record (${what}); deleting it loses that reading`, key);
  if (seq === undefined) throw bad("key");
  if (bytes.length < 2 || bytes[0] !== RECORD_VERSION) throw bad(`version ${bytes[0]}`);
  const at = { i: 2 + bytes[1] };
  if (at.i > bytes.length) throw bad("sensor id");
  let sensor = "";
  for (let i = 2; i < at.i; i++) sensor += String.fromCharCode(bytes[i]);
  const boot = readVarint(bytes, at);
  const uptimeMs = readVarint(bytes, at);
  if (boot === undefined || uptimeMs === undefined || at.i >= bytes.length) throw bad("truncated");
  const count = bytes[at.i++];
  const scaled: number[] = [];
  for (let c = 0; c < count; c++) {
    const z = readVarint(bytes, at);
    if (z === undefined) throw bad("truncated value");
    scaled.push(z % 2 === 0 ? z / 2 : -(z + 1) / 2);
  }
  if (at.i !== bytes.length) throw bad("trailing bytes");
  return { seq, sensor, boot, uptimeMs, scaled };
}

/**
 * Wall-clock offset (wall ms - ms since boot) per boot, for boots whose readings may still be pending:
 * pairs of varints (boot, offset). A boot absent here never had its wall clock set while it ran.
 */
export function encodeOffsets(offsets: ReadonlyMap<number, number>): Uint8Array {
  const out: number[] = [];
  for (const [boot, offset] of offsets) {
    pushVarint(out, boot);
    pushVarint(out, Math.round(offset));
  }
  return Uint8Array.from(out);
}

export function readOffsets(store: SessionStore, warn: (message: string) => void): Map<number, number> {
  const map = new Map<number, number>();
  const bytes = store.get(OFFSETS_KEY);
  if (bytes === undefined) return map;
  const at = { i: 0 };
  while (at.i < bytes.length) {
    const boot = readVarint(bytes, at);
    const offset = readVarint(bytes, at);
    if (boot === undefined || offset === undefined) {
      warn(`stored wall-clock offsets (${OFFSETS_KEY}) are truncated; readings of earlier boots go out without wall time`);
      return new Map();
    }
    map.set(boot, offset);
  }
  return map;
}

function readVarint(bytes: Uint8Array, at: { i: number }): number | undefined {
  let value = 0;
  let scale = 1;
  for (let n = 0; n < 8; n++) {
    if (at.i >= bytes.length) return undefined;
    const b = bytes[at.i++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 0x80;
  }
  return undefined;
}

function isRecordOf(value: unknown, check: (v: unknown) => boolean): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  // Ids are short (board ids: 16 characters at most): a long key is not one of ours.
  return Object.keys(value).every((k) => k.length <= 32 && check((value as Record<string, unknown>)[k]));
}
