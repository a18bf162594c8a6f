// The status page on the SDK's HTTP server (src/platform/moddable/web-server.ts) against the `http` fake, which runs
// http.js's own request protocol over a lin socket (test/moddable/fakes/http.ts): the gzipped page from its resource in
// socket-sized pieces, /status.json, settings with and without Basic auth, a body over the limit, a request over the
// byte budget, a slow client at the deadline, the connection cap, malformed request lines, close().
import { gunzipSync, gzipSync } from "node:zlib";
import { beforeEach, describe, expect, it } from "vitest";
import { PAGE_RESOURCE, pageFromResource, startWebServer, type WebServer } from "../../src/platform/moddable/web-server";
import type { Clock } from "../../src/ports";
import { DEFAULT_WEB_LIMITS, type WebLimits } from "../../src/web/request";
import { StatusPage } from "../../src/web/status-page";
import { basic, bootWithPage } from "../web/support";
import { SOCKET_BUFFER_BYTES, type FakeHttpPeer } from "./fakes/http";
import { addResource, advance, liveTimers, resetSdk, sdk } from "./fakes/sdk";

/** The adapter reads only now(): the fakes' virtual time, which advance() moves along with the fake timers. */
const clock: Clock = {
  now: () => sdk().now,
  setTimeout: () => {
    throw new Error("web-server.ts sets its timers through the SDK's Timer");
  },
  clearTimeout: () => undefined,
};

/** A page big enough to go out in several socket writes (gzip of text that does not compress much). */
function pageHtml(): string {
  let seed = 7;
  const words: string[] = [];
  for (let i = 0; i < 1500; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    words.push(seed.toString(36));
  }
  return `<!doctype html><title>status</title><p>${words.join(" ")}</p>`;
}

interface Reply {
  status: number;
  reason: string;
  headers: Map<string, string>;
  body: Uint8Array;
}

