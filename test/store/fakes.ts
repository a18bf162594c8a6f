// Fake backends for store tests: RAM that survives a "reboot", and one that loses power at a chosen operation.
import type { StoreBackend } from "../../src/store/journaled-store";
import type { PreferenceApi } from "../../src/store/preference-backend";

/** A backend in RAM; keep the object and open a new store on it to simulate a reboot. */
export class MemoryBackend implements StoreBackend {
  readonly atomicWrites: boolean;
  readonly items = new Map<string, Uint8Array>();
  journal: Uint8Array | undefined;

  constructor(atomicWrites = true) {
    this.atomicWrites = atomicWrites;
  }

  names(): string[] {
    return [...this.items.keys()];
  }
  read(name: string): Uint8Array | undefined {
    return this.items.get(name)?.slice();
  }
  write(name: string, bytes: Uint8Array): void {
    this.items.set(name, bytes.slice());
  }
  remove(name: string): void {
    this.items.delete(name);
  }
  readJournal(): Uint8Array | undefined {
    return this.journal?.slice();
  }
  writeJournal(bytes: Uint8Array): void {
    this.journal = bytes.slice();
  }
  removeJournal(): void {
    this.journal = undefined;
  }
  sync(): void {}

  clone(): MemoryBackend {
    const copy = new MemoryBackend(this.atomicWrites);
    for (const [name, bytes] of this.items) copy.items.set(name, bytes.slice());
    copy.journal = this.journal?.slice();
    return copy;
  }
}

export class PowerCut extends Error {
  constructor() {
    super("power cut");
    this.name = "PowerCut";
  }
}

/**
 * How the operation at the cut behaves:
 * - "before": it never happens (every earlier one is on disk);
 * - "tear": a write leaves the first half of its bytes;
 * - "erase": a write leaves the item absent (Moddable's ESP32 Preference.set erases first);
 * - "cache-drop" / "cache-odd": writes reach the disk only at sync(); at the cut every unsynced
 *   one is lost, or only the odd-numbered ones survive (a disk that reorders its cache);
 * - "garbage": a write leaves its full length, the bytes from `keep` on replaced by garbage (a controller that
 *   wrote a stale buffer);
 * - "blank": a write leaves its full length, the bytes from `keep` on erased to 0xff (NOR flash erased, not programmed).
 * In "tear", "garbage" and "blank" the cut write keeps its first `keep` bytes (half when `keep` is undefined).
 */
export type CutMode = "before" | "tear" | "erase" | "cache-drop" | "cache-odd" | "garbage" | "blank";

/** The bytes a write at the cut leaves, full length, the first `keep` of them as intended. */
function damaged(bytes: Uint8Array, keep: number, fill: "garbage" | "blank"): Uint8Array {
  const out = bytes.slice();
  for (let i = keep; i < out.length; i++) out[i] = fill === "blank" ? 0xff : (i * 73 + 41) & 0xff;
  return out;
}

type Op = (disk: MemoryBackend) => void;

/** Counts write/remove/sync operations and loses power at operation number `cutAt` (0-based). */
export class PowerCutBackend implements StoreBackend {
  readonly atomicWrites: boolean;
  operations = 0;
  private readonly view: MemoryBackend;
  private pending: Op[] = [];
  private dead = false;

  /** Per operation counted so far: the byte length of a write, undefined for remove and sync. */
  readonly writeLengths: Array<number | undefined> = [];
  /** Indexes of the operations that wrote the commit journal. */
  readonly journalWrites = new Set<number>();

  constructor(
    readonly disk: MemoryBackend,
    readonly mode: CutMode,
    readonly cutAt: number,
    /** Bytes of the cut write that land as intended (tear, garbage, blank); half of them when undefined. */
    readonly keep?: number,
  ) {
    this.view = disk.clone();
    this.atomicWrites = mode !== "tear" && mode !== "erase" && mode !== "garbage" && mode !== "blank";
  }

