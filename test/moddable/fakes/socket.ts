// Fake of the SDK's TCP `Socket` (typings/socket.d.ts, documentation/network/network.md): write() with no argument
// says how many bytes fit now; write(data) sends all of it or, when it does not fit, none of it ("If the socket has
// insufficient buffer space to transmit the data, none of the data is sent"; the ESP32 lwIP build throws); read()
// takes what arrived; callback codes -2 error, -1 disconnected, 1 connected, 2 readable, 3 writable.
import { sdk, type FakeSocketState } from "./sdk";

export class Socket {
  static readonly connected = 1;
  static readonly readable = 2;
  static readonly writable = 3;
  static readonly disconnected = -1;
  static readonly error = -2;
  readonly #state: FakeSocketState;

  constructor(options: Record<string, unknown>) {
    const state = sdk();
    if (state.socketConstructorError !== undefined) throw new Error(state.socketConstructorError);
    this.#state = { options, room: 1460, sent: [], inbox: [], closed: false, failWrites: undefined, callback: undefined };
    state.sockets.push(this.#state);
  }

  set callback(callback: (message: number, value?: number) => void) {
    this.#state.callback = callback;
  }

  get callback(): (message: number, value?: number) => void {
    return this.#state.callback ?? (() => {});
  }

  read(type?: typeof ArrayBuffer): ArrayBuffer | number {
    const s = this.#state;
    if (s.closed) throw new Error("socket closed");
    if (type === undefined) return s.inbox.length;
    const bytes = Uint8Array.from(s.inbox.splice(0));
    return bytes.buffer;
  }

  write(...data: Array<ArrayBuffer | ArrayBufferView | string | number>): number | undefined {
    const s = this.#state;
    if (s.closed) throw new Error("write on closed socket");
    if (data.length === 0) return s.room;
    if (s.failWrites !== undefined) throw new Error(s.failWrites);
    const bytes: number[] = [];
    for (const item of data) {
      if (typeof item === "number") bytes.push(item & 0xff);
      else if (typeof item === "string") bytes.push(...new TextEncoder().encode(item));
      else if (item instanceof ArrayBuffer) bytes.push(...new Uint8Array(item));
      else bytes.push(...new Uint8Array(item.buffer, item.byteOffset, item.byteLength));
    }
    if (bytes.length > s.room) throw new Error("no buffer");
    s.room -= bytes.length;
    s.sent.push(...bytes);
    return undefined;
  }

  close(): void {
    this.#state.closed = true;
  }
}
