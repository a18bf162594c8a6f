// Runs bundled TypeScript on the real XS engine (@agoric/xsnap's xsnap-worker) and talks to it in netstrings.
//
// How to add an XS-side entry:
//   1. Write test/xs/entries/<name>-entry.ts. Import what you test by relative path (extensionless, as everywhere)
//      and call `serveCommands(handler)` from "./xs-host": the handler gets each command as plain JSON-able data
//      and returns (or resolves to) the reply. Use only what XS has: ES2022, no Node, no DOM. xsnap adds `print`
//      (to stdout), TextEncoder/TextDecoder, `performance.now`, `gc` and `setImmediate`; no console, no timers.
//   2. On the Node side: `const xs = await XsRunner.start({ entry: xsEntry("<name>-entry") })`, then
//      `const { reply, meter } = await xs.command({ op: ... })` as often as needed, and `await xs.close()`.
//      `meter.compute` is xsnap's deterministic computron count for that one command.
//   3. Guard the suite with `xsnapWorkerPath()` (see `describeXs` in the tests): under CI=true a missing binary
//      throws; elsewhere the suite is skipped with a loud message.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { underCi } from "../support/ci";

const HERE = dirname(fileURLToPath(import.meta.url));

/** Path of an entry under test/xs/entries, by its file name without extension. */
export function xsEntry(name: string): string {
  return join(HERE, "entries", `${name}.ts`);
}

/**
 * Where `npm ci` built xsnap-worker (release build), or undefined when it is not there.
 * XSNAP_WORKER=<path> overrides the search (e.g. the debug build); a wrong path then counts as missing.
 */
export function findXsnapWorker(): string | undefined {
  const override = process.env.XSNAP_WORKER;
  if (override) return existsSync(override) ? override : undefined;
  const platform = ({ linux: "lin", darwin: "mac" } as Record<string, string>)[process.platform];
  if (platform === undefined) return undefined;
  let root: string;
  try {
    root = resolve(dirname(createRequire(import.meta.url).resolve("@agoric/xsnap")), "..");
  } catch {
    root = resolve(HERE, "../../node_modules/@agoric/xsnap");
  }
  const binary = join(root, "xsnap-native/xsnap/build/bin", platform, "release/xsnap-worker");
  return existsSync(binary) ? binary : undefined;
}

/**
 * The xsnap-worker path for a test suite. Under CI (underCi(): CI=true, CI=1...) a missing binary is a thrown failure, never a skip;
 * elsewhere it returns undefined after a loud warning, and the caller skips.
 */
export function xsnapWorkerPath(): string | undefined {
  const binary = findXsnapWorker();
  if (binary !== undefined) return binary;
  const message =
    "xsnap-worker binary not found (node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/<platform>/release). " +
    "It is built by @agoric/xsnap's install script: run `npm ci` with scripts allowed.";
  if (underCi()) throw new Error(`XS tests cannot run under CI: ${message}`);
  console.warn(`\n*** SKIPPING XS ENGINE TESTS: ${message}\n`);
  return undefined;
}

/** Bundles `entry` into one classic script for XS (iife, ES2022, no Node built-ins); returns the script's text. */
export async function bundleForXs(entry: string, plugins: Plugin[] = []): Promise<string> {
  const result = await build({
    plugins,
    entryPoints: [entry],
    bundle: true,
    format: "iife",
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
    write: false,
    logLevel: "silent",
    legalComments: "none",
  });
  return result.outputFiles[0].text;
}

/** xsnap's meter for one command or script: `compute` (computrons) is deterministic for the same code and input. */
export interface XsMeter {
  compute: number;
  allocate: number;
  currentHeapCount: number;
}

export interface XsReply<T = unknown> {
  reply: T;
  meter: XsMeter;
}

export interface XsStartOptions {
  /** A TypeScript/JavaScript entry to bundle with esbuild. */
  entry?: string;
  /** An already bundled script (text). One of entry or bundle is required. */
  bundle?: string;
  /** Computron limit per command (xsnap's -l); a runaway loop then fails instead of hanging. */
  meteringLimit?: number;
  /** Answers `issueCommand(bytes)` calls made from XS; by default they are echoed back. */
  onIssueCommand?: (request: Uint8Array) => Uint8Array;
  /** Name shown in errors. */
  name?: string;
}

