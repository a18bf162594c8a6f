// The Moddable transport's logic over the SDK's Socket / SecureSocket, which come in as constructors so Node tests
// can drive it with fakes: write credits, failures on the next turn, and the TLS rule that a link is only called
// open after a real handshake whose chain our own check accepted (src/tls/secure-session.ts says why).
import { TransportError } from "../../errors";
import type { Transport, TransportFactory, TransportHandlers } from "../../ports";
import { handshakeFailure, handshakeVerdict, interceptChainCheck } from "../../tls/secure-session";

/** The socket callback's message codes, documented in the SDK's documentation/network/network.md. */
export const SocketMessage = Object.freeze({
  Error: -2,
  Disconnected: -1,
  Connected: 1,
  Readable: 2,
  Writable: 3,
});

/** What Socket and SecureSocket have in common; SecureSocket's typing omits some of it, so this names exactly what we use. */
export interface RawSocket {
  read(type: typeof ArrayBuffer): ArrayBuffer;
  write(): number;
  write(data: ArrayBuffer | Uint8Array): void;
  close(): void;
  /** SecureSocket also calls it with `true` after our own close() from inside a callback (securesocket.js); ignored. */
  callback: (message: number, value?: number) => void;
}

/** SecureSocket keeps its SSLSession in `ssl` (modules/crypt/securesocket/securesocket.js); deleted on close. */
interface SecureRawSocket extends RawSocket {
  ssl?: unknown;
}

/**
 * Decides whether the broker's chain (leaf first, as sent) is trusted for this session: undefined accepts,
 * a TransportError says why not. `session` is the SDK's SSLSession, for the platform's signature check.
 */
export type PeerCheck = (chain: Uint8Array[], session: unknown) => TransportError | undefined;

export interface SdkSockets {
  openSocket(dictionary: { host: string; port: number }): RawSocket;
  openSecureSocket(dictionary: { host: string; port: number; secure: Record<string, unknown> }): RawSocket;
  /** Runs `callback` on a later turn; the returned function cancels it. */
  later(callback: () => void): () => void;
}

export interface SocketLinkOptions {
  /** Host name or dotted IP; the socket resolves names (lwIP DNS on device, GResolver on the desktop). */
  host: string;
  port: number;
  /** TLS through SecureSocket; `peerCheck` is then required (a TLS link without our chain check is never opened). */
  tls?: boolean;
  /** TLS only: the `secure` dictionary SecureSocket passes to its session (protocolVersion...). */
  secure?: Record<string, unknown>;
  peerCheck?: PeerCheck;
}

class SocketLink implements Transport {
  readonly #handlers: TransportHandlers;
  readonly #endpoint: string;
  readonly #sdk: SdkSockets;
  #socket: RawSocket | undefined;
  #connected = false;
  /** A write() accepted less than it was given: call onWritable when the socket reports room. */
  #wantWritable = false;
  /** Cancels a constructor or write failure waiting to be reported on the next turn. */
  #cancelFailure: (() => void) | undefined;
  /** TLS: the SDK session, kept after SecureSocket drops its own reference, to explain a failure. */
  #session: unknown;
  #tls: boolean;
  /** TLS: our chain check ran on this session and accepted; or what it refused. */
  #chainAccepted = false;
  #refusal: TransportError | undefined;

