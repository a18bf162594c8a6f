// Fake of the SDK's `http` module, server side (typings/http.d.ts; documentation/network/network.md, HTTP Server;
// modules/network/http/http.js, SDK 8.2.3), over a fake of the lin TCP socket (modules/network/socket/lin/modSocket.c).
//
// The request protocol is http.js's `server()` function, ported line for line (same states, same callback order,
// same return-value meanings), so the adapter meets the SDK's own sequence: 1 connection (from the listener), 2 status
// (path, method), 3 header (lowercased name, value), 4 headersComplete (return String/ArrayBuffer for the body, true for
// fragments, false to skip it), 5 requestFragment, 6 requestComplete (the joined body), 8 prepareResponse ({status,
// headers, body}; body true: 9 responseFragment is called with the room and returns each piece, undefined at the end),
// 10 responseComplete, -1 error (disconnected before the response was done, or anything http.js threw: a bad status
// line, a bad protocol, a chunked body). The server adds "connection: close"; a response with content-length and body
// true is streamed as is, without it chunked. detach() and close(connections) as http.js has them.
//
// The socket under it behaves as lin's: each data callback (2) carries the count just received (at most 1,024, the
// receive buffer) and its bytes are readable only inside that callback (what is left unread is gone, which is why
// http.js keeps a partial line itself); read(String|ArrayBuffer|null, count|terminator) as xs_socket_read; write()
// with no argument is the room (1,024), a write that does not fit throws "can't write all data"; a writable callback
// (3) follows only a write that sent something; a peer that hangs up gives -1 once; after close() nothing is called.
// A second server on a port already open throws "bind socket failed", as the lin listener does.
import { sdk, type FakeHttpServer } from "./sdk";

/** lin modSocket.c kRxBufferSize / kTxBufferSize. */
export const SOCKET_BUFFER_BYTES = 1024;

type Message = number;
type ServerCallback = (this: Request, message: Message, val1?: unknown, val2?: unknown) => unknown;
type ReadType = typeof String | typeof ArrayBuffer | null;

/** The SDK's server-side socket of one connection (lin). The test plays the browser through FakeHttpPeer. */
export class ServerSocket {
  /** http.js sets it to its parser (server.bind(request)) and deletes it in detach(). */
  callback?: (message: number, value?: number) => void;
  /** http.js: skip the request body (headersComplete returned false). */
  ignore?: boolean;
  closed = false;
  /** Every byte the server wrote, in order. */
  readonly sent: number[] = [];
  /** A write sent bytes that no writable callback has reported yet (modSocket.c unreportedSent). */
  unreported = false;
  #incoming: Uint8Array | undefined;

  /** lin delivers a packet's bytes readable only for the length of the callback. */
  deliver(bytes: Uint8Array): void {
    if (this.closed) return;
    this.#incoming = bytes;
    try {
      this.callback?.(2, bytes.length);
    } finally {
      this.#incoming = undefined;
    }
  }

  read(): number;
  read(type: ReadType, until?: number | string): string | ArrayBuffer | number;
  read(...args: [ReadType?, (number | string)?]): string | ArrayBuffer | number {
    if (this.closed) throw new Error("read on closed socket");
    const data = this.#incoming;
    if (data === undefined || data.length === 0) return 0;
    if (args.length === 0) return data.length;
    let count = data.length;
    const until = args[1];
    if (typeof until === "number") count = Math.min(count, until);
    else if (typeof until === "string" && until.length > 0) {
      const at = data.indexOf(until.charCodeAt(0));
      if (at !== -1) count = Math.min(count, at + 1); // the terminator is included
    }
    const taken = data.subarray(0, count);
    this.#incoming = data.subarray(count);
    const type = args[0];
    if (type === null) return count;
    if (type === String) return new TextDecoder().decode(taken);
    if (type === ArrayBuffer) return taken.slice().buffer;
    throw new Error("unsupported output type");
  }

