// The status page on the SDK's HTTP server (modules/network/http): connection limit, byte budget and deadline per
// request, our RequestReader for the limits and StatusPage for the answers; bodies go out in socket-sized pieces.
//
// Why the extra guards: the SDK server accepts any number of connections, keeps a header line it has received in
// part without limit and has no timeout. So each connection's socket callback is wrapped to count the bytes it
// delivers (over the budget: dropped before they are read), a connection over maxConnections is closed at accept,
// and one timer drops any exchange not finished within requestTimeoutMs. Every response is "connection: close"
// (the SDK's rule), which is why the page polls instead of holding a server-sent-events stream open.
import { Server } from "http";
import Resource from "Resource";
import Timer from "timer";
import type { Clock, Logger } from "../../ports";
import { DEFAULT_WEB_LIMITS, RequestReader, STATUS_TEXT, isResponse, type BodySource, type WebLimits, type WebResponse } from "../../web/request";
import type { StatusPage } from "../../web/status-page";

/** The page resource bundled by manifest.json ("data": web/status-page.gz). */
export const PAGE_RESOURCE = "status-page.gz";
/** How often the deadline sweep runs while a connection is open. */
const SWEEP_MS = 500;

/**
 * What http.js has and the SDK's typings leave out: `detach()` (documented in network.md), `close(connections)`,
 * and each request's socket, whose callback is the server's parser (http.js, SDK 8.2.3).
 */
interface ServerInternals {
  detach(connection: RequestInternals): { close(): void };
  close(connections?: boolean): void;
}
interface RequestInternals {
  socket?: { callback?: (message: number, value?: number) => void; close(): void };
}
type Answer = undefined | boolean | typeof ArrayBuffer | ArrayBuffer | { status: number; reason?: string; headers: string[]; body: true | string };

interface Exchange {
  readonly reader: RequestReader;
  readonly startedAt: number;
  received: number;
  response?: WebResponse;
  position: number;
}

export interface WebServer {
  /** Connections open now. */
  readonly open: number;
  close(): void;
}

/** The gzipped page from flash, read a piece at a time (never copied whole into RAM). */
export function pageFromResource(): BodySource {
  const resource = new Resource(PAGE_RESOURCE);
  return { byteLength: resource.byteLength, chunk: (begin, end) => new Uint8Array(resource.slice(begin, Math.min(end, resource.byteLength))) };
}

export function startWebServer(page: StatusPage, port: number, clock: Clock, logger?: Logger, limits: WebLimits = DEFAULT_WEB_LIMITS): WebServer {
  const server = new Server({ port });
  const internals = server as unknown as ServerInternals;
  const exchanges = new Map<RequestInternals, Exchange>();
  let sweep: Timer | undefined;
  // Bytes a whole request may take: request line, headers with their separators, body.
  const budget = limits.maxTargetBytes + 16 + limits.maxHeaderBytes + 4 * limits.maxHeaderCount + limits.maxBodyBytes;

  const drop = (request: RequestInternals, why: string) => {
    exchanges.delete(request);
    try {
      internals.detach(request).close();
    } catch (error) {
      // Already closed by the server (it removes a finished connection itself): nothing left to free.
      logger?.warn(`status page: closing a connection (${why}) failed: ${(error as Error).message}`);
    }
  };

  const sweepOnce = () => {
    const now = clock.now();
    for (const [request, exchange] of exchanges) {
      if (now - exchange.startedAt > limits.requestTimeoutMs) drop(request, "timeout");
    }
    if (exchanges.size === 0 && sweep !== undefined) {
      Timer.clear(sweep);
      sweep = undefined;
    }
  };

  // The SDK calls this with `this` set to the request (one object per connection).
  function answer(this: RequestInternals, message: number, value1?: unknown, value2?: unknown): Answer {
    const request = this;
    switch (message) {
      case Server.connection: {
        if (exchanges.size >= limits.maxConnections) {
          drop(request, "too many connections");
          return undefined;
        }
        const exchange: Exchange = { reader: new RequestReader(limits), startedAt: clock.now(), received: 0, position: 0 };
        exchanges.set(request, exchange);
        const socket = request.socket;
        const parse = socket?.callback;
        if (socket !== undefined && parse !== undefined) {
          socket.callback = (socketMessage: number, value?: number) => {
            if (socketMessage === 2 && typeof value === "number") {
              exchange.received += value;
              if (exchange.received > budget) {
                drop(request, "request too large");
                return;
              }
            }
            parse(socketMessage, value);
          };
        }
        if (sweep === undefined) sweep = Timer.repeat(sweepOnce, SWEEP_MS);
        return undefined;
      }
      case Server.status: {
        const exchange = exchanges.get(request);
        if (exchange) exchange.response ??= exchange.reader.start(String(value2), String(value1));
        return undefined;
      }
      case Server.header: {
        const exchange = exchanges.get(request);
        if (exchange && exchange.response === undefined) exchange.response = exchange.reader.header(String(value1), String(value2));
        return undefined;
      }
      case Server.headersComplete: {
        const exchange = exchanges.get(request);
        if (exchange === undefined || exchange.response !== undefined) return false;
        return exchange.reader.expectedBodyBytes > 0 ? ArrayBuffer : undefined;
      }
      case Server.requestComplete: {
        const exchange = exchanges.get(request);
        if (exchange && exchange.response === undefined && value1 instanceof ArrayBuffer) exchange.response = exchange.reader.body(new Uint8Array(value1));
        return undefined;
      }
      case Server.prepareResponse: {
        const exchange = exchanges.get(request);
        if (exchange === undefined) return { status: 503, headers: ["content-type", "text/plain"], body: "503 busy\n" };
        if (exchange.response === undefined) {
          const complete = exchange.reader.finish();
          exchange.response = isResponse(complete) ? complete : page.handle(complete);
        }
        const response = exchange.response;
        const headers: string[] = [];
        for (const [name, value] of response.headers) headers.push(name, value);
        headers.push("content-length", String(response.body.byteLength));
        // Our own reason phrase: http.js's table has none for 429 or 431 and would say "OK" after them.
        return { status: response.status, reason: STATUS_TEXT[response.status], headers, body: true };
      }
      case Server.responseFragment: {
        const exchange = exchanges.get(request);
        const body = exchange?.response?.body;
        if (exchange === undefined || body === undefined || exchange.position >= body.byteLength) return undefined;
        const room = typeof value1 === "number" && value1 > 0 ? value1 : 512;
        const chunk = body.chunk(exchange.position, exchange.position + room);
        exchange.position += chunk.length;
        // A whole buffer goes as it is (Resource.slice made it); a view of a larger one is copied to its own.
        const whole = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice();
        return whole.buffer as ArrayBuffer;
      }
      case Server.responseComplete:
      case Server.error:
        exchanges.delete(request);
        return undefined;
    }
    return undefined;
  }
  // Through unknown: the SDK's typings declare no constructor as a headersComplete answer, which http.js accepts.
  server.callback = answer as unknown as typeof server.callback;

  return {
    get open() {
      return exchanges.size;
    },
    close() {
      if (sweep !== undefined) Timer.clear(sweep);
      sweep = undefined;
      exchanges.clear();
      internals.close(true);
    },
  };
}
