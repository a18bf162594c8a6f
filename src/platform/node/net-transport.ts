// Node adapter: TransportFactory over net/tls sockets, with write credits mapped onto the socket's drain signal.
import net from "node:net";
import tls from "node:tls";
import type { Transport, TransportFactory, TransportHandlers } from "../../ports";

export interface NetTransportOptions {
  host: string;
  port: number;
  /** TLS on (mqtts). */
  tls?: boolean;
  /** PEM CA certificate(s) to trust instead of the system's. */
  ca?: string | Buffer;
  /** Name to verify the broker's certificate against (defaults to host). */
  servername?: string;
}

/** How long a closed socket may take to flush its last bytes before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

class NetTransport implements Transport {
  private closed = false;

  constructor(private readonly socket: net.Socket, handlers: TransportHandlers, secure: boolean, host: string) {
    socket.setNoDelay(true);
    socket.once(secure ? "secureConnect" : "connect", () => {
      if (!this.closed) handlers.onConnect();
    });
    socket.on("data", (chunk: Buffer) => {
      if (!this.closed) handlers.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    socket.on("drain", () => {
      if (!this.closed) handlers.onWritable();
    });
    let failure: Error | undefined;
    socket.on("error", (error: NodeJS.ErrnoException) => {
      failure = describeSocketError(error, host, secure);
    });
    socket.on("close", () => {
      if (this.closed) return;
      this.closed = true;
      handlers.onClose(failure ?? new Error("connection closed by the broker"));
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
    const socket = options.tls
      ? tls.connect({ host: options.host, port: options.port, ca: options.ca, servername: serverName(options) })
      : net.connect({ host: options.host, port: options.port });
    return new NetTransport(socket, handlers, options.tls ?? false, options.host);
  };
}

/** SNI carries host names only (RFC 6066): an IP address is verified against the certificate without it. */
function serverName(options: NetTransportOptions): string | undefined {
  if (options.servername !== undefined) return options.servername;
  return net.isIP(options.host) === 0 ? options.host : undefined;
}

/** Socket errors rewritten so a user knows what to fix. */
function describeSocketError(error: NodeJS.ErrnoException, host: string, secure: boolean): Error {
  const code = error.code ?? "";
  if (code === "ECONNREFUSED") return new Error(`broker at ${host} refused the TCP connection (${error.message}): is it running on that port?`);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new Error(`cannot resolve broker host "${host}" (${code})`);
  if (secure && isCertificateFailure(code)) {
    return new Error(`TLS: the broker's certificate was refused (${code}: ${error.message}); check the CA (mqtt_ca) and that the host name matches the certificate`);
  }
  return error;
}

/** OpenSSL's and Node's codes for a certificate that failed verification (untrusted issuer, bad name, expired...). */
function isCertificateFailure(code: string): boolean {
  return code.startsWith("ERR_TLS") || /CERT|VERIFY|ISSUER|SELF_SIGNED/.test(code);
}
