// A simulated NOR flash for the flash log's tests (portable: runs on Node and inside xsnap): enforces the bit rules,
// counts programs and erases per block, and loses power at a chosen operation with a torn program or erase.
import type { NorFlash } from "../../src/ports";
import { PowerCut } from "./fakes";

/** Thrown by every operation from the cut on, as if the device had lost power there (the same class as the other fakes'). */
export { PowerCut };

/** The log tried to set a bit by programming (only an erase may): a bug in the log, never a device condition. */
export class NorRuleError extends Error {
  override readonly name: string = "NorRuleError";
}

/**
 * What the operation at the cut leaves:
 * - "before": nothing (the operation never started);
 * - "tear": a program stops part way: the bytes before a random point are programmed, in the word at that point a
 *   random subset of the bits to clear are cleared, the rest untouched; an erase leaves random bits of the block set;
 * - "scatter": a program clears a random subset of the bits it should, anywhere in its bytes; an erase as "tear".
 */
export type NorCutMode = "before" | "tear" | "scatter";

/** Deterministic PRNG (mulberry32) so every cut is reproducible from its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SimNorFlash implements NorFlash {
  readonly blockSize: number;
  readonly byteLength: number;
  readonly data: Uint8Array;
  /** Bytes programmed and erases, per block. */
  readonly programmedBytes: number[];
  readonly erases: number[];
  /** Operations (write and erase calls) so far; the cut happens at operation number `cutAt`. */
  operations = 0;
  cutAt = Infinity;
  cutMode: NorCutMode = "before";
  /** Blocks whose erase leaves some bits at 0 (a worn-out block): the log must retire them. */
  readonly badErase = new Set<number>();
  /** Blocks where programming fails to clear some bits (read-back differs). */
  readonly badProgram = new Set<number>();
  /**
   * Picks single programs that come back wrong: one bit they should leave at 1 is cleared as well (read-back differs).
   * A script of this power-on only; reboot() does not carry it.
   */
  spoil: (offset: number, bytes: Uint8Array) => boolean = () => false;
  private dead = false;
  private readonly random: () => number;

  constructor(byteLength: number, blockSize = 4096, seed = 1, data?: Uint8Array) {
    this.blockSize = blockSize;
    this.byteLength = byteLength;
    this.data = data ?? new Uint8Array(byteLength).fill(0xff);
    const blocks = byteLength / blockSize;
    this.programmedBytes = new Array<number>(blocks).fill(0);
    this.erases = new Array<number>(blocks).fill(0);
    this.random = mulberry32(seed);
  }

  read(offset: number, length: number): Uint8Array {
    if (this.dead) throw new PowerCut();
    this.check(offset, length);
    return this.data.slice(offset, offset + length);
  }

  write(offset: number, bytes: Uint8Array): void {
    if (this.dead) throw new PowerCut();
    this.check(offset, bytes.length);
    for (let i = 0; i < bytes.length; i++) {
      const old = this.data[offset + i];
      if ((old & bytes[i]) !== bytes[i]) {
        throw new NorRuleError(`program at ${offset + i} would set bits (0x${old.toString(16)} -> 0x${bytes[i].toString(16)}): only an erase sets bits`);
      }
    }
    if (this.spoil(offset, bytes)) bytes = withOneBitMoreCleared(bytes);
    const block = Math.floor(offset / this.blockSize);
    this.programmedBytes[block] += bytes.length;
    if (this.operations++ === this.cutAt) {
      this.dead = true;
      if (this.cutMode === "tear") this.tearProgram(offset, bytes);
      else if (this.cutMode === "scatter") this.scatterProgram(offset, bytes);
      throw new PowerCut();
    }
    for (let i = 0; i < bytes.length; i++) this.data[offset + i] &= bytes[i];
    if (this.badProgram.has(block)) this.data[offset + (bytes.length >> 1)] |= 0x01; // a bit that will not clear
  }

  erase(block: number): void {
    if (this.dead) throw new PowerCut();
    if (!Number.isInteger(block) || block < 0 || block >= this.byteLength / this.blockSize) throw new RangeError(`no block ${block}`);
    this.erases[block]++;
    const start = block * this.blockSize;
    if (this.operations++ === this.cutAt) {
      this.dead = true;
      if (this.cutMode !== "before") {
        for (let i = start; i < start + this.blockSize; i++) this.data[i] |= Math.floor(this.random() * 256);
      }
      throw new PowerCut();
    }
    this.data.fill(0xff, start, start + this.blockSize);
    if (this.badErase.has(block)) this.data[start + 100] = 0xfe;
  }

  /** The same flash contents, powered on again (no cut pending; bad blocks stay bad). */
  reboot(): SimNorFlash {
    const next = new SimNorFlash(this.byteLength, this.blockSize, Math.floor(this.random() * 2 ** 31), this.data.slice());
    for (const b of this.badErase) next.badErase.add(b);
    for (const b of this.badProgram) next.badProgram.add(b);
    return next;
  }

  get isDead(): boolean {
    return this.dead;
  }

  private tearProgram(offset: number, bytes: Uint8Array): void {
    const word = Math.floor((this.random() * bytes.length) / 4) * 4;
    for (let i = 0; i < word && i < bytes.length; i++) this.data[offset + i] &= bytes[i];
    for (let i = word; i < word + 4 && i < bytes.length; i++) this.data[offset + i] &= bytes[i] | Math.floor(this.random() * 256);
  }

  private scatterProgram(offset: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) this.data[offset + i] &= bytes[i] | Math.floor(this.random() * 256);
  }

  private check(offset: number, length: number): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.byteLength) {
      throw new RangeError(`flash access ${offset}+${length} outside the partition of ${this.byteLength} bytes`);
    }
  }
}

/** `bytes` with the lowest 1 bit of its first non-zero byte cleared: what a cell that will not hold a 1 programs. */
function withOneBitMoreCleared(bytes: Uint8Array): Uint8Array {
  const i = bytes.findIndex((b) => b !== 0);
  const spoilt = bytes.slice();
  spoilt[i] = bytes[i] & (bytes[i] - 1);
  return spoilt;
}

/** Test values that do not repeat every 256 or 512 bytes (a value part's bytes put in the wrong part show). */
export function filled(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + (i >>> 8) * 31 + seed) & 0xff);
}
