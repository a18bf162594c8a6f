// The telemetry payload: a columnar JSON batch of one sensor's readings (encoder and strict decoder).
//
// Format, version 1 (one JSON object, ASCII, keys in this order):
//   {"v":1,"n":"env","b":3,"s":120,"u":5000,"w":1718000005000,"dt":[10000,10003],
//    "c":{"t":[2,2153,4,-3],"h":[1,451,-2,0],"p":[0,101325,-12,7]}}
//   v   format version (1)
//   n   sensor id from the board file
//   b   boot counter of the device when the readings were taken
//   s   seq of the first reading; reading k has seq s+k (seqs in a batch are consecutive)
//   u   ms since boot (monotonic) of the first reading
//   w   wall-clock ms since the Unix epoch of the first reading; absent when the clock was not yet set
//   dt  ms from each reading to the next (length = readings - 1); reading k is at u + sum(dt[0..k-1])
//   c   one array per channel id: [decimals, first value scaled by 10^decimals, then the change from the
//       previous reading, also scaled]; value k = (sum of elements 1..k+1) / 10^decimals.
// Version 2 is version 1 plus one key, written only when the batch's seqs are not consecutive (a board with
// several sensors: seqs are per device and given when a reading is taken, so one sensor's readings can
// interleave with another's):
//   {"v":2,"n":"env","b":3,"s":120,"ds":[2,2],"u":5000,...}
//   ds  seq step from each reading to the next (length = readings - 1, each >= 1); reading k has seq
//       s + sum(ds[0..k-1]). A consecutive batch is always written as version 1, byte for byte as before,
//       so a version 1 decoder never mis-numbers a reading: it refuses a version 2 payload instead.
// Seqs are per device and never reused, so a subscriber can drop a reading it has already seen by (device, seq).
// "w" is also absent for readings of an earlier boot whose wall clock was never set during that boot: their
// wall time cannot be known and is not invented; (b, u) still orders them.
// Integers with deltas keep a slowly drifting reading to a few characters per channel; the sum of
// a channel's array from index 1 is its latest value, which a Home Assistant template can compute.
import { decodeUtf8, encodeUtf8 } from "../mqtt/utf8";

export const PAYLOAD_VERSION = 1;
/** Version 1 plus "ds" (non-consecutive seqs). */
export const PAYLOAD_VERSION_SEQ_STEPS = 2;

export interface ChannelColumn {
  readonly id: string;
  readonly decimals: number;
}

/** One reading as the sampler keeps it: monotonic ms since boot and one value per channel (channel order). */
export interface BatchReading {
  /** The reading's seq; absent means firstSeq + its index (consecutive). */
  readonly seq?: number;
  readonly uptimeMs: number;
  readonly values: readonly number[];
}

export interface TelemetryBatch {
  readonly sensor: string;
  readonly boot: number;
  readonly firstSeq: number;
  /** Wall-clock ms of the first reading, when known. */
  readonly wallMs?: number;
  readonly channels: readonly ChannelColumn[];
  readonly readings: readonly BatchReading[];
}

export interface DecodedReading {
  readonly seq: number;
  readonly boot: number;
  readonly uptimeMs: number;
  readonly wallMs?: number;
  /** Values by channel id, rounded to the channel's decimals. */
  readonly values: { readonly [channel: string]: number };
}

export interface DecodedBatch {
  readonly sensor: string;
  readonly boot: number;
  readonly readings: readonly DecodedReading[];
}

/** A telemetry payload is not version 1 of the format; the message names the part that is wrong. */
export class PayloadError extends Error {
  // A field, not `this.name = ...`: Moddable freezes Error.prototype, so assigning "name" throws there.
  override readonly name: string = "PayloadError";
  constructor(message: string) {
    super(`telemetry payload: ${message}`);
  }
}

const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

export function encodeTelemetry(batch: TelemetryBatch): Uint8Array {
  const readings = batch.readings;
  if (readings.length === 0) throw new PayloadError("a batch needs at least one reading");
  let steps = "";
  let consecutive = true;
  let previousSeq = batch.firstSeq;
  for (let k = 1; k < readings.length; k++) {
    const seq = readings[k].seq ?? previousSeq + 1;
    if (!(seq > previousSeq)) throw new PayloadError(`reading ${k} has seq ${seq}, not after ${previousSeq}`);
    if (seq !== previousSeq + 1) consecutive = false;
    steps += (k > 1 ? "," : "") + (seq - previousSeq);
    previousSeq = seq;
  }
  const version = consecutive ? PAYLOAD_VERSION : PAYLOAD_VERSION_SEQ_STEPS;
  let json = `{"v":${version},"n":${JSON.stringify(batch.sensor)},"b":${batch.boot},"s":${batch.firstSeq}`;
  if (!consecutive) json += `,"ds":[${steps}]`;
  json += `,"u":${Math.round(readings[0].uptimeMs)}`;
  if (batch.wallMs !== undefined) json += `,"w":${Math.round(batch.wallMs)}`;
  json += `,"dt":[`;
  for (let k = 1; k < readings.length; k++) {
    json += (k > 1 ? "," : "") + (Math.round(readings[k].uptimeMs) - Math.round(readings[k - 1].uptimeMs));
  }
  json += `],"c":{`;
  batch.channels.forEach((channel, c) => {
    const scale = POW10[channel.decimals];
    json += `${c > 0 ? "," : ""}${JSON.stringify(channel.id)}:[${channel.decimals}`;
    let previous = 0;
    for (const reading of readings) {
      const scaled = Math.round(reading.values[c] * scale);
      json += `,${scaled - previous}`;
      previous = scaled;
    }
    json += "]";
  });
  return encodeUtf8(json + "}}");
}

