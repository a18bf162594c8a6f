// A fake broker for client unit tests, in the manner of mosquitto's own client tests: the test states the exact
// packets the client must write and the exact packets the broker answers, on a link the test opens, cuts and throttles.
import { expect } from "vitest";
import { decodeAll, encode, PacketDecoder } from "../../src/mqtt/codec";
import type { Packet } from "../../src/mqtt/packets";
import { concat } from "./bytes";
import type { Transport, TransportFactory, TransportHandlers } from "../../src/ports";

export class ScriptedLink implements Transport {
  readonly written: Packet[] = [];
  readonly rawWrites: Uint8Array[] = [];
  closed = false;
  /** Bytes the link accepts per write() call; Infinity by default. Set lower to force partial writes. */
  writeLimit = Infinity;
  private readonly decoder = new PacketDecoder({ maxPacketSize: 1 << 20 });

  constructor(private readonly handlers: TransportHandlers) {}

  write(bytes: Uint8Array): number {
    if (this.closed) throw new Error("write on a closed link");
    const accepted = Math.min(bytes.length, this.writeLimit);
    const taken = bytes.slice(0, accepted);
    this.rawWrites.push(taken);
    this.decoder.push(taken, (packet) => this.written.push(packet));
    return accepted;
  }

  close(): void {
    this.closed = true;
  }

  // --- the test's side ---

  open(): this {
    this.handlers.onConnect();
    return this;
  }

  send(...packets: Packet[]): this {
    this.handlers.onData(concat(packets.map(encode)));
    return this;
  }

  sendBytes(bytes: Uint8Array): this {
    this.handlers.onData(bytes);
    return this;
  }

  /** The broker side goes away (cable cut, broker killed). */
  cut(error = new Error("link cut by test")): void {
    this.closed = true;
    this.handlers.onClose(error);
  }

  /** The peer closes the link cleanly: the transport reports the close without an error. */
  closeByPeer(): void {
    this.closed = true;
    this.handlers.onClose();
  }

  writable(): void {
    this.handlers.onWritable();
  }

  /** Takes the next packet the client wrote and checks it matches `expected` (a partial packet). */
  expect(expected: { type: number; [field: string]: unknown }): Packet {
    const packet = this.written.shift();
    expect(packet, `expected the client to have written ${JSON.stringify(expected)}`).toBeDefined();
    expect(packet).toMatchObject(expected);
    return packet as Packet;
  }

  expectNothing(): void {
    expect(this.written, "client wrote more than the script expected").toEqual([]);
  }

  /** Takes every packet written so far. */
  drain(): Packet[] {
    return this.written.splice(0);
  }
}

export class ScriptedBroker {
  readonly links: ScriptedLink[] = [];
  /** A factory that throws models "no route to host": the client must treat it as a failed attempt. */
  failNextOpen: Error | undefined;

  readonly transport: TransportFactory = (handlers) => {
    if (this.failNextOpen) {
      const error = this.failNextOpen;
      this.failNextOpen = undefined;
      throw error;
    }
    const link = new ScriptedLink(handlers);
    this.links.push(link);
    return link;
  };

  get link(): ScriptedLink {
    const link = this.links[this.links.length - 1];
    if (!link) throw new Error("the client has not opened a link yet");
    return link;
  }

  get attempts(): number {
    return this.links.length;
  }
}

export { decodeAll };
