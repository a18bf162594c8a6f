// The last N samples of every channel, in fixed typed arrays allocated once: the status page's charts and latest values.
//
// Rule: memory is fixed at construction (capacity x channels Float32 values plus capacity Float64 times and serials
// per sensor); push() overwrites the oldest entry and never allocates. Every sample gets a serial (one counter for
// all sensors), so a poller asks for what came after the last serial it saw and gets only that.
// Cost: 120 samples of the lin board's 3 channels = 120 x (3 x 4 + 8 + 8) = 3,360 bytes.

export interface RecentSensor {
  readonly id: string;
  readonly channels: number;
}

/** Samples of one sensor after a serial: times (ms since boot) and one value array per channel, oldest first. */
export interface RecentSlice {
  readonly serials: number[];
  readonly times: number[];
  readonly values: number[][];
}

interface Ring {
  readonly id: string;
  readonly channels: number;
  readonly values: Float32Array;
  readonly times: Float64Array;
  readonly serials: Float64Array;
  /** Next slot to write. */
  next: number;
  count: number;
}

export const DEFAULT_RECENT_CAPACITY = 120;

export class RecentReadings {
  readonly capacity: number;
  private readonly rings: Ring[] = [];
  private serial = 0;

  constructor(sensors: readonly RecentSensor[], capacity = DEFAULT_RECENT_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 10_000) throw new RangeError(`recent readings: capacity must be 1..10000, got ${capacity}`);
    this.capacity = capacity;
    for (const s of sensors) {
      this.rings.push({
        id: s.id,
        channels: s.channels,
        values: new Float32Array(capacity * s.channels),
        times: new Float64Array(capacity),
        serials: new Float64Array(capacity),
        next: 0,
        count: 0,
      });
    }
  }

  /** Serial of the latest sample (0: none yet). */
  get lastSerial(): number {
    return this.serial;
  }

  /** Bytes of typed-array storage held. */
  get bytes(): number {
    let n = 0;
    for (const r of this.rings) n += r.values.byteLength + r.times.byteLength + r.serials.byteLength;
    return n;
  }

  /** Records one sample; unknown sensors and wrong channel counts are ignored (the sampler validated them already). */
  push(sensorId: string, values: readonly number[], uptimeMs: number): void {
    const ring = this.find(sensorId);
    if (ring === undefined || values.length !== ring.channels) return;
    const slot = ring.next;
    for (let c = 0; c < ring.channels; c++) ring.values[slot * ring.channels + c] = values[c];
    ring.times[slot] = uptimeMs;
    ring.serials[slot] = ++this.serial;
    ring.next = (slot + 1) % this.capacity;
    if (ring.count < this.capacity) ring.count++;
  }

  /** The newest sample of a sensor, or undefined before its first. */
  latest(sensorId: string): { values: number[]; uptimeMs: number } | undefined {
    const ring = this.find(sensorId);
    if (ring === undefined || ring.count === 0) return undefined;
    const slot = (ring.next - 1 + this.capacity) % this.capacity;
    const values: number[] = [];
    for (let c = 0; c < ring.channels; c++) values.push(ring.values[slot * ring.channels + c]);
    return { values, uptimeMs: ring.times[slot] };
  }

  /** Samples of a sensor with a serial above `after`, oldest first (all that are kept when `after` is 0). */
  since(sensorId: string, after: number): RecentSlice {
    const out: RecentSlice = { serials: [], times: [], values: [] };
    const ring = this.find(sensorId);
    if (ring === undefined) return out;
    for (let c = 0; c < ring.channels; c++) out.values.push([]);
    const first = (ring.next - ring.count + this.capacity) % this.capacity;
    for (let k = 0; k < ring.count; k++) {
      const slot = (first + k) % this.capacity;
      if (ring.serials[slot] <= after) continue;
      out.serials.push(ring.serials[slot]);
      out.times.push(ring.times[slot]);
      for (let c = 0; c < ring.channels; c++) out.values[c].push(ring.values[slot * ring.channels + c]);
    }
    return out;
  }

  private find(sensorId: string): Ring | undefined {
    for (const r of this.rings) if (r.id === sensorId) return r;
    return undefined;
  }
}
