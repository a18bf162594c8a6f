// The Node adapter over real sockets: the board's limits hold (connection cap, deadline for slow clients, request
// size), garbage gets a 400, and the server keeps answering afterwards.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startNodeWebServer, type NodeWebServer } from "../../src/platform/node/web-server";
import { DEFAULT_WEB_LIMITS, textBody, type WebLimits } from "../../src/web/request";

const LIMITS: WebLimits = { ...DEFAULT_WEB_LIMITS, maxConnections: 2, requestTimeoutMs: 600 };
let server: NodeWebServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(): Promise<NodeWebServer> {
  server = await startNodeWebServer((request) => ({ status: 200, headers: [["content-type", "text/plain"]], body: textBody(`ok ${request.method} ${request.target}`) }), { limits: LIMITS });
  return server;
}

/** Sends raw bytes and resolves with everything the server sent back before it closed the connection, and when. */
function exchange(port: number, bytes: string, hold = false): Promise<{ reply: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect({ host: "127.0.0.1", port });
    let reply = "";
    socket.on("data", (d) => (reply += d.toString("latin1")));
    socket.on("error", () => {});
    socket.on("close", () => resolve({ reply, closedAfterMs: Date.now() - started }));
    socket.on("connect", () => {
      socket.write(bytes);
      if (!hold) socket.end();
    });
  });
}

describe("Node status page server", () => {
  it("answers a request with connection: close and content-length", async () => {
    const s = await start();
    const { reply } = await exchange(s.port, "GET /status.json HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(reply).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(reply.toLowerCase()).toContain("connection: close");
    expect(reply.toLowerCase()).toContain("content-length: 19");
    expect(reply.endsWith("ok GET /status.json")).toBe(true);
  });

  it("drops a slow client at the request deadline", async () => {
    const s = await start();
    const { reply, closedAfterMs } = await exchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n", true);
    expect(reply).not.toContain("200 OK");
    expect(closedAfterMs).toBeGreaterThanOrEqual(LIMITS.requestTimeoutMs - 50);
    expect(closedAfterMs).toBeLessThan(LIMITS.requestTimeoutMs + 5_000);
  });

  it("serves at most maxConnections at once", async () => {
    const s = await start();
    const idle = [net.connect({ host: "127.0.0.1", port: s.port }), net.connect({ host: "127.0.0.1", port: s.port })];
    for (const socket of idle) socket.on("error", () => {});
    await Promise.all(idle.map((socket) => new Promise((r) => socket.once("connect", r))));
    await new Promise((r) => setTimeout(r, 100));
    const third = await exchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(third.reply).toBe("");
    for (const socket of idle) socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await exchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")).reply).toContain("200 OK");
  });

  it("refuses oversized bodies, long targets and chunked bodies, answers garbage with 400, and still serves after", async () => {
    const s = await start();
    const big = "x".repeat(LIMITS.maxBodyBytes + 1);
    expect((await exchange(s.port, `POST /settings/interval HTTP/1.1\r\nHost: x\r\nContent-Length: ${big.length}\r\n\r\n${big}`)).reply).toMatch(/^HTTP\/1\.1 413 /);
    expect((await exchange(s.port, `GET /${"a".repeat(LIMITS.maxTargetBytes)} HTTP/1.1\r\nHost: x\r\n\r\n`)).reply).toMatch(/^HTTP\/1\.1 414 /);
    expect((await exchange(s.port, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n")).reply).toMatch(/^HTTP\/1\.1 501 /);
    expect((await exchange(s.port, "\x00\x01garbage\r\n\r\n")).reply).toMatch(/^HTTP\/1\.1 400 /);
    expect((await exchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")).reply).toContain("200 OK");
  });
});