  constructor(sdk: SdkSockets, options: SocketLinkOptions, handlers: TransportHandlers) {
    this.#sdk = sdk;
    this.#handlers = handlers;
    this.#tls = options.tls === true;
    this.#endpoint = `${options.host}:${options.port}`;
    const dictionary = { host: options.host, port: options.port };
    let socket: RawSocket;
    try {
      // cache: false so every connection is a full handshake and our chain check runs each time: a resumed
      // session sends no certificate, and the SDK's one-entry cache is not ours to trust.
      socket = this.#tls
        ? sdk.openSecureSocket({ ...dictionary, secure: { ...options.secure, cache: false } })
        : sdk.openSocket(dictionary);
    } catch (error) {
      // The constructor throws when the network is down or the DNS queue is full (or the TLS options are bad).
      // Report it as a failed attempt, later, so the caller is never re-entered from inside its own factory call.
      const detail = error instanceof Error ? error.message : String(error);
      this.#fail(new TransportError("tcp", `${this.#tls ? "TLS" : "TCP"} connect to ${this.#endpoint} failed: ${detail}`, false));
      return;
    }
    this.#socket = socket;
    if (this.#tls) {
      this.#session = (socket as SecureRawSocket).ssl;
      const peerCheck = options.peerCheck;
      const installed = peerCheck !== undefined && interceptChainCheck(this.#session, (chain) => {
        const refusal = peerCheck(chain, this.#session);
        this.#refusal = refusal;
        this.#chainAccepted = refusal === undefined;
        return this.#chainAccepted;
      });
      if (!installed) {
        this.#fail(new TransportError("tls", `TLS to ${this.#endpoint} refused: the device cannot check the broker's certificate with this SDK's SecureSocket (no session or chain check to hook; see docs/tls-sdk-flaws.md)`, true));
        return;
      }
    }
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
      this.#fail(new TransportError(this.#tls ? "tls" : "tcp", `${this.#tls ? "TLS" : "TCP"} write failed: ${error instanceof Error ? error.message : String(error)}`, false));
      return 0;
    }
    if (count < bytes.length) this.#wantWritable = true;
    return count;
  }

  #fail(error: TransportError): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#connected = false;
    if (socket !== undefined) this.#release(socket);
    this.#cancelFailure = this.#sdk.later(() => {
      this.#cancelFailure = undefined;
      this.#handlers.onClose(error);
    });
  }

  close(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#connected = false;
    this.#cancelFailure?.();
    this.#cancelFailure = undefined;
    // No callback follows our own close(): the caller already knows.
    if (socket !== undefined) this.#release(socket);
  }

  /**
   * Closes `socket` on a later turn, holding it until then. The SDK's lin Socket (modules/network/socket/lin/
   * modSocket.c) lets its JS object be collected as soon as close() runs (xsForget), yet still reads it when
   * the callback that called close() returns (socketDownUseCount): a GC in between, which a refused TLS
   * handshake's error reporting triggered, crashed mcsim (SIGSEGV in fxGetHostDestructor). We may be inside such a
   * callback here (a verdict, or the client reacting to data), so the close waits for the next turn.
   */
  #release(socket: RawSocket): void {
    this.#sdk.later(() => {
      try {
        socket.close();
      } catch {
        // Already closed by the SDK (a disconnect destroys the socket; SecureSocket closes itself on an error).
      }
    });
  }

  /** Drops the socket and reports `error` now (from inside a socket callback, never from a call of ours). */
  #drop(socket: RawSocket, error: TransportError): void {
    this.#socket = undefined;
    this.#connected = false;
    this.#release(socket);
    this.#handlers.onClose(error);
  }

  #onSocket(message: number, value: number | undefined): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    switch (message) {
      case SocketMessage.Connected: {
        if (this.#tls) {
          // SecureSocket says "connected" after an alert too: only a verdict on the session may open the link.
          const verdict = handshakeVerdict(this.#session, this.#chainAccepted, this.#endpoint);
          if (!verdict.open) {
            this.#drop(socket, verdict.error);
            break;
          }
        }
        this.#connected = true;
        this.#handlers.onConnect();
        break;
      }
      case SocketMessage.Readable: {
        // SecureSocket reports decrypted bytes in pieces of at most 1 KB; read everything offered each time.
        if (!this.#connected || (value ?? 0) <= 0) break;
        const buffer = socket.read(ArrayBuffer);
        if (buffer.byteLength > 0) this.#handlers.onData(new Uint8Array(buffer));
        break;
      }
      case SocketMessage.Writable:
        if (this.#wantWritable && this.#connected && (value ?? 0) > 0) {
          this.#wantWritable = false;
          this.#handlers.onWritable();
        }
        break;
      case SocketMessage.Disconnected:
      case SocketMessage.Error: {
        const disconnected = message === SocketMessage.Disconnected;
        if (this.#connected) {
          const what = disconnected ? "disconnected by the broker" : "socket error";
          this.#drop(socket, new TransportError(this.#tls ? "tls" : "tcp", `${this.#tls ? "TLS" : "TCP"} link to ${this.#endpoint} lost (${what})`, false));
        } else if (this.#tls) {
          this.#drop(socket, handshakeFailure(this.#session, this.#refusal, this.#endpoint, disconnected));
        } else {
          this.#drop(socket, new TransportError("tcp", `TCP connect to ${this.#endpoint} failed (${disconnected ? "disconnected" : "socket error"}): check mqtt_host, mqtt_port and the network`, false));
        }
        break;
      }
      default:
        break;
    }
  }
}

/** One factory per broker; each call opens one connection attempt. */
export function createSocketLinkFactory(sdk: SdkSockets, options: SocketLinkOptions): TransportFactory {
  return (handlers: TransportHandlers) => new SocketLink(sdk, options, handlers);
}
