// An engine-neutral scripted broker (no vitest, no Node): the same script runs on Node and inside xsnap, and
// every byte the client writes goes into a transcript the two engines must agree on.
import { encode, PacketDecoder } from "../../../src/mqtt/codec";
import type { Packet } from "../../../src/mqtt/packets";
import type { Transport, TransportFactory, TransportHandlers } from "../../../src/ports";

export function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  return out;
}

/** A failed script step: names the step and what differed. */
export class ScriptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScriptError";
  }
}

/** Fails unless `actual` has every field of `expected` (Uint8Array fields compared by bytes). */
export function matches(actual: unknown, expected: Record<string, unknown>, what: string): void {
  const a = actual as Record<string, unknown> | undefined;
  if (a === undefined) throw new ScriptError(`${what}: expected ${describe(expected)}, got nothing`);
  for (const key of Object.keys(expected)) {
    const want = expected[key];
    const got = a[key];
    const same = want instanceof Uint8Array ? got instanceof Uint8Array && hex(got) === hex(want) : JSON.stringify(got) === JSON.stringify(want);
    if (!same) throw new ScriptError(`${what}: field "${key}" is ${describe(got)}, expected ${describe(want)} (packet ${describe(a)})`);
  }
}

/** One scripted scenario's transcript: what it logged, ending in "PASSED" or "FAILED: <why>". */
export interface Transcript {
  name: string;
  log: string[];
}

/** Runs each scenario in order; a failed step ends that scenario's transcript with "FAILED: <why>", the others go on. */
export function runScenarios(scenarios: Record<string, (log: string[]) => void>): Transcript[] {
  return Object.keys(scenarios).map((name) => {
    const log: string[] = [];
    try {
      scenarios[name](log);
      log.push("PASSED");
    } catch (error) {
      log.push(`FAILED: ${(error as Error).message}`);
    }
    return { name, log };
  });
}

export function check(condition: boolean, message: string): void {
  if (!condition) throw new ScriptError(message);
}

function describe(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? `0x${hex(v)}` : v));
}

/** Pass as the log to record nothing: hex-dumping 60 KB packets byte by byte is quadratic on XS. */
export const QUIET: string[] = [];

export class NeutralLink implements Transport {
  readonly written: Packet[] = [];
  closed = false;
  opened = false;
  private readonly decoder = new PacketDecoder({ maxPacketSize: 1 << 20 });

  constructor(
    private readonly handlers: TransportHandlers,
    private readonly log: string[],
    readonly index: number,
  ) {}

  write(bytes: Uint8Array): number {
    if (this.closed) throw new Error("write on a closed link");
    if (this.log !== QUIET) this.log.push(`link${this.index} client> ${hex(bytes)}`);
    this.decoder.push(bytes.slice(), (packet) => this.written.push(packet));
    return bytes.length;
  }

  close(): void {
    this.closed = true;
    this.log.push(`link${this.index} closed by client`);
  }

  open(): this {
    this.opened = true;
    this.log.push(`link${this.index} open`);
    this.handlers.onConnect();
    return this;
  }

  send(...packets: Packet[]): this {
    for (const packet of packets) {
      const bytes = encode(packet);
      if (this.log !== QUIET) this.log.push(`link${this.index} broker> ${hex(bytes)}`);
      this.handlers.onData(bytes);
    }
    return this;
  }

  cut(error: Error = new Error("link cut by script")): void {
    this.closed = true;
    this.log.push(`link${this.index} cut`);
    this.handlers.onClose(error);
  }

  /** Raw bytes as a socket delivers them (any chunk of any packet), not logged: for large or malformed input. */
  sendBytes(bytes: Uint8Array): this {
    this.handlers.onData(bytes);
    return this;
  }

  expect(expected: { type: number; [field: string]: unknown }): Packet {
    const packet = this.written.shift();
    matches(packet, expected, `link${this.index}: next packet from the client`);
    return packet as Packet;
  }

  expectNothing(): void {
    check(this.written.length === 0, `link${this.index}: client wrote more than the script expected: ${describe(this.written)}`);
  }

  drain(): Packet[] {
    return this.written.splice(0);
  }
}

export class NeutralBroker {
  readonly links: NeutralLink[] = [];
  constructor(readonly log: string[]) {}

  readonly transport: TransportFactory = (handlers) => {
    const link = new NeutralLink(handlers, this.log, this.links.length + 1);
    this.links.push(link);
    return link;
  };

  get link(): NeutralLink {
    const link = this.links[this.links.length - 1];
    if (!link) throw new ScriptError("the client has not opened a link yet");
    return link;
  }
}
