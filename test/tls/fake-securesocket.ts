// Fakes of the Moddable SDK's SecureSocket and SSLSession (SDK 8.2.3), written from its code so the transport's TLS
// logic can be driven on Node through every way the SDK ends a handshake:
//   securesocket.js: `this.ssl = new Session({tls_server_name: dict.host, ...dict.secure})` in the constructor;
//     callback(1) once `ssl.handshake()` returns true; any exception -> callback(-2) then close(); after our own
//     close() from inside a callback on the writable path it still calls callback(true).
//   session_original.js handshake(): returns true when `alert` is set (close_notify, or the protocol_version alert
//     the hello sets itself) or when Finished was processed (which deletes `certificateManager`).
//   ssl_handshake.js certificate.unpacketize: `if (!certificateManager.verify(certs, options)) throw`.
//   ssl_setup.js: `clientCipher` / `serverCipher` set by the ChangeCipherSpec steps.
import type { RawSocket, SdkSockets } from "../../src/platform/moddable/socket-link";

export class FakeSession {
  readonly options: Record<string, unknown>;
  alert: { level: number; description: number } | undefined = undefined;
  clientCipher: object | null = null;
  serverCipher: object | null = null;
  connectionEnd = false;
  chosenCipher: { keyExchangeAlgorithm: number } | undefined = undefined;
  certificateManager?: { verify(certs: Uint8Array[], options: unknown): boolean; _verify(spki: unknown, x509: unknown): boolean };
  /** What the SDK's own (flawed) chain check answers: true, as it did for the forged chain of issue 10. */
  sdkVerifyAnswer = true;
  sdkVerifyCalls = 0;

  constructor(options: Record<string, unknown>) {
    this.options = options;
    // A class instance like the SDK's CertificateManager: its methods on a (frozen) prototype, not own properties.
    const session = this;
    class CertificateManager {
      verify(): boolean {
        session.sdkVerifyCalls++;
        return session.sdkVerifyAnswer;
      }
      _verify(): boolean {
        return false;
      }
    }
    Object.freeze(CertificateManager.prototype);
    this.certificateManager = new CertificateManager();
  }
}

export class FakeSecureSocket implements RawSocket {
  static instances: FakeSecureSocket[] = [];
  readonly host: string;
  ssl: FakeSession | undefined;
  /** Session kept by the fake after close(), as the test's window on it. */
  readonly session: FakeSession;
  callback: (message: number, value?: number) => void = () => undefined;
  closing: unknown = undefined;
  handshaking = true;
  closed = false;
  written: Uint8Array[] = [];
  #pending: Uint8Array | undefined;
  callbacksAfterClose: unknown[] = [];
  /** close() was called by the adapter while a socket callback was running: what crashed mcsim's lin Socket. */
  closedInsideCallback = false;
  #depth = 0;

  constructor(dictionary: { host: string; port: number; secure: Record<string, unknown> }) {
    this.host = dictionary.host;
    this.session = new FakeSession({ tls_server_name: dictionary.host, ...dictionary.secure });
    this.ssl = this.session;
    FakeSecureSocket.instances.push(this);
  }

  read(): ArrayBuffer {
    const data = this.#pending ?? new Uint8Array(0);
    this.#pending = undefined;
    return data.slice().buffer;
  }
  write(data?: ArrayBuffer | Uint8Array): number {
    if (data === undefined) return this.handshaking || this.closed ? 0 : 4096;
    if (this.closed) throw new Error("write on closed socket");
    this.written.push(new Uint8Array(data instanceof Uint8Array ? data : new Uint8Array(data)).slice());
    return 0;
  }
  close(): void {
    if (this.#depth > 0) this.closedInsideCallback = true;
    this.#closeSelf();
  }
  #closeSelf(): void {
    this.closing = true;
    this.closed = true;
    delete this.ssl;
  }

