// Renders simulator events: one JSON object per line (--json), or text with a live status line on a TTY and plain lines when piped.
import { decodeTelemetry } from "../../../sampler/payload";
import type { SimEvent, SimStatus } from "./events";

export interface Reporter {
  emit(event: SimEvent): void;
  /** Current totals; the reporter decides how often to show them. */
  status(status: SimStatus): void;
  /** Prints the final status and ends any live line. */
  close(status: SimStatus): void;
}

interface Sink {
  write(text: string): void;
}

const startedAt = performance.now();
const elapsed = () => Math.round(performance.now() - startedAt);

export class JsonReporter implements Reporter {
  private lastStatus = 0;
  constructor(private readonly out: Sink, private readonly statusEveryMs = 1000) {}

  emit(event: SimEvent): void {
    this.out.write(JSON.stringify({ t: elapsed(), ...event }) + "\n");
  }

  status(status: SimStatus): void {
    const now = performance.now();
    if (now - this.lastStatus < this.statusEveryMs) return;
    this.lastStatus = now;
    this.emit({ event: "status", ...status });
  }

  close(status: SimStatus): void {
    this.emit({ event: "status", ...status });
  }
}

export interface TextReporterOptions {
  /** A terminal: keep one status line at the bottom, rewritten in place. */
  tty: boolean;
  /** Per-device lines (boot, connect, readings) only for small runs; fleets show totals. */
  devices: number;
  /** The broker is ours: its messages are printed (they already show the readings). */
  embedded: boolean;
}

const CLEAR_LINE = "\r\x1b[2K";
const PER_DEVICE_LIMIT = 10;
/** Status page addresses printed for a fleet; the rest are in the web-list file. */
const WEB_SHOWN = 3;

export class TextReporter implements Reporter {
  private statusText = "";
  private lastPlainStatus = "";
  private lastPlainAt = 0;
  private lastDrawAt = 0;
  private webShown = 0;

  constructor(private readonly out: Sink, private readonly options: TextReporterOptions) {}

  emit(event: SimEvent): void {
    const line = this.render(event);
    if (line === undefined) return;
    if (this.options.tty) this.out.write(`${CLEAR_LINE}${line}\n${this.statusText}`);
    else this.out.write(line + "\n");
  }

  status(status: SimStatus): void {
    const text = formatStatus(status);
    const now = performance.now();
    if (this.options.tty) {
      if (text === this.statusText || now - this.lastDrawAt < 100) return;
      this.statusText = text;
      this.lastDrawAt = now;
      this.out.write(CLEAR_LINE + text);
      return;
    }
    if (text === this.lastPlainStatus || now - this.lastPlainAt < 5000) return;
    this.lastPlainStatus = text;
    this.lastPlainAt = now;
    this.out.write(`status: ${text}\n`);
  }

  close(status: SimStatus): void {
    const text = formatStatus(status);
    if (this.options.tty) this.out.write(`${CLEAR_LINE}status: ${text}\n`);
    else if (text !== this.lastPlainStatus) this.out.write(`status: ${text}\n`);
    this.statusText = "";
  }

  private render(event: SimEvent): string | undefined {
    const perDevice = this.options.devices <= PER_DEVICE_LIMIT;
    switch (event.event) {
      case "broker":
        return (
          (event.embedded ? `embedded broker on ${event.url} (no --broker given); messages it carries are printed below` : `broker ${event.url}`) +
          `\n  watch:   ${event.subscribe}\n  command: ${event.publish}`
        );
      case "boot":
        if (!perDevice) return undefined;
        return `[${event.device}] boot ${event.boot}: next seq ${event.nextSeq}, ${event.queuedMessages} message(s) and ${event.queuedReadings} reading(s) queued from before, data dir ${event.dataDir}`;
      case "connected":
        return perDevice ? `[${event.device}] connected (session present: ${event.sessionPresent})` : undefined;
      case "disconnected":
        return perDevice ? `[${event.device}] disconnected: ${event.reason}${event.retryInMs !== undefined ? `; retry in ${event.retryInMs} ms` : ""}` : undefined;
      case "reading":
        if (!perDevice || this.options.embedded) return undefined;
        return `[${event.device}] ${event.sensor} seq ${event.first === event.last ? event.first : `${event.first}-${event.last}`}: ${formatValues(event.values)}`;
      case "delivered":
        return undefined;
      case "dropped":
        return `[${event.device}] queue full: dropped a message to ${event.topic}${event.readings > 0 ? ` (${event.readings} reading(s) lost)` : ""}`;
      case "link-drop":
        return perDevice ? `[${event.device}] fault: link cut (--drop-link-every)` : undefined;
      case "reboot":
        return perDevice ? `[${event.device}] fault: power cut, rebooting from the data dir (--reboot-every)` : undefined;
      case "info":
        return perDevice ? `${event.device ? `[${event.device}] ` : ""}${event.message}` : undefined;
      case "warning":
        return `${event.device ? `[${event.device}] ` : ""}warning: ${event.message}`;
      case "broker-message":
        return perDevice ? formatBrokerMessage(event) : undefined;
      case "status":
        return undefined;
      case "finished":
        return perDevice ? `[${event.device}] done: ${event.taken} reading(s) taken (seq ${event.firstSeq}-${event.nextSeq - 1}), all delivered` : undefined;
      case "exit":
        return event.message;
      case "web":
        if (this.webShown++ >= WEB_SHOWN) return undefined;
        return `${this.options.devices > 1 ? `[${event.device}] ` : ""}status page: ${event.url}`;
      case "web-list":
        return `status pages of all ${event.devices} devices: ${event.file}`;
    }
  }
}

export function formatStatus(s: SimStatus): string {
  const link = s.devices === 1 ? (s.finished === 1 ? "done" : s.connected === 1 ? "connected" : "offline") : `${s.connected}/${s.devices} connected`;
  let text = `${link} | taken ${s.taken} | delivered ${s.delivered} | queued ${s.queued} | dropped ${s.dropped} | reconnects ${s.reconnects}`;
  if (s.linkDrops > 0) text += ` | link cuts ${s.linkDrops}`;
  if (s.reboots > 0) text += ` | reboots ${s.reboots}`;
  if (s.devices > 1) text += ` | finished ${s.finished}`;
  return text;
}

function formatValues(values: { [channel: string]: number }): string {
  return Object.keys(values).map((k) => `${k}=${values[k]}`).join(" ");
}

function formatBrokerMessage(event: Extract<SimEvent, { event: "broker-message" }>): string {
  const head = `broker: ${event.topic} q${event.qos}${event.retain ? " retained" : ""}`;
  if (event.topic.endsWith("/telemetry")) {
    try {
      const batch = decodeTelemetry(new TextEncoder().encode(event.payload));
      const first = batch.readings[0];
      const last = batch.readings[batch.readings.length - 1];
      const seqs = first.seq === last.seq ? `seq ${first.seq}` : `seq ${first.seq}-${last.seq} (${batch.readings.length} readings)`;
      return `${head} ${batch.sensor} ${seqs}: ${formatValues(last.values)}`;
    } catch {
      // Not our payload format (another publisher on the topic): show it raw below.
    }
  }
  const text = event.payload.length > 200 ? event.payload.slice(0, 200) + "..." : event.payload;
  return `${head} ${text}`;
}
