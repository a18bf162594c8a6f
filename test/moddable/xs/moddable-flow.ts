// Two Moddable adapters over the SDK fakes, engine-neutral: the mcsim flash image (lin/partition.ts over the `file`
// fake) with the flash log on it, and the status page server (web-server.ts over the `http` fake, which runs http.js's
// request protocol). The same flows run on Node (vitest resolves the SDK names to the fakes) and on XS (the bundle
// does, test/xs/moddable.xs.test.ts), and must give the same results. Only plain data comes back.
import { openPartition, PARTITION_DESCRIPTION } from "../../../src/platform/moddable/lin/partition";
import { PAGE_RESOURCE, pageFromResource, startWebServer } from "../../../src/platform/moddable/web-server";
import type { Clock } from "../../../src/ports";
import { FlashLogStore } from "../../../src/store/flash-log";
import { DEFAULT_WEB_LIMITS, textBody, type WebRequest, type WebResponse } from "../../../src/web/request";
import type { StatusPage } from "../../../src/web/status-page";
import type { FakeHttpPeer } from "../fakes/http";
import { addResource, advance, liveTimers, resetSdk, sdk } from "../fakes/sdk";

export interface LinPartitionFlowResult {
  description: string;
  fileBytes: number;
  blank: boolean;
  refused: string;
  afterRefusal: number[];
  erasedBlank: boolean;
  neighbourKept: boolean;
  afterReboot: number[] | undefined;
}

export function runLinPartitionFlow(): LinPartitionFlowResult {
  resetSdk();
  const flash = openPartition();
  const image = sdk().files.get("/tmp/xs-mqtt-flash.img") ?? new Uint8Array(0);
  let blank = true;
  for (const b of image) if (b !== 0xff) blank = false;
  flash.write(4096 + 3, Uint8Array.of(0x0f, 0x3c));
  let refused = "";
  try {
    flash.write(4096 + 3, Uint8Array.of(0x0f, 0xc3));
  } catch (error) {
    refused = (error as Error).message;
  }
  const afterRefusal = Array.from(flash.read(4096 + 2, 4));
  flash.write(8192, Uint8Array.of(0));
  flash.erase(1);
  const erasedBlank = flash.read(4096, 4096).every((b) => b === 0xff);
  const neighbourKept = flash.read(8192, 1)[0] === 0;
  flash.erase(2);
  const log = FlashLogStore.open(flash);
  log.put("k", Uint8Array.of(1, 2, 3));
  log.commit();
  const afterReboot = FlashLogStore.open(openPartition()).get("k");
  return {
    description: PARTITION_DESCRIPTION,
    fileBytes: image.length,
    blank,
    refused,
    afterRefusal,
    erasedBlank,
    neighbourKept,
    afterReboot: afterReboot === undefined ? undefined : Array.from(afterReboot),
  };
}

export interface WebServerFlowResult {
  /** Per exchange: what the browser got (head lines, body length and byte sum) or "closed, nothing sent". */
  exchanges: string[];
  openAtEnd: number;
  timersAtEnd: number;
}

const clock: Clock = {
  now: () => sdk().now,
  setTimeout: () => {
    throw new Error("not used by web-server.ts");
  },
  clearTimeout: () => undefined,
};

function latin1(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

function describeReply(peer: FakeHttpPeer): string {
  const bytes = peer.received;
  if (bytes.length === 0) return `closed=${peer.closed}, nothing sent`;
  const text = latin1(bytes);
  const end = text.indexOf("\r\n\r\n");
  const body = bytes.subarray(end + 4);
  let sum = 0;
  for (const b of body) sum = (sum + b) % 65_521;
  return `${text.slice(0, end).split("\r\n").join(" | ")} || ${body.length} bytes, sum ${sum}`;
}

export function runWebServerFlow(): WebServerFlowResult {
  resetSdk();
  const resource = new Uint8Array(3000);
  for (let i = 0; i < resource.length; i++) resource[i] = (i * 31 + 7) & 0xff;
  addResource(PAGE_RESOURCE, resource);
  // A stand-in for StatusPage (tested on both engines by web.xs.test.ts): the page at /, an echo elsewhere.
  const page = {
    handle(request: WebRequest): WebResponse {
      if (request.target === "/") return { status: 200, headers: [["content-encoding", "gzip"]], body: pageFromResource() };
      return { status: 200, headers: [["content-type", "text/plain"]], body: textBody(`${request.method} ${request.target} ${request.body.length}`) };
    },
  } as unknown as StatusPage;
  const server = startWebServer(page, 8080, clock, undefined, { ...DEFAULT_WEB_LIMITS, maxConnections: 2 });
  const accept = sdk().httpServers[0]?.accept;
  if (accept === undefined) throw new Error("no server");
  const exchanges: string[] = [];
  const whole = (request: string, packet?: number) => {
    const peer = accept();
    peer.send(request, packet);
    peer.pump();
    exchanges.push(describeReply(peer));
    peer.hangUp();
  };
  whole("GET / HTTP/1.1\r\nHost: d\r\n\r\n");
  whole("POST /x HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world", 5);
  whole(`POST /x HTTP/1.1\r\nContent-Length: ${DEFAULT_WEB_LIMITS.maxBodyBytes + 1}\r\n\r\n${"b".repeat(DEFAULT_WEB_LIMITS.maxBodyBytes + 1)}`);
  whole("GARBAGE\r\n");
  whole("get / HTTP/1.1\r\n\r\n");
  const flood = accept();
  flood.send(`GET / HTTP/1.1\r\nX: ${"a".repeat(6000)}`);
  exchanges.push(describeReply(flood));
  const slow = accept();
  slow.send("GET / HTTP/1.1\r\n");
  const idle = accept();
  const over = accept();
  exchanges.push(`third connection: ${describeReply(over)}`);
  advance(DEFAULT_WEB_LIMITS.requestTimeoutMs + 600);
  exchanges.push(`after the deadline: ${describeReply(slow)}; idle closed=${idle.closed}`);
  return { exchanges, openAtEnd: server.open, timersAtEnd: liveTimers().length };
}