  write(...items: Array<string | number | ArrayBuffer | ArrayBufferView>): number | undefined {
    if (this.closed) throw new Error("write on closed socket");
    if (items.length === 0) return SOCKET_BUFFER_BYTES;
    const bytes: number[] = [];
    for (const item of items) {
      if (typeof item === "string") bytes.push(...new TextEncoder().encode(item));
      else if (typeof item === "number") bytes.push(item & 0xff);
      else if (item instanceof ArrayBuffer) bytes.push(...new Uint8Array(item));
      else bytes.push(...new Uint8Array(item.buffer, item.byteOffset, item.byteLength));
    }
    if (bytes.length > SOCKET_BUFFER_BYTES) throw new Error("can't write all data");
    this.sent.push(...bytes);
    if (bytes.length > 0) this.unreported = true;
    return undefined;
  }

  close(): void {
    this.closed = true;
  }
}

/** The browser's end of one connection. */
export class FakeHttpPeer {
  constructor(readonly socket: ServerSocket) {}

  /** Sends bytes as TCP would deliver them: in packets of at most `packet` bytes (1,024, the lin receive buffer). */
  send(data: string | Uint8Array, packet = SOCKET_BUFFER_BYTES): void {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    for (let at = 0; at < bytes.length; at += packet) this.socket.deliver(bytes.subarray(at, Math.min(at + packet, bytes.length)));
  }

  /** Lets the socket drain: one writable callback after each write that sent something, until the server stops. */
  pump(limit = 10_000): void {
    for (let i = 0; i < limit && !this.socket.closed && this.socket.unreported; i++) {
      this.socket.unreported = false;
      this.socket.callback?.(3, SOCKET_BUFFER_BYTES);
    }
  }

  /** The browser closes its end (lin: recv() returns 0, the callback gets -1 once, then the socket is destroyed). */
  hangUp(): void {
    if (this.socket.closed) return;
    this.socket.callback?.(-1);
    this.socket.closed = true;
  }

  get closed(): boolean {
    return this.socket.closed;
  }

  /** Everything the server sent so far. */
  get received(): Uint8Array {
    return Uint8Array.from(this.socket.sent);
  }
}

/** XS's ArrayBuffer.prototype.concat, which http.js uses to join a body received in pieces. */
function concat(buffers: ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return out.buffer;
}

function byteCount(body: unknown): number {
  if (typeof body === "string") return body.length;
  if (body instanceof ArrayBuffer) return body.byteLength;
  return 0;
}

/** http.js Request as the server uses it: one per connection, `this` of every server callback. */
export class Request {
  socket?: ServerSocket;
  server?: Server;
  state = 0;
  callback?: ServerCallback;
  // The parser's own fields (http.js keeps them on the request).
  line?: string;
  total?: number;
  request?: unknown;
  buffers?: Array<string | ArrayBuffer>;
  body?: unknown;
  flags = 0;

  constructor(dictionary: { socket: ServerSocket }) {
    this.socket = dictionary.socket;
  }

  close(): void {
    this.socket?.close();
    delete this.socket;
    delete this.buffers;
    delete this.callback;
    delete this.server;
    this.state = 11;
  }
}

export class Server {
  static readonly connection = 1;
  static readonly status = 2;
  static readonly header = 3;
  static readonly headersComplete = 4;
  static readonly requestFragment = 5;
  static readonly requestComplete = 6;
  static readonly prepareResponse = 8;
  static readonly responseFragment = 9;
  static readonly responseComplete = 10;
  static readonly error = -1;
  connections: Request[] | undefined = [];
  private readonly state: FakeHttpServer;

  constructor(options: { port?: number } = {}) {
    const port = options.port ?? 80;
    if (sdk().httpServers.some((s) => !s.closed && s.port === port)) throw new Error("bind socket failed");
    this.state = { port, callback: undefined, closed: false, accept: () => this.accept() };
    sdk().httpServers.push(this.state);
  }

