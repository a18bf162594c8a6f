// The status page on Node's HTTP server, for the simulator: one server per device on 127.0.0.1, with the same
// limits as the board (connections, request size, deadline) and the same RequestReader and StatusPage answers.
// Every response says "connection: close", as the Moddable server's do, so a browser sees the board's behaviour.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DEFAULT_WEB_LIMITS, RequestReader, bytesBody, isResponse, type BodySource, type WebLimits, type WebRequest, type WebResponse } from "../../web/request";

/** The committed page resource (scripts/build-web.mjs), the same bytes manifest.json bundles for the board. */
export const PAGE_FILE = fileURLToPath(new URL("../../../web/status-page.gz", import.meta.url));

export function pageFromFile(file = PAGE_FILE): BodySource {
  return bytesBody(new Uint8Array(readFileSync(file)));
}

export interface NodeWebServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `handle` on host:port (port 0: a free one). */
export async function startNodeWebServer(
  handle: (request: WebRequest) => WebResponse,
  options: { host?: string; port?: number; limits?: WebLimits } = {},
): Promise<NodeWebServer> {
  const limits = options.limits ?? DEFAULT_WEB_LIMITS;
  const host = options.host ?? "127.0.0.1";
  const server = http.createServer({
    // Node's parser refuses larger heads itself (431); our reader applies the exact limits after it.
    maxHeaderSize: 16 * 1024,
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.requestTimeoutMs,
    keepAlive: false,
    // Node checks request deadlines on this period (30 s by default): often enough that the deadline means what it says.
    connectionsCheckingInterval: Math.max(100, Math.floor(limits.requestTimeoutMs / 5)),
  });
  server.maxConnections = limits.maxConnections;
  server.setTimeout(limits.requestTimeoutMs, (socket) => socket.destroy());

  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const reader = new RequestReader(limits);
    let refusal = reader.start(req.method ?? "", req.url ?? "");
    for (let i = 0; refusal === undefined && i < req.rawHeaders.length; i += 2) refusal = reader.header(req.rawHeaders[i], req.rawHeaders[i + 1]);
    if (refusal !== undefined) {
      send(res, refusal);
      req.resume();
      return;
    }
    let done = false;
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      const tooMuch = reader.body(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if (tooMuch !== undefined) {
        done = true;
        send(res, tooMuch);
        req.destroy();
      }
    });
    req.on("end", () => {
      if (done) return;
      done = true;
      const complete = reader.finish();
      send(res, isResponse(complete) ? complete : handle(complete));
    });
    req.on("error", () => {
      // The client went away mid-request: nothing to answer.
      done = true;
    });
  });
  server.on("clientError", (_error, socket) => {
    // Node's own parser refused the bytes (malformed, head too large): answer 400 when the socket still takes it.
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: http.ServerResponse, response: WebResponse): void {
  if (res.headersSent) return;
  const headers: Record<string, string | number> = {};
  for (const [name, value] of response.headers) headers[name] = value;
  headers["content-length"] = response.body.byteLength;
  headers["connection"] = "close";
  res.writeHead(response.status, headers);
  const body = response.body;
  for (let offset = 0; offset < body.byteLength; offset += 4096) res.write(body.chunk(offset, offset + 4096));
  res.end();
}
