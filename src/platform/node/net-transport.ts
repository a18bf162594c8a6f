// Node adapter: TransportFactory over net/tls sockets, with write credits mapped onto the socket's drain signal.
import { createHash } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import { TransportError } from "../../errors";
import type { Transport, TransportFactory, TransportHandlers } from "../../ports";
import { checkPeerChain } from "../../tls/peer-check";

export interface NetTransportOptions {
  host: string;
  port: number;
  /** TLS on (mqtts). */
  tls?: boolean;
  /** PEM CA certificate(s) to trust instead of the system's. */
  ca?: string | Buffer;
  /** Name to verify the broker's certificate against (defaults to host). */
  servername?: string;
  /**
   * SHA-256 digests of accepted broker public keys (mqtt_pin_sha256). When given, the device's own check decides
   * (src/tls/peer-check.ts: the leaf's key must be pinned and the leaf must name the host), as on the device.
   */
  pins?: readonly Uint8Array[];
}

/** How long a closed socket may take to flush its last bytes before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

class NetTransport implements Transport {
  private closed = false;

  constructor(private readonly socket: net.Socket, handlers: TransportHandlers, secure: boolean, host: string, pins?: readonly Uint8Array[]) {
    socket.setNoDelay(true);
    let failure: Error | undefined;
    socket.once(secure ? "secureConnect" : "connect", () => {
      if (this.closed) return;
      const refusal = pins !== undefined ? pinRefusal(socket as tls.TLSSocket, host, pins) : undefined;
      if (refusal !== undefined) {
        failure = refusal;
        socket.destroy();
        return;
      }
      handlers.onConnect();
    });
    socket.on("data", (chunk: Buffer) => {
      if (!this.closed) handlers.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    socket.on("drain", () => {
      if (!this.closed) handlers.onWritable();
    });
    let connected = false;
    socket.once(secure ? "secureConnect" : "connect", () => (connected = true));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      failure ??= describeSocketError(error, host, secure, connected);
    });
    socket.on("close", () => {
      if (this.closed) return;
      this.closed = true;
      handlers.onClose(failure ?? new TransportError(secure ? "tls" : "tcp", "connection closed by the broker", false));
    });
  }

  write(bytes: Uint8Array): number {
    if (this.closed || this.socket.destroyed) throw new Error("write on a closed connection");
    // Take nothing more once the socket's buffer is over its high-water mark; "drain" gives credit back.
    if (this.socket.writableNeedDrain) return 0;
    this.socket.write(bytes);
    return bytes.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // end() flushes what was written (a DISCONNECT must reach the broker, or it publishes the will), then sends FIN;
    // destroy() after a grace period frees a socket whose peer never answers.
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }
}

/** Opens a TCP (or TLS) connection per call, to the broker given in `options`. */
export function netTransport(options: NetTransportOptions): TransportFactory {
  return (handlers) => {
    const pinned = options.pins !== undefined && options.pins.length > 0;
    // With pins our own check decides (and checks the host name); Node's CA check would refuse a self-signed broker.
    const socket = options.tls
      ? tls.connect({ host: options.host, port: options.port, ca: options.ca, servername: serverName(options), minVersion: "TLSv1.2", rejectUnauthorized: !pinned })
      : net.connect({ host: options.host, port: options.port });
    return new NetTransport(socket, handlers, options.tls ?? false, options.host, pinned ? options.pins : undefined);
  };
}

/** SNI carries host names only (RFC 6066): an IP address is verified against the certificate without it. */
function serverName(options: NetTransportOptions): string | undefined {
  if (options.servername !== undefined) return options.servername;
  return net.isIP(options.host) === 0 ? options.host : undefined;
}

/** The pin check of the device (src/tls/peer-check.ts) on the leaf the broker presented; undefined accepts. */
function pinRefusal(socket: tls.TLSSocket, host: string, pins: readonly Uint8Array[]): TransportError | undefined {
  const leaf = socket.getPeerCertificate(false);
  const der = leaf && "raw" in leaf && leaf.raw instanceof Buffer ? new Uint8Array(leaf.raw) : undefined;
  const verdict = checkPeerChain(der === undefined ? [] : [der], { host, pins, now: Date.now() }, {
    sha256: (bytes) => new Uint8Array(createHash("sha256").update(bytes).digest()),
    verifySignature: () => false, // with pins no CA is consulted
    trustAnchorsFor: () => [],
  });
  return verdict.trusted ? undefined : new TransportError("certificate", `TLS to ${host} refused: ${verdict.reason}`, true);
}

/** OpenSSL's and Node's codes for each way a broker certificate fails, and what to tell the user. */
const CERTIFICATE_FAILURES: Readonly<Record<string, string>> = Object.freeze({
  ERR_TLS_CERT_ALTNAME_INVALID: "the broker's certificate does not name this host: use a host name or address listed in its subjectAltName",
  CERT_HAS_EXPIRED: "the broker's certificate has expired",
  CERT_NOT_YET_VALID: "the broker's certificate is not valid yet: check this computer's clock",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the broker's certificate is self-signed: give it with --ca, or pin its key (mqtt_pin_sha256)",
  SELF_SIGNED_CERT_IN_CHAIN: "the broker's chain ends in a CA this simulator does not trust: give that CA with --ca",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the broker's certificate is not signed by a CA this simulator trusts: give the CA that signed it with --ca",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the broker's certificate is not signed by a CA this simulator trusts: give the CA that signed it with --ca",
  UNABLE_TO_GET_ISSUER_CERT: "the broker's chain is incomplete: the broker must send its intermediate CA certificates",
  CERT_SIGNATURE_FAILURE: "a signature in the broker's chain does not verify (forged or corrupt certificate)",
  CERT_UNTRUSTED: "the broker's certificate is not trusted",
  CERT_REVOKED: "the broker's certificate is revoked",
});

/** Socket errors rewritten so a user knows what to fix, as the TransportError the client acts on. */
function describeSocketError(error: NodeJS.ErrnoException, host: string, secure: boolean, connected: boolean): TransportError {
  const code = error.code ?? "";
  if (code === "ECONNREFUSED") return new TransportError("tcp", `broker at ${host} refused the TCP connection (${error.message}): is it running on that port?`, false);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new TransportError("dns", `cannot resolve broker host "${host}" (${code})`, false);
  if (secure && !connected) {
    const certificate = CERTIFICATE_FAILURES[code];
    if (certificate !== undefined) return new TransportError("certificate", `TLS to ${host} refused: ${certificate} (${code})`, true);
    if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "ERR_SSL_PACKET_LENGTH_TOO_LONG") {
      return new TransportError("tls", `TLS to ${host} failed: the broker did not answer in TLS (${code}); is this port TLS?`, true);
    }
    if (/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE/.test(code)) {
      return new TransportError("tls", `TLS to ${host} refused: the broker offered a TLS version older than 1.2 (${code})`, true);
    }
    if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_")) {
      return new TransportError("tls", `TLS handshake with ${host} failed (${code}: ${error.message})`, true);
    }
    if (code === "ECONNRESET") {
      return new TransportError("tls", `TLS to ${host}: the broker closed the connection before the handshake completed (${error.message}); is this port TLS?`, false);
    }
  }
  return new TransportError(secure ? "tls" : "tcp", `${secure ? "TLS" : "TCP"} link to ${host}: ${error.message}${code ? ` (${code})` : ""}`, false);
}
