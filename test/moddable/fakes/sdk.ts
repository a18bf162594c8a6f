// Fakes of the Moddable SDK modules the firmware's adapters import (src/platform/moddable, src/main.ts), written from
// the SDK's typings/ (socket, timer, time, preference, wifi, net, sntp, Resource, modules, instrumentation) and
// documentation/network/network.md, documentation/files/files.md: same shapes, same callback codes, same documented
// failures. vitest.config.ts resolves the SDK's bare module names to the files next to this one, for importers in
// src/platform/moddable and src/main.ts only. Every fake keeps its state in one object on globalThis, so a test that
// re-imports main.ts (vi.resetModules) still drives the same fakes; resetSdk() gives every test a fresh device.
import { SimNorFlash } from "../../store/nor-flash";
import type { FakeHttpPeer } from "./http";
import type { FakeSecureSocket } from "../../tls/fake-securesocket";

/** The flash log's partition in partitions/flashlog-4mb.csv: "xsmqtt", 256 KB (0x40000) in 4 KB blocks. */
export const LOG_PARTITION = "xsmqtt";
export const LOG_PARTITION_BYTES = 0x40000;

/** One `new Server({port})` of the fake `http` module. */
export interface FakeHttpServer {
  port: number;
  /** The callback the adapter installed (server.callback = ...). */
  callback: ((message: number, val1?: unknown, val2?: unknown) => unknown) | undefined;
  closed: boolean;
  /** A browser connects: the listener accepts, the server tells the callback (1); the browser's end is returned. */
  accept?: () => FakeHttpPeer;
}

/** One timer of the fake `timer` module: virtual time, fired by advance(). */
export interface FakeTimer {
  id: number;
  due: number;
  /** Repeat interval (Timer.repeat, or Timer.set's third argument); undefined for one-shot. */
  repeat: number | undefined;
  callback: (timer: FakeTimer) => void;
  cleared: boolean;
  fired: number;
}

/** SocketTransport talks to one of these; the test plays the network through its methods. */
export interface FakeSocketState {
  options: Record<string, unknown>;
  /** What the socket would accept right now (write() with no argument). */
  room: number;
  /** Every byte written, in order. */
  sent: number[];
  /** Bytes received and not yet read. */
  inbox: number[];
  closed: boolean;
  /** The next write(data) throws this message (the SDK throws when the peer is gone). */
  failWrites: string | undefined;
  callback: ((message: number, value?: number) => void) | undefined;
}

export interface FakeSntpState {
  host: string;
  callback: (message: -1 | 1 | 2, value?: number | string) => string | void;
}

interface SdkState {
  now: number;
  timers: FakeTimer[];
  nextTimerId: number;
  /** Time.ticks: device ms since boot as the ESP32 keeps it (a signed 32-bit integer that wraps). */
  ticks: number;
  /** Time.set() calls (seconds). */
  timeSets: number[];
  sockets: FakeSocketState[];
  /** new Socket() throws this (network down, DNS queue full). */
  socketConstructorError: string | undefined;
  preferences: Map<string, Map<string, string | boolean | number | ArrayBuffer>>;
  /** Preference operations in order ("set d k", "delete d k"). */
  preferenceLog: string[];
  wifiMonitors: Array<{ callback: ((message: string) => void) | undefined; closed: boolean }>;
  wifiConnects: Array<Record<string, unknown> | undefined>;
  wifiDisconnects: number;
  /** WiFi.connect throws this (the ESP32 driver's "esp_wifi_connect failed"). */
  wifiConnectError: string | undefined;
  /** Set: `new WiFi(options, callback)` throws it, as xs6wifi.c's onNotify does when c_calloc fails ("out of memory"). */
  wifiMonitorError: string | undefined;
  net: Record<string, string | number | undefined>;
  /** Net.get throws for these properties (a platform without them). */
  netThrows: Set<string>;
  sntp: FakeSntpState[];
  sntpConstructorError: string | undefined;
  resources: Map<string, Uint8Array>;
  modules: Map<string, unknown>;
  instrumentation: Map<string, { index: number; value: number | undefined }>;
  config: Record<string, unknown>;
  traces: string[];
  /** Flash partitions by name (the fake `flash` module): NOR rules enforced, see test/store/nor-flash.ts. */
  flash: Map<string, SimNorFlash>;
  httpServers: FakeHttpServer[];
  /** The file system the fake `file` module reads and writes (mcsim's disk): path -> bytes. */
  files: Map<string, Uint8Array>;
  /** Every File opened, in order ("rw /tmp/x", "r /tmp/x"). */
  fileOpens: string[];
  /** File.write throws this message (disk full: lin's "file write failed"). */
  fileWriteError: string | undefined;
  /** Every SecureSocket the adapter opened (the fake `securesocket`), in order. */
  secureSockets: FakeSecureSocket[];
}