  names(): string[] {
    this.alive();
    return this.view.names();
  }
  read(name: string): Uint8Array | undefined {
    this.alive();
    return this.view.read(name);
  }
  readJournal(): Uint8Array | undefined {
    this.alive();
    return this.view.readJournal();
  }
  write(name: string, bytes: Uint8Array): void {
    this.step(
      (d) => d.write(name, bytes),
      (d) => d.write(name, this.torn(bytes)),
      (d) => d.remove(name),
      bytes.length,
    );
  }
  remove(name: string): void {
    this.step((d) => d.remove(name));
  }
  writeJournal(bytes: Uint8Array): void {
    this.step(
      (d) => d.writeJournal(bytes),
      (d) => d.writeJournal(this.torn(bytes)),
      (d) => d.removeJournal(),
      bytes.length,
      true,
    );
  }
  removeJournal(): void {
    this.step((d) => d.removeJournal());
  }
  sync(): void {
    if (!this.dead) this.writeLengths.push(undefined);
    this.cut();
    for (const op of this.pending) op(this.disk);
    this.pending = [];
  }

  private alive(): void {
    if (this.dead) throw new PowerCut();
  }

  /** What a cut write leaves in the tearing modes. */
  private torn(bytes: Uint8Array): Uint8Array {
    const keep = Math.min(this.keep ?? bytes.length >> 1, bytes.length);
    if (this.mode === "garbage" || this.mode === "blank") return damaged(bytes, keep, this.mode);
    return bytes.subarray(0, keep);
  }

  /** Counts one operation; at the cut, leaves the disk as the mode says and throws. */
  private cut(torn?: Op, erased?: Op): void {
    this.alive();
    if (this.operations++ !== this.cutAt) return;
    this.dead = true;
    if ((this.mode === "tear" || this.mode === "garbage" || this.mode === "blank") && torn) torn(this.disk);
    if (this.mode === "erase" && erased) erased(this.disk);
    if (this.mode === "cache-odd") this.pending.forEach((op, i) => i % 2 === 1 && op(this.disk));
    throw new PowerCut();
  }

  private step(op: Op, torn?: Op, erased?: Op, length?: number, journal = false): void {
    if (!this.dead) {
      if (journal) this.journalWrites.add(this.writeLengths.length);
      this.writeLengths.push(length);
    }
    this.cut(torn, erased);
    op(this.view);
    if (this.mode === "cache-drop" || this.mode === "cache-odd") this.pending.push(op);
    else op(this.disk);
  }
}

/**
 * Moddable's ESP32 Preference as the SDK implements it (modules/files/preference/esp32): names of
 * at most 15 characters, values of at most 4000 bytes, set() erases the key before writing it.
 * `cutAt` loses power at that set/delete call; `erase` mode leaves a set's key erased.
 */
export class FakePreference implements PreferenceApi {
  readonly domains = new Map<string, Map<string, ArrayBuffer | string | number | boolean>>();
  operations = 0;
  cutAt = Infinity;
  dead = false;

  set(domain: string, key: string, value: string | boolean | number | ArrayBuffer): void {
    this.checkNames(domain, key);
    if (value instanceof ArrayBuffer && value.byteLength > 4000) throw new Error("nvs set fail");
    const entries = this.domains.get(domain) ?? new Map();
    this.domains.set(domain, entries);
    this.step(() => entries.delete(key));
    entries.set(key, value instanceof ArrayBuffer ? value.slice(0) : value);
  }
  get(domain: string, key: string): string | boolean | number | ArrayBuffer | undefined {
    if (this.dead) throw new PowerCut();
    this.checkNames(domain, key);
    const value = this.domains.get(domain)?.get(key);
    return value instanceof ArrayBuffer ? value.slice(0) : value;
  }
  delete(domain: string, key: string): void {
    this.checkNames(domain, key);
    this.step(() => {});
    this.domains.get(domain)?.delete(key);
  }
  keys(domain: string): string[] {
    if (this.dead) throw new PowerCut();
    return [...(this.domains.get(domain)?.keys() ?? [])];
  }

  /** The same NVS contents, powered on again. */
  reboot(): FakePreference {
    const next = new FakePreference();
    for (const [domain, entries] of this.domains) next.domains.set(domain, new Map(entries));
    return next;
  }

  private step(atCut: () => void): void {
    if (this.dead) throw new PowerCut();
    if (this.operations++ === this.cutAt) {
      this.dead = true;
      atCut();
      throw new PowerCut();
    }
  }

  private checkNames(domain: string, key: string): void {
    if (domain.length > 15 || key.length > 15) throw new Error(`nvs name too long: ${domain}/${key}`);
  }
}
