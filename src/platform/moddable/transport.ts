// TransportFactory on Moddable: the SDK's TCP `Socket` (which resolves the host name itself) or TLS `SecureSocket`, as write credits.
import { Socket } from "socket";
import Timer from "timer";
import SecureSocket from "securesocket";
import type { Transport, TransportFactory, TransportHandlers } from "../../ports";

export interface SocketTransportOptions {
  /** Host name or dotted IP; the socket resolves names (lwIP DNS on device, GResolver on the desktop). */
  host: string;
  port: number;
  /** TLS through SecureSocket. Needs the TLS manifest and a CA certificate resource; see docs/moddable.md. */
  tls?: boolean;
  /** TLS only: the `secure` dictionary SecureSocket passes to its session (certificate, protocolVersion, verify...). */
  secure?: Record<string, unknown>;
}

/** The socket callback's message codes, documented in the SDK's documentation/network/network.md. */
const SocketMessage = Object.freeze({
  Error: -2,
  Disconnected: -1,
  Connected: 1,
  Readable: 2,
  Writable: 3,
});

/** What Socket and SecureSocket have in common; SecureSocket's typing omits some of it, so this names exactly what we use. */
interface RawSocket {
  read(type: typeof ArrayBuffer): ArrayBuffer;
  write(): number;
  write(data: ArrayBuffer | Uint8Array): void;
  close(): void;
  callback: (message: number, value?: number) => void;
}

class SocketTransport implements Transport {
  readonly #handlers: TransportHandlers;
  #socket: RawSocket | undefined;
  #connected = false;
  /** A write() accepted less than it was given: call onWritable when the socket reports room. */
  #wantWritable = false;
  /** A constructor or write failure waiting to be reported on the next turn; cancelled by close(). */
  #failure: Timer | undefined;

  constructor(options: SocketTransportOptions, handlers: TransportHandlers) {
    this.#handlers = handlers;
    const dictionary = { host: options.host, port: options.port };
    let socket: RawSocket;
    try {
      socket = (options.tls
        ? new SecureSocket({ ...dictionary, secure: options.secure ?? {} })
        : new Socket(dictionary)) as unknown as RawSocket;
    } catch (error) {
      // The constructor throws when the network is down or the DNS queue is full. Report it as a failed
      // attempt, later, so the caller is never re-entered from inside its own factory call.
      this.#fail(`TCP connect to ${options.host}:${options.port} failed: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.#socket = socket;
    socket.callback = (message: number, value?: number) => this.#onSocket(message, value);
  }

  write(bytes: Uint8Array): number {
    const socket = this.#socket;
    if (socket === undefined || !this.#connected) return 0;
    let count: number;
    try {
      count = Math.min(socket.write(), bytes.length);
      if (count > 0) socket.write(count === bytes.length ? bytes : bytes.subarray(0, count));
    } catch (error) {
      // The SDK socket throws when the peer is gone ("write failed", "write on closed socket"): report it
      // as a lost link on the next turn, never from inside write().
      this.#fail(`TCP write failed: ${error instanceof Error ? error.message : String(error)}`);
      return 0;
    }
    if (count < bytes.length) this.#wantWritable = true;
    return count;
  }

  #fail(reason: string): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#connected = false;
    socket?.close();
    this.#failure = Timer.set(() => {
      this.#failure = undefined;
      this.#handlers.onClose(new Error(reason));
    }, 0);
  }

  close(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#connected = false;
    Timer.clear(this.#failure);
    this.#failure = undefined;
    // No callback follows our own close(): the caller already knows.
    socket?.close();
  }

  #onSocket(message: number, value: number | undefined): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    switch (message) {
      case SocketMessage.Connected:
        this.#connected = true;
        this.#handlers.onConnect();
        break;
      case SocketMessage.Readable: {
        // SecureSocket reports decrypted bytes in pieces of at most 1 KB; read everything offered each time.
        if ((value ?? 0) <= 0) break;
        const buffer = socket.read(ArrayBuffer);
        if (buffer.byteLength > 0) this.#handlers.onData(new Uint8Array(buffer));
        break;
      }
      case SocketMessage.Writable:
        if (this.#wantWritable && this.#socket !== undefined && (value ?? 0) > 0) {
          this.#wantWritable = false;
          this.#handlers.onWritable();
        }
        break;
      case SocketMessage.Disconnected:
      case SocketMessage.Error: {
        const wasConnected = this.#connected;
        this.#socket = undefined;
        this.#connected = false;
        socket.close();
        const what = message === SocketMessage.Error ? "socket error" : "disconnected by peer";
        this.#handlers.onClose(new Error(wasConnected ? `TCP ${what}` : `TCP connect failed (${what}): check mqtt_host, mqtt_port and the network`));
        break;
      }
      default:
        break;
    }
  }
}

/** One factory per broker; each call opens one connection attempt. */
export function createSocketTransportFactory(options: SocketTransportOptions): TransportFactory {
  return (handlers: TransportHandlers) => new SocketTransport(options, handlers);
}