const KEY = Symbol.for("xs-mqtt-sensor.moddable-fakes");

function fresh(): SdkState {
  return {
    now: 0, timers: [], nextTimerId: 1, ticks: 0, timeSets: [], sockets: [], socketConstructorError: undefined,
    preferences: new Map(), preferenceLog: [], wifiMonitors: [], wifiConnects: [], wifiDisconnects: 0, wifiConnectError: undefined, wifiMonitorError: undefined,
    net: {}, netThrows: new Set(), sntp: [], sntpConstructorError: undefined, resources: new Map(), modules: new Map(),
    instrumentation: new Map(), config: {}, traces: [],
    // A build with partitions/flashlog-4mb.csv: the log's partition is there, erased, as on a new chip.
    flash: new Map([[LOG_PARTITION, new SimNorFlash(LOG_PARTITION_BYTES)]]), httpServers: [],
    files: new Map(), fileOpens: [], fileWriteError: undefined, secureSockets: [],
  };
}

/** The fakes' shared state (one per process, replaced by resetSdk()). */
export function sdk(): SdkState {
  const holder = globalThis as unknown as Record<symbol, SdkState | undefined>;
  return (holder[KEY] ??= fresh());
}

/** A fresh device: no timers, sockets, preferences, resources; Time.ticks 0; XS globals installed. */
export function resetSdk(): SdkState {
  const state = fresh();
  (globalThis as unknown as Record<symbol, SdkState>)[KEY] = state;
  const g = globalThis as unknown as { trace: (...values: unknown[]) => void };
  g.trace = (...values: unknown[]) => sdk().traces.push(values.map(String).join(""));
  const S = String as unknown as { fromArrayBuffer?: (buffer: ArrayBufferLike) => string };
  S.fromArrayBuffer ??= (buffer) => new TextDecoder("utf-8", { fatal: false }).decode(new Uint8Array(buffer));
  return state;
}

/** Runs every timer due within `ms` of virtual time, in due order (timers set by callbacks included). */
export function advance(ms: number): void {
  const state = sdk();
  const end = state.now + ms;
  for (;;) {
    const next = state.timers.filter((t) => !t.cleared && t.due <= end).sort((a, b) => a.due - b.due || a.id - b.id)[0];
    if (next === undefined) break;
    state.now = Math.max(state.now, next.due);
    if (next.repeat === undefined) next.cleared = true;
    else next.due += Math.max(1, next.repeat);
    next.fired++;
    next.callback(next);
  }
  state.now = end;
}

/** Live timers (not cleared, not fired one-shots). */
export function liveTimers(): FakeTimer[] {
  return sdk().timers.filter((t) => !t.cleared);
}

/** Time.ticks as the ESP32 keeps it: ms since boot in a signed 32-bit integer (negative after 24.8 days). */
export function setTicks(ms: number): void {
  sdk().ticks = toInt32(ms);
}

export function toInt32(value: number): number {
  return value | 0;
}

/** The newest socket the adapter opened. */
export function lastSocket(): FakeSocketState {
  const socket = sdk().sockets.at(-1);
  if (socket === undefined) throw new Error("no socket was opened");
  return socket;
}

/** Socket callback codes from documentation/network/network.md. */
export const SOCKET = { error: -2, disconnected: -1, connected: 1, readable: 2, writable: 3 } as const;

/** The network side of a fake socket. */
export const net = {
  connect(s: FakeSocketState): void {
    s.callback?.(SOCKET.connected);
  },
  receive(s: FakeSocketState, bytes: Uint8Array): void {
    s.inbox.push(...bytes);
    s.callback?.(SOCKET.readable, s.inbox.length);
  },
  /** The peer took `n` bytes: room grows and the socket says so. */
  drain(s: FakeSocketState, n: number): void {
    s.room += n;
    s.callback?.(SOCKET.writable, s.room);
  },
  error(s: FakeSocketState): void {
    s.callback?.(SOCKET.error);
  },
  disconnect(s: FakeSocketState): void {
    s.callback?.(SOCKET.disconnected);
  },
};

export function emitWiFi(message: string): void {
  for (const monitor of sdk().wifiMonitors) if (!monitor.closed) monitor.callback?.(message);
}

/** The board file and other bundled resources, as the manifest's "data" would put them. */
export function addResource(name: string, content: string | Uint8Array): void {
  sdk().resources.set(name, typeof content === "string" ? new TextEncoder().encode(content) : content);
}