  get callback(): FakeHttpServer["callback"] {
    return this.state.callback;
  }

  set callback(callback: FakeHttpServer["callback"]) {
    this.state.callback = callback;
  }

  /** The listener's callback in http.js: a new connection. */
  private accept(): FakeHttpPeer {
    if (this.state.closed) throw new Error("fake http: the server is closed, nothing listens");
    const socket = new ServerSocket();
    const request = new Request({ socket });
    socket.callback = (message, value) => parse.call(request, message, value);
    request.server = this;
    request.state = 1;
    request.callback = this.callback as ServerCallback | undefined;
    this.connections?.push(request);
    request.callback?.(Server.connection);
    return new FakeHttpPeer(socket);
  }

  close(connections = true): void {
    if (connections) {
      for (const request of this.connections ?? []) {
        try {
          request.close();
        } catch {
          // as http.js: a connection that cannot close is left
        }
      }
      this.connections = undefined;
    }
    this.state.closed = true;
  }

  detach(connection: Request): ServerSocket {
    const i = this.connections?.indexOf(connection) ?? -1;
    if (i < 0) throw new Error();
    this.connections?.splice(i, 1);
    const socket = connection.socket;
    if (socket === undefined) throw new Error("fake http: detach of a request without a socket");
    delete socket.callback;
    connection.state = 10;
    delete connection.socket;
    connection.close();
    return socket;
  }
}

/** http.js's reason(): the status text for the status line. */
const REASONS: Readonly<Record<number, string>> = Object.freeze({
  200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
  408: "Request Timeout", 413: "Request Entity Too Large", 414: "Request-URI Too Long", 415: "Unsupported Media Type",
  500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
});

interface Prepared {
  status?: number;
  reason?: unknown;
  headers?: unknown[];
  body?: unknown;
}

function removeConnection(request: Request): void {
  const connections = request.server?.connections;
  // http.js: splice(indexOf(this), 1), which removes the last connection when this one is already gone.
  connections?.splice(connections.indexOf(request), 1);
}