/** Splits what the server sent into status line, headers (lowercased names) and body. */
function reply(bytes: Uint8Array): Reply {
  const text = new TextDecoder("latin1").decode(bytes);
  const end = text.indexOf("\r\n\r\n");
  if (end === -1) throw new Error(`no complete response head in ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
  const match = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(statusLine);
  if (match === null) throw new Error(`bad status line ${statusLine}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    if (headers.has(name)) throw new Error(`header ${name} sent twice`);
    headers.set(name, line.slice(colon + 1).trim());
  }
  return { status: Number(match[1]), reason: match[2], headers, body: bytes.slice(end + 4) };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function setup(config: Record<string, unknown> = {}, limits: WebLimits = DEFAULT_WEB_LIMITS) {
  resetSdk();
  const html = pageHtml();
  const gz = new Uint8Array(gzipSync(html));
  addResource(PAGE_RESOURCE, gz);
  const { firmware } = bootWithPage(config);
  const page = new StatusPage({ firmware, page: pageFromResource(), password: firmware.device.config.web_password, extras: { version: "1.2.3" } });
  const server = startWebServer(page, 8080, clock, undefined, limits);
  const listening = sdk().httpServers.at(-1);
  if (listening?.accept === undefined) throw new Error("the adapter opened no http server");
  const accept = listening.accept;
  return { html, gz, firmware, server, listening, connect: (): FakeHttpPeer => accept() };
}

/** One whole exchange: connect, send, let the socket drain, then the browser closes (content-length reached). */
function exchange(connect: () => FakeHttpPeer, request: string, packet?: number): Reply {
  const peer = connect();
  peer.send(request, packet);
  peer.pump();
  const answer = reply(peer.received);
  peer.hangUp();
  return answer;
}

describe("Moddable status page server (http.js protocol over the lin socket fake)", () => {
  beforeEach(() => {
    resetSdk();
  });

  it("serves GET / as the gzipped resource, in pieces that fit the socket, with content-length and connection: close", () => {
    const { html, gz, server, listening, connect } = setup();
    expect(listening.port).toBe(8080);
    expect(gz.length).toBeGreaterThan(3 * SOCKET_BUFFER_BYTES);
    const peer = connect();
    expect(server.open).toBe(1);
    peer.send("GET / HTTP/1.1\r\nHost: device\r\nAccept-Encoding: gzip\r\n\r\n");
    peer.pump();
    const answer = reply(peer.received);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-encoding")).toBe("gzip");
    expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(answer.headers.get("content-length")).toBe(String(gz.length));
    expect(answer.headers.get("connection")).toBe("close");
    expect(answer.headers.has("transfer-encoding")).toBe(false);
    expect(answer.body).toEqual(gz);
    expect(gunzipSync(answer.body).toString("utf8")).toBe(html);
    // The browser closes once it has content-length bytes: the exchange ends, the sweep timer with it.
    expect(peer.closed).toBe(false);
    peer.hangUp();
    expect(server.open).toBe(0);
    advance(600);
    expect(liveTimers()).toEqual([]);
  });

  it("reads a request line and headers split across many small packets", () => {
    const { gz, connect } = setup();
    const answer = exchange(connect, "GET /index.html HTTP/1.1\r\nHost: device\r\nX-Long-Header: " + "a".repeat(300) + "\r\n\r\n", 7);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(gz);
  });

  it("serves /status.json with the device's live state", () => {
    const { connect } = setup();
    const answer = exchange(connect, "GET /status.json HTTP/1.1\r\nHost: device\r\n\r\n");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("application/json");
    expect(answer.headers.get("content-length")).toBe(String(answer.body.length));
    const status = JSON.parse(text(answer.body)) as { device: { id: string; firmware: string }; settings: { writable: boolean } };
    expect(status.device).toMatchObject({ id: "web-1", firmware: "1.2.3" });
    expect(status.settings.writable).toBe(false);
    // since=N that is not a number is the page's 400, through the same server.
    expect(exchange(connect, "GET /status.json?since=x HTTP/1.1\r\n\r\n").status).toBe(400);
  });

  it("a settings POST needs Basic auth: 401 without, 200 with, and the body reaches the command", () => {
    const { firmware, connect } = setup({ web_password: "pw" });
    const post = (auth: string | undefined, body = '{"ms":5000}') =>
      `POST /settings/interval HTTP/1.1\r\nHost: device\r\n${auth === undefined ? "" : `Authorization: ${auth}\r\n`}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const refused = exchange(connect, post(undefined));
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Basic /);
    expect(firmware.device.sampler.interval("env")).toBe(1000);
    expect(exchange(connect, post(basic("wrong"))).status).toBe(401);
    expect(firmware.device.sampler.interval("env")).toBe(1000);
    const accepted = exchange(connect, post(basic("pw")));
    expect(accepted.status).toBe(200);
    expect(JSON.parse(text(accepted.body))).toEqual({ cmd: "interval", ok: true, interval: { env: 5000 } });
    expect(firmware.device.sampler.interval("env")).toBe(5000);
    // The body arriving in pieces (joined by the server) is the same request.
    const pieces = exchange(connect, post(basic("pw"), '{"ms":7000}'), 5);
    expect(pieces.status).toBe(200);
    expect(firmware.device.sampler.interval("env")).toBe(7000);
  });

  it("a body over maxBodyBytes is refused 413; the body is skipped, not buffered", () => {
    const { firmware, server, connect } = setup({ web_password: "pw" });
    const body = `{"ms":5000,"pad":"${"x".repeat(600)}"}`;
    const peer = connect();
    peer.send(`POST /settings/interval HTTP/1.1\r\nAuthorization: ${basic("pw")}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    peer.pump();
    expect(peer.received.length).toBe(0); // http.js answers only once the declared body has gone by
    peer.send(body, 100);
    peer.pump();
    const answer = reply(peer.received);
    expect(answer.status).toBe(413);
    expect(text(answer.body)).toContain(`${DEFAULT_WEB_LIMITS.maxBodyBytes} bytes`);
    expect(firmware.device.sampler.interval("env")).toBe(1000);
    peer.hangUp();
    expect(server.open).toBe(0);
  });

  it("a request over the byte budget (a header line that never ends) is dropped unanswered once it passes the budget", () => {
    const { server, connect } = setup();
    const budget = DEFAULT_WEB_LIMITS.maxTargetBytes + 16 + DEFAULT_WEB_LIMITS.maxHeaderBytes + 4 * DEFAULT_WEB_LIMITS.maxHeaderCount + DEFAULT_WEB_LIMITS.maxBodyBytes;
    const peer = connect();
    peer.send("GET / HTTP/1.1\r\nX-Flood: ");
    peer.send("a".repeat(budget - 40));
    expect(peer.closed).toBe(false);
    expect(server.open).toBe(1);
    peer.send("a".repeat(100));
    expect(peer.closed).toBe(true);
    expect(peer.received.length).toBe(0);
    expect(server.open).toBe(0);
    // The server serves the next one.
    expect(exchange(connect, "GET /status.json HTTP/1.1\r\n\r\n").status).toBe(200);
  });

  it("drops a slow client at the deadline, not before, and the sweep timer stops with it", () => {
    const limits: WebLimits = { ...DEFAULT_WEB_LIMITS, requestTimeoutMs: 2_000 };
    const { server, connect } = setup({}, limits);
    const peer = connect();
    peer.send("GET / HTTP/1.1\r\nHost: dev");
    advance(2_000);
    expect(peer.closed).toBe(false);
    expect(server.open).toBe(1);
    advance(600); // the next sweep (every 500 ms) past the deadline
    expect(peer.closed).toBe(true);
    expect(peer.received.length).toBe(0);
    expect(server.open).toBe(0);
    expect(liveTimers()).toEqual([]);
  });

  it("serves maxConnections at once: one more is closed at accept, and accepted again once one ends", () => {
    const limits: WebLimits = { ...DEFAULT_WEB_LIMITS, maxConnections: 2 };
    const { server, connect } = setup({}, limits);
    const first = connect();
    const second = connect();
    expect(server.open).toBe(2);
    const third = connect();
    expect(third.closed).toBe(true);
    expect(server.open).toBe(2);
    third.send("GET /status.json HTTP/1.1\r\n\r\n");
    expect(third.received.length).toBe(0);
    first.send("GET /status.json HTTP/1.1\r\n\r\n");
    first.pump();
    expect(reply(first.received).status).toBe(200);
    first.hangUp();
    expect(server.open).toBe(1);
    expect(exchange(connect, "GET /status.json HTTP/1.1\r\n\r\n").status).toBe(200);
    expect(second.closed).toBe(false);
  });

  it("malformed request lines: closed unanswered when http.js cannot parse them, 400 when it can; the server goes on", () => {
    const { server, connect } = setup();
    for (const line of ["GARBAGE\r\n", "GET /\r\n", "GET / HTTP/2.0\r\n", "\x00\x01\x02 \xff\xfe HTTP/9\r\n"]) {
      const peer = connect();
      peer.send(line);
      expect(peer.closed, JSON.stringify(line)).toBe(true);
      expect(peer.received.length).toBe(0);
      expect(server.open).toBe(0);
    }
    expect(exchange(connect, "get / HTTP/1.1\r\n\r\n").status).toBe(400);
    expect(exchange(connect, "GET status.json HTTP/1.1\r\n\r\n").status).toBe(400);
    expect(exchange(connect, `GET /${"a".repeat(DEFAULT_WEB_LIMITS.maxTargetBytes)} HTTP/1.1\r\n\r\n`).status).toBe(414);
    // A chunked body is refused by http.js itself (closed), whatever the adapter thinks of it.
    const chunked = connect();
    chunked.send("POST /settings/interval HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    expect(chunked.closed).toBe(true);
    expect(server.open).toBe(0);
    expect(exchange(connect, "GET /status.json HTTP/1.1\r\n\r\n").status).toBe(200);
  });

  it("the status line carries the refusal's own reason phrase, also where http.js's table has none (431, 429)", () => {
    const { connect } = setup();
    const headers = Array.from({ length: DEFAULT_WEB_LIMITS.maxHeaderCount + 1 }, (_, i) => `X-H${i}: v\r\n`).join("");
    const tooMany = exchange(connect, `GET / HTTP/1.1\r\n${headers}\r\n`);
    expect(tooMany.status).toBe(431);
    expect(tooMany.reason).toBe("Request Header Fields Too Large");
    const missing = exchange(connect, "GET /nothing-here HTTP/1.1\r\n\r\n");
    expect(`${missing.status} ${missing.reason}`).toBe("404 Not Found");
  });

  it("a browser that leaves mid-response ends the exchange (error), and the others go on", () => {
    const { server, connect } = setup();
    const leaving = connect();
    const staying = connect();
    leaving.send("GET / HTTP/1.1\r\n\r\n");
    expect(leaving.received.length).toBeGreaterThan(0);
    leaving.hangUp();
    expect(server.open).toBe(1);
    staying.send("GET /status.json HTTP/1.1\r\n\r\n");
    staying.pump();
    expect(reply(staying.received).status).toBe(200);
  });

  it("close() closes open connections, stops the sweep and frees the port", () => {
    const { server, listening, connect } = setup();
    const peers = [connect(), connect()];
    peers[0].send("GET / HTTP/1.1\r\n");
    server.close();
    expect(peers.every((p) => p.closed)).toBe(true);
    expect(server.open).toBe(0);
    expect(listening.closed).toBe(true);
    expect(liveTimers()).toEqual([]);
    const again: WebServer = startWebServer(new StatusPage({ firmware: bootWithPage().firmware, page: pageFromResource(), password: "", extras: { version: "1.2.3" } }), 8080, clock);
    expect(again.open).toBe(0);
    again.close();
  });
});