/** A command's handler threw on the XS side. */
export class XsCommandError extends Error {
  readonly remoteName: string;
  constructor(remoteName: string, message: string) {
    super(`XS ${remoteName}: ${message}`);
    this.name = "XsCommandError";
    this.remoteName = remoteName;
  }
}

const OK = 0x2e; // "."
const ERROR = 0x21; // "!"
const QUERY = 0x3f; // "?"
const METER_SEPARATOR = 0x01;

/** One xsnap-worker process. Requests are serialised: each waits for the previous reply. */
export class XsRunner {
  private readonly process: ChildProcess;
  private readonly toXs: Writable;
  private readonly name: string;
  private readonly onIssueCommand: (request: Uint8Array) => Uint8Array;
  private readonly scratch: string;
  private inbox: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (message: Buffer) => void; reject: (error: Error) => void } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private exited: Error | undefined;
  private output = "";

  private constructor(process: ChildProcess, name: string, onIssueCommand: (request: Uint8Array) => Uint8Array, scratch: string) {
    this.process = process;
    this.name = name;
    this.onIssueCommand = onIssueCommand;
    this.scratch = scratch;
    const stdio = process.stdio as unknown as [null, Readable, Readable, Writable, Readable];
    this.toXs = stdio[3];
    stdio[4].on("data", (chunk: Buffer) => this.receive(chunk));
    stdio[1].on("data", (chunk: Buffer) => this.capture(chunk));
    stdio[2].on("data", (chunk: Buffer) => this.capture(chunk));
    this.toXs.on("error", () => {}); // reported through the exit handler
    process.on("exit", (code, signal) => {
      this.exited = new Error(`${name} exited (code ${code}, signal ${signal})${this.output ? `; output:\n${this.output}` : ""}`);
      this.waiting?.reject(this.exited);
      this.waiting = undefined;
    });
  }

  /** Spawns xsnap-worker and loads the bundle as a script (the `s<path>` command). */
  static async start(options: XsStartOptions): Promise<XsRunner> {
    const binary = findXsnapWorker();
    if (binary === undefined) throw new Error("xsnap-worker binary not found; see xsnapWorkerPath()");
    const bundle = options.bundle ?? (options.entry !== undefined ? await bundleForXs(options.entry) : undefined);
    if (bundle === undefined) throw new Error("XsRunner.start needs an entry or a bundle");
    const name = options.name ?? (options.entry ? `xsnap:${options.entry.split("/").pop()}` : "xsnap");
    const args = ["xs-harness"];
    if (options.meteringLimit !== undefined) args.push("-l", String(options.meteringLimit));
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"] });
    const scratch = mkdtempSync(join(tmpdir(), "xs-harness-"));
    const runner = new XsRunner(child, name, options.onIssueCommand ?? ((request) => request), scratch);
    const script = join(scratch, "bundle.js");
    writeFileSync(script, bundle);
    try {
      await runner.request(Buffer.from(`s${script}`));
    } catch (error) {
      await runner.close();
      throw error;
    }
    return runner;
  }

  /** Evaluates JavaScript source in the worker's global scope (the `e` command). */
  async evaluate(code: string): Promise<XsReply<Uint8Array>> {
    return this.parseOk(await this.request(Buffer.from(`e${code}`)));
  }

  /** Sends raw bytes to globalThis.handleCommand (the `?` command); the reply is the ArrayBuffer it returned. */
  async commandBytes(bytes: Uint8Array): Promise<XsReply<Uint8Array>> {
    return this.parseOk(await this.request(Buffer.concat([Buffer.from("?"), bytes])));
  }

  /** Sends a JSON command to an entry using serveCommands(); resolves with its reply, rejects with XsCommandError. */
  async command<T = unknown>(command: unknown): Promise<XsReply<T>> {
    const { reply, meter } = await this.commandBytes(Buffer.from(JSON.stringify(command)));
    if (reply.length === 0) throw new XsCommandError("NoReply", "handleCommand returned no ArrayBuffer (a promise that never settled?)");
    const envelope = JSON.parse(Buffer.from(reply).toString("utf8")) as { ok: boolean; value?: T; error?: { name: string; message: string } };
    if (!envelope.ok) throw new XsCommandError(envelope.error?.name ?? "Error", envelope.error?.message ?? "(no message)");
    return { reply: envelope.value as T, meter };
  }

  /** What the worker printed (print() and xsnap's own diagnostics) so far. */
  get printed(): string {
    return this.output;
  }

  /** Asks the worker to quit, then kills it if it has not gone after a second. */
  async close(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise<void>((done) => this.process.once("exit", () => done()));
      try {
        this.toXs.write(netstring(Buffer.from("q")));
        this.toXs.end();
      } catch {
        // The pipe is already closed: the exit handler has or will set `exited`.
      }
      const timer = setTimeout(() => this.process.kill("SIGKILL"), 1000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(this.scratch, { recursive: true, force: true });
  }

  private request(payload: Buffer): Promise<Buffer> {
    const next = this.queue.then(() => this.exchange(payload));
    this.queue = next.catch(() => {});
    return next;
  }

  private exchange(payload: Buffer): Promise<Buffer> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise<Buffer>((resolveReply, rejectReply) => {
      this.waiting = { resolve: resolveReply, reject: rejectReply };
      this.toXs.write(netstring(payload));
      this.drain();
    });
  }

  private capture(chunk: Buffer): void {
    this.output += chunk.toString("utf8");
    if (this.output.length > 100_000) this.output = this.output.slice(-50_000);
  }

  private receive(chunk: Buffer): void {
    this.inbox = this.inbox.length === 0 ? chunk : Buffer.concat([this.inbox, chunk]);
    this.drain();
  }

  /** Takes every complete netstring ("<length>:<bytes>,") from the inbox. */
  private drain(): void {
    for (;;) {
      const colon = this.inbox.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(this.inbox.subarray(0, colon).toString("ascii"));
      if (!Number.isInteger(length)) return this.fail(new Error(`${this.name}: bad netstring length prefix`));
      if (this.inbox.length < colon + 1 + length + 1) return;
      if (this.inbox[colon + 1 + length] !== 0x2c) return this.fail(new Error(`${this.name}: netstring without trailing comma`));
      const message = this.inbox.subarray(colon + 1, colon + 1 + length);
      this.inbox = this.inbox.subarray(colon + 2 + length);
      this.dispatch(Buffer.from(message));
    }
  }

  private dispatch(message: Buffer): void {
    if (message.length > 0 && message[0] === QUERY) {
      // XS called issueCommand(): answer with "/" + bytes and keep waiting for the reply to our own request.
      const answer = this.onIssueCommand(new Uint8Array(message.subarray(1)));
      this.toXs.write(netstring(Buffer.concat([Buffer.from("/"), answer])));
      return;
    }
    const waiting = this.waiting;
    this.waiting = undefined;
    if (!waiting) return this.fail(new Error(`${this.name}: unexpected message from xsnap`));
    if (message.length > 0 && message[0] === ERROR) {
      const detail = message.subarray(1).toString("utf8") || this.output.trim() || "(no message)";
      waiting.reject(new Error(`${this.name}: uncaught exception in XS: ${detail}`));
    } else if (message.length > 0 && message[0] === OK) {
      waiting.resolve(message);
    } else {
      waiting.reject(new Error(`${this.name}: xsnap protocol error, message starts with ${message[0]}`));
    }
  }

  private parseOk(message: Buffer): XsReply<Uint8Array> {
    const separator = message.indexOf(METER_SEPARATOR, 1);
    const meterJson = separator < 0 ? "{}" : message.subarray(1, separator).toString("utf8");
    const raw = JSON.parse(meterJson) as Partial<XsMeter>;
    return {
      reply: new Uint8Array(message.subarray(separator < 0 ? 1 : separator + 1)),
      meter: { compute: raw.compute ?? 0, allocate: raw.allocate ?? 0, currentHeapCount: raw.currentHeapCount ?? 0 },
    };
  }

  private fail(error: Error): void {
    this.waiting?.reject(error);
    this.waiting = undefined;
    this.process.kill("SIGKILL");
  }
}

function netstring(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${payload.length}:`), payload, Buffer.from(",")]);
}