/** Decodes and checks a version 1 or 2 payload; throws PayloadError on anything else. */
export function decodeTelemetry(payload: Uint8Array): DecodedBatch {
  let data: unknown;
  try {
    data = JSON.parse(decodeUtf8(payload));
  } catch (error) {
    throw new PayloadError(`not UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new PayloadError("expected a JSON object");
  const o = data as Record<string, unknown>;
  if (o.v !== PAYLOAD_VERSION && o.v !== PAYLOAD_VERSION_SEQ_STEPS) {
    throw new PayloadError(`"v" must be ${PAYLOAD_VERSION} or ${PAYLOAD_VERSION_SEQ_STEPS}, got ${JSON.stringify(o.v)}`);
  }
  if (typeof o.n !== "string") throw new PayloadError(`"n" (sensor id) must be a string`);
  const boot = wholeNumber(o.b, "b");
  const firstSeq = wholeNumber(o.s, "s");
  const u0 = wholeNumber(o.u, "u");
  const w0 = o.w === undefined ? undefined : wholeNumber(o.w, "w");
  if (!Array.isArray(o.dt)) throw new PayloadError(`"dt" must be an array`);
  const count = o.dt.length + 1;
  const seqs = [firstSeq];
  if (o.v === PAYLOAD_VERSION_SEQ_STEPS) {
    if (!Array.isArray(o.ds) || o.ds.length !== count - 1) throw new PayloadError(`"ds" must be an array of ${count - 1} seq steps (version 2)`);
    o.ds.forEach((d, k) => {
      const step = wholeNumber(d, `ds[${k}]`);
      if (step < 1) throw new PayloadError(`"ds[${k}]" must be at least 1 (seqs increase)`);
      seqs.push(seqs[k] + step);
    });
  } else {
    if (o.ds !== undefined) throw new PayloadError(`"ds" is only allowed in version 2`);
    for (let k = 1; k < count; k++) seqs.push(firstSeq + k);
  }
  const uptimes = [u0];
  o.dt.forEach((d, k) => uptimes.push(uptimes[k] + wholeNumber(d, `dt[${k}]`)));
  if (typeof o.c !== "object" || o.c === null || Array.isArray(o.c)) throw new PayloadError(`"c" must be an object of channel arrays`);
  const columns = o.c as Record<string, unknown>;
  const values: Record<string, number>[] = uptimes.map(() => ({}));
  for (const id of Object.keys(columns)) {
    const column = columns[id];
    if (!Array.isArray(column) || column.length !== count + 1) {
      throw new PayloadError(`"c.${id}" must be [decimals, ${count} values]`);
    }
    const decimals = column[0];
    if (typeof decimals !== "number" || !Number.isInteger(decimals) || decimals < 0 || decimals >= POW10.length) {
      throw new PayloadError(`"c.${id}[0]" (decimals) must be an integer from 0 to ${POW10.length - 1}`);
    }
    let scaled = 0;
    for (let k = 0; k < count; k++) {
      const delta = column[k + 1];
      if (typeof delta !== "number" || !Number.isInteger(delta)) throw new PayloadError(`"c.${id}[${k + 1}]" must be an integer`);
      scaled += delta;
      values[k][id] = scaled / POW10[decimals];
    }
  }
  const readings: DecodedReading[] = uptimes.map((uptimeMs, k) => {
    const reading = { seq: seqs[k], boot, uptimeMs, values: values[k] };
    return w0 === undefined ? reading : { ...reading, wallMs: w0 + (uptimeMs - u0) };
  });
  return { sensor: o.n, boot, readings };
}

function wholeNumber(value: unknown, key: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw new PayloadError(`"${key}" must be an integer, got ${JSON.stringify(value)}`);
  if (value < 0) throw new PayloadError(`"${key}" must not be negative (times are monotonic)`);
  return value;
}