/** http.js `function server(message, value, etc)`, with `this` the connection's Request. */
function parse(this: Request, messageIn: number, valueIn?: number): void {
  let message = messageIn;
  let value = valueIn;
  const socket = this.socket;
  if (!socket) return;
  const call = (m: number, v1?: unknown, v2?: unknown): unknown => this.callback?.call(this, m, v1, v2);

  try {
    if (2 === message) {
      if (1 === this.state || 2 === this.state) {
        for (;;) {
          let line = socket.read(String, "\n") as string | number;
          if (!line) return; // out of data: wait for more
          let text = String(line);
          if (this.line !== undefined) {
            text = this.line + text;
            delete this.line;
          }
          if (10 !== text.charCodeAt(text.length - 1)) {
            this.line = text; // partial header line: accumulate
            return;
          }
          if ("\r\n" === text) {
            delete this.line;
            const request = call(Server.headersComplete);
            if (false === request) socket.ignore = true;
            if (undefined !== this.total) {
              this.state = 5;
              if (undefined !== request) this.request = request;
              if (true !== this.request) this.buffers = [];
              value = socket.read();
            } else {
              this.state = 7;
              message = 3;
              value = socket.write();
            }
            break;
          }
          if (1 === this.state) {
            const parts = text.split(" ");
            if (parts.length < 3) throw new Error("unexpected status format");
            const protocol = parts[parts.length - 1].trim();
            if ("HTTP/1.1" !== protocol && "HTTP/1.0" !== protocol) throw new Error("bad protocol ID");
            parts.length -= 1;
            const method = parts.shift();
            const path = parts.join(" ");
            call(Server.status, path, method);
            if (!this.socket) return;
            this.total = undefined;
            this.state = 2;
          } else if (2 === this.state) {
            const position = text.indexOf(":");
            const name = text.substring(0, position).trim().toLowerCase();
            const data = text.substring(position + 1).trim();
            if ("content-length" === name) {
              const length = parseInt(data);
              if (length) this.total = length;
            }
            if ("transfer-encoding" === name && "chunked" === data.toLowerCase()) throw new Error("chunked request body not implemented");
            call(Server.header, name, data);
          }
        }
      }
      if (5 === this.state && this.total !== undefined) {
        const available = value ?? 0;
        const count = available < this.total ? available : this.total;
        if (0 === count) return;
        if (socket.ignore) {
          socket.read(null, count);
          this.total -= count;
        } else if (true === this.request) {
          call(Server.requestFragment, socket.read());
        } else {
          this.buffers?.push(socket.read(this.request as ReadType, count) as string | ArrayBuffer);
          this.total -= count;
        }
        if (0 === this.total) {
          let data: unknown;
          const buffers = this.buffers ?? [];
          if (String === this.request) data = buffers.join("");
          else if (ArrayBuffer === this.request) data = buffers.length === 0 ? new ArrayBuffer(0) : concat(buffers as ArrayBuffer[]);
          delete this.buffers;
          delete this.request;
          delete this.total;
          this.state = 7;
          call(Server.requestComplete, data);
          message = 3;
          value = socket.write();
        }
      }
    }

    if (3 === message) {
      let first = false;
      if (7 === this.state) {
        const response = call(Server.prepareResponse) as Prepared | undefined;
        const status = response?.status ?? 200;
        const reason = response?.reason !== undefined ? String(response.reason) : REASONS[status] ?? "OK";
        const parts: string[] = ["HTTP/1.1 ", status.toString(), " ", reason, "\r\n", "connection: ", "close\r\n"];
        if (response) {
          let byteLength: number | undefined;
          for (let i = 0, headers = response.headers; headers && i < headers.length; i += 2) {
            parts.push(String(headers[i]), ": ", String(headers[i + 1]), "\r\n");
            if ("content-length" === String(headers[i]).toLowerCase()) byteLength = parseInt(String(headers[i + 1]));
          }
          this.body = response.body;
          if (true === response.body) {
            if (undefined === byteLength) {
              this.flags = 2;
              parts.push("transfer-encoding: chunked\r\n");
            } else this.flags = 4;
          } else {
            this.flags = 1;
            parts.push("content-length: ", byteCount(this.body).toString(), "\r\n");
          }
        } else parts.push("content-length: 0\r\n");
        parts.push("\r\n");
        socket.write(...parts);
        this.state = 8;
        first = true;
        if (this.body && true !== this.body) {
          if (byteCount(this.body) > (socket.write() as number) - (2 & this.flags ? 8 : 0)) return;
        }
      }
      if (8 === this.state) {
        let body = this.body;
        if (true === body) body = call(Server.responseFragment, (socket.write() as number) - (2 & this.flags ? 8 : 0));
        const count = body === undefined ? 0 : byteCount(body);
        if (0 === count) {
          if (!first) this.state = 9;
        } else if (1 & this.flags) {
          socket.write(body as string | ArrayBuffer);
          delete this.body;
          this.state = 10;
        } else if (2 & this.flags) {
          socket.write(count.toString(16).toUpperCase(), "\r\n", body as string | ArrayBuffer, "\r\n");
        } else if (4 & this.flags) {
          socket.write(body as string | ArrayBuffer);
        }
      }
      if (9 === this.state) {
        this.state = 10;
        if (2 & this.flags) socket.write("0\r\n\r\n");
        return;
      }
      if (10 === this.state) {
        try {
          call(Server.responseComplete);
        } finally {
          removeConnection(this);
          this.close();
        }
      }
    }
  } catch {
    message = -1; // close the connection on error
  }

  if (-1 === message) {
    try {
      call(10 === this.state ? Server.responseComplete : Server.error);
    } finally {
      removeConnection(this);
      this.close();
    }
  }
}