  /** securesocket.js's socket callback: runs `step` as messageHandler would, then reports `closing`. */
  #deliver(step: () => void, path: "readable" | "writable"): void {
    if (this.closing) return;
    this.#depth++;
    try {
      try {
        step();
      } catch {
        this.closing = -2;
      }
      if (this.closing) {
        if (path === "readable" && this.closing === true) return; // securesocket.js returns early from its read loop
        this.#callback(this.closing as number);
        this.#closeSelf(); // securesocket.js closes itself after reporting
      }
    } finally {
      this.#depth--;
    }
  }

  #callback(message: number, value?: number): void {
    if (this.closed) this.callbacksAfterClose.push(message);
    this.callback(message, value);
  }

  #handshakeDone(): void {
    this.handshaking = false;
    this.#callback(1);
  }

  // What the broker's bytes make the SDK do.

  /** Socket.connected: initiateHandshake() sets connectionEnd, the ClientHello goes out. */
  tcpConnected(): void {
    this.#deliver(() => {
      this.session.connectionEnd = true;
    }, "writable");
  }
  /** The server answers with a plain close_notify alert: alert recorded, no throw, handshake "done". */
  closeNotify(): void {
    this.#deliver(() => {
      this.session.alert = { level: 1, description: 0 };
      this.#handshakeDone();
    }, "readable");
  }
  /** A ServerHello below protocolVersion: the SDK records a protocol_version alert, sends it, returns "done". */
  oldServerHello(): void {
    this.#deliver(() => {
      this.session.alert = { level: 2, description: 70 };
      this.#handshakeDone();
    }, "readable");
  }
  /** The Certificate message: the chain goes to certificateManager.verify; false makes the SDK throw. */
  certificate(chain: Uint8Array[]): void {
    this.#deliver(() => {
      const manager = this.session.certificateManager;
      if (manager === undefined) throw new Error("out of sequence");
      if (!manager.verify(chain.map((c) => c.subarray(0)), this.session.options)) throw new Error("certificate: auth err");
    }, "readable");
  }
  /** A non-close_notify alert from the broker: recorded, then thrown (ssl_alert.js). */
  fatalAlert(description: number): void {
    this.#deliver(() => {
      this.session.alert = { level: 2, description };
      throw new Error(`alert: 2, ${description}`);
    }, "readable");
  }
  /** ChangeCipherSpec both ways and Finished (after a ServerHello that chose a suite with `keyExchange`): ciphers set, certificateManager deleted, handshake done. */
  finish(options: { ciphers?: boolean; keyExchange?: number } = {}): void {
    this.#deliver(() => {
      // ssl_constants.js: RSA 0, DHE_RSA 2, ECDHE_RSA 6 (the server hello chose the suite).
      this.session.chosenCipher = { keyExchangeAlgorithm: options.keyExchange ?? 0 };
      if (options.ciphers !== false) {
        this.session.clientCipher = {};
        this.session.serverCipher = {};
      }
      delete this.session.certificateManager;
      this.#handshakeDone();
    }, "readable");
  }
  /** Decrypted application data. */
  data(bytes: Uint8Array): void {
    this.#deliver(() => {
      this.#pending = bytes;
      this.#callback(2, bytes.length);
    }, "readable");
  }
  /** Room to write after the handshake (securesocket.js passes value - 128). */
  writable(): void {
    this.#deliver(() => {
      if (!this.handshaking) this.#callback(3, 1024);
    }, "writable");
  }
  /** The TCP socket fails or the broker disconnects. */
  socketMessage(message: -1 | -2): void {
    this.#deliver(() => {
      this.closing = message;
    }, "writable");
  }
}

export class FakePlainSocket implements RawSocket {
  static instances: FakePlainSocket[] = [];
  callback: (message: number, value?: number) => void = () => undefined;
  closed = false;
  constructor() {
    FakePlainSocket.instances.push(this);
  }
  read(): ArrayBuffer {
    return new ArrayBuffer(0);
  }
  write(data?: ArrayBuffer | Uint8Array): number {
    if (data === undefined) return 1024;
    return 0;
  }
  close(): void {
    this.closed = true;
  }
}

/** The SDK as socket-link.ts sees it, with `later` callbacks run by `runLater()`. */
export function fakeSdk(): SdkSockets & { runLater(): void; throwOnOpen?: Error } {
  const queue: (() => void)[] = [];
  const sdk = {
    throwOnOpen: undefined as Error | undefined,
    openSocket: () => {
      if (sdk.throwOnOpen) throw sdk.throwOnOpen;
      return new FakePlainSocket();
    },
    openSecureSocket: (dictionary: { host: string; port: number; secure: Record<string, unknown> }) => {
      if (sdk.throwOnOpen) throw sdk.throwOnOpen;
      return new FakeSecureSocket(dictionary);
    },
    later(callback: () => void) {
      queue.push(callback);
      return () => {
        const at = queue.indexOf(callback);
        if (at !== -1) queue.splice(at, 1);
      };
    },
    runLater() {
      for (const callback of queue.splice(0)) callback();
    },
  };
  return sdk;
}
