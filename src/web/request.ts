// What an HTTP request and response are to the status page, and the size limits every adapter enforces as bytes arrive.
//
// Rule: a request is refused the moment it passes a limit (target, header count and bytes, declared or received
// body), before anything is buffered beyond it; the adapter then sends the refusal and closes. Only the headers the
// page needs are kept (authorization, content-type, content-length, x-requested-with): the rest are counted and dropped.
import { encodeUtf8 } from "../mqtt/utf8";

/** Limits of one request and of the server. The defaults fit a board: a few KB per connection at most. */
export interface WebLimits {
  /** Connections served at once; more are closed at accept (each costs a socket and a few KB on the board). */
  readonly maxConnections: number;
  /** A request that has not been fully received (and its response started) this long after accept is dropped. */
  readonly requestTimeoutMs: number;
  /** Method + target (path and query). */
  readonly maxTargetBytes: number;
  readonly maxHeaderCount: number;
  /** Sum of header names and values. */
  readonly maxHeaderBytes: number;
  /** Request body (settings changes are small JSON objects). */
  readonly maxBodyBytes: number;
}

export const DEFAULT_WEB_LIMITS: WebLimits = Object.freeze({
  maxConnections: 3,
  requestTimeoutMs: 5_000,
  maxTargetBytes: 256,
  maxHeaderCount: 32,
  maxHeaderBytes: 4_096,
  maxBodyBytes: 512,
});

/** Response bytes read piece by piece, so a page in flash (a Moddable Resource) is never copied whole into RAM. */
export interface BodySource {
  readonly byteLength: number;
  /** Bytes [begin, end) (end clamped to byteLength). */
  chunk(begin: number, end: number): Uint8Array;
}

export function bytesBody(bytes: Uint8Array): BodySource {
  return { byteLength: bytes.length, chunk: (begin, end) => bytes.subarray(begin, Math.min(end, bytes.length)) };
}

export function textBody(text: string): BodySource {
  return bytesBody(encodeUtf8(text));
}

export interface WebRequest {
  readonly method: string;
  /** Path and query as sent ("/status.json?since=5"). */
  readonly target: string;
  readonly authorization?: string;
  readonly contentType?: string;
  /** Sent by the page's own fetches (x-requested-with): no browser login dialog for them on a 401. */
  readonly requestedWith?: string;
  readonly body: Uint8Array;
}

export interface WebResponse {
  readonly status: number;
  /** Name, value pairs; the adapter adds content-length and connection: close. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: BodySource;
}

export const STATUS_TEXT: { readonly [status: number]: string } = Object.freeze({
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Payload Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
});

/** A plain-text error response; `extra` headers go first. */
export function errorResponse(status: number, message: string, extra: readonly (readonly [string, string])[] = []): WebResponse {
  return {
    status,
    headers: [...extra, ["content-type", "text/plain; charset=utf-8"], ["cache-control", "no-store"], ["x-content-type-options", "nosniff"]],
    body: textBody(`${status} ${STATUS_TEXT[status] ?? ""}: ${message}\n`),
  };
}

// Frozen (as every module-level table here): a preloaded module's constants then stay in flash on the device.
const KEPT_HEADERS: readonly string[] = Object.freeze(["authorization", "content-type", "content-length", "x-requested-with", "transfer-encoding"]);

/**
 * Assembles one request from what the HTTP server parsed, checking every limit as each part arrives. Each step
 * returns a refusal (send it and close) or undefined (go on).
 */
export class RequestReader {
  private method = "";
  private target = "";
  private headerCount = 0;
  private headerBytes = 0;
  private readonly kept: { [name: string]: string } = {};
  private declaredLength = 0;
  private readonly chunks: Uint8Array[] = [];
  private received = 0;

  constructor(private readonly limits: WebLimits = DEFAULT_WEB_LIMITS) {}

  /** The request line's method and target. */
  start(method: string, target: string): WebResponse | undefined {
    if (method.length + target.length > this.limits.maxTargetBytes) return errorResponse(414, `request target longer than ${this.limits.maxTargetBytes} bytes`);
    if (!/^[A-Z]{1,10}$/.test(method)) return errorResponse(400, "bad method");
    if (!target.startsWith("/")) return errorResponse(400, "the target must be a path starting with /");
    this.method = method;
    this.target = target;
    return undefined;
  }

  /** One header; the name in any case. */
  header(name: string, value: string): WebResponse | undefined {
    this.headerCount++;
    this.headerBytes += name.length + value.length;
    if (this.headerCount > this.limits.maxHeaderCount) return errorResponse(431, `more than ${this.limits.maxHeaderCount} headers`);
    if (this.headerBytes > this.limits.maxHeaderBytes) return errorResponse(431, `headers longer than ${this.limits.maxHeaderBytes} bytes`);
    const lower = name.toLowerCase();
    if (KEPT_HEADERS.indexOf(lower) === -1) return undefined;
    if (this.kept[lower] !== undefined) return errorResponse(400, `header ${lower} given twice`);
    this.kept[lower] = value;
    if (lower === "transfer-encoding") return errorResponse(501, "transfer-encoding is not supported; send content-length");
    if (lower === "content-length") {
      if (!/^\s*\d{1,9}\s*$/.test(value)) return errorResponse(400, "content-length must be a number");
      this.declaredLength = Number(value);
      if (this.declaredLength > this.limits.maxBodyBytes) return errorResponse(413, `body larger than ${this.limits.maxBodyBytes} bytes`);
    }
    return undefined;
  }

  /** Body bytes the request declared (content-length); 0 when none. */
  get expectedBodyBytes(): number {
    return this.declaredLength;
  }

  /** A piece of the body. */
  body(chunk: Uint8Array): WebResponse | undefined {
    this.received += chunk.length;
    if (this.received > this.limits.maxBodyBytes || this.received > this.declaredLength) return errorResponse(413, `body larger than declared or than ${this.limits.maxBodyBytes} bytes`);
    this.chunks.push(chunk.slice());
    return undefined;
  }

  /** The whole request, or a refusal when the body fell short of its content-length. */
  finish(): WebRequest | WebResponse {
    if (this.method === "") return errorResponse(400, "no request line");
    if (this.received !== this.declaredLength) return errorResponse(400, `body of ${this.received} bytes, content-length said ${this.declaredLength}`);
    const body = new Uint8Array(this.received);
    let offset = 0;
    for (const c of this.chunks) {
      body.set(c, offset);
      offset += c.length;
    }
    return {
      method: this.method,
      target: this.target,
      authorization: this.kept["authorization"],
      contentType: this.kept["content-type"],
      requestedWith: this.kept["x-requested-with"],
      body,
    };
  }
}

/** True when `value` is a response (a refusal) rather than a request. */
export function isResponse(value: WebRequest | WebResponse): value is WebResponse {
  return (value as WebResponse).status !== undefined;
}
