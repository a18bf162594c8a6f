// Remote commands on <prefix>/<id>/cmd/<name>: validated JSON payloads, a JSON reply for each, and no way to crash the loop.
//
// Commands (payload is a JSON object; "id" is optional and echoed in the reply for correlation):
//   cmd/interval   {"ms": 5000, "sensor": "env"}      sampling interval (1000..86400000 ms); all sensors without "sensor"
//   cmd/deadband   {"value": "0.2" | "1%", "channel": "t"}   all channels without "channel"
//   cmd/heartbeat  {"s": 300}                          0..86400 s, 0 turns it off
//   cmd/read       {"sensor": "env"}                   read now and publish at once; all sensors without "sensor"
//   cmd/health     {}                                   publish health telemetry now
// Reply on <prefix>/<id>/reply: {"cmd":"interval","ok":true,"id":7,"interval":{"env":5000}}
//                            or {"cmd":"interval","ok":false,"id":7,"error":"\"ms\" must be an integer from 1000 to 86400000"}
// Changed settings persist in the store and survive a reboot.
//
// Hostile input: a payload is refused by size and by bracket depth before it is decoded or parsed (XS's JSON.parse
// recurses per nesting level, on the same small stack as everything else: 10,000 levels would abort the VM), and
// every string a reply echoes (command name, id, field names, values) is clipped, so a reply stays under
// COMMAND_LIMITS.maxReplyBytes whatever arrived. Rate limits and deferral live in app/command-inbox.
import type { IncomingMessage } from "../mqtt/client-api";
import { decodeUtf8, utf8Length } from "../mqtt/utf8";
import { parseDeadband } from "../config/deadband";
import type { Sampler } from "./sampler";

export const COMMANDS = ["interval", "deadband", "heartbeat", "read", "health"] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface CommandReply {
  readonly cmd: string;
  readonly ok: boolean;
  readonly id?: string | number;
  readonly error?: string;
  readonly [detail: string]: unknown;
}

/** What a command may do besides changing the sampler. */
export interface CommandContext {
  readonly sampler: Sampler;
  publishHealth(): void;
  /**
   * Called with a valid command just before it runs; throwing refuses it with that message (the device's flash-write
   * budget and its queue guard use this). Optional, so a caller such as the web page may run commands without it.
   */
  beforeExecute?(command: CommandName, args: Readonly<Record<string, unknown>>): void;
  /**
   * Runs `action` in a later turn of its own. `read` and `health` use it: a reading (or report), its commit and its
   * PUBLISH are the deepest chain of the firmware, and below the command's own frames they needed 383 and 310 XS
   * slots on xsnap, against 307 and 230 from a turn of their own (test/xs/stack.xs.test.ts). Without it they run at once.
   */
  later?(action: () => void): void;
}

/** A refusal whose message goes into the reply as it is (anything else thrown is reported as an internal error). */
export class CommandError extends Error {}

export const COMMAND_LIMITS = Object.freeze({
  /** Largest payload accepted, checked before decoding. The longest valid command, with a 64-character id, is ~130 bytes. */
  maxPayloadBytes: 512,
  /** Deepest {/[ nesting accepted before JSON.parse. Every command is one flat object (depth 1); 2 lets a nested value get its own error. */
  maxDepth: 2,
  /** Longest string "id" echoed in a reply, in characters. */
  maxIdLength: 64,
  /** Longest piece of received text (command name, field name, value) quoted in a reply, in characters. */
  maxEcho: 32,
  /** No reply is longer than this many UTF-8 bytes (checked by the tests with arbitrary input). */
  maxReplyBytes: 512,
});

/** What `scanPayload` found wrong, before any decoding: the reply says it without quoting the payload. */
export function scanPayload(payload: Uint8Array): string | undefined {
  if (payload.length > COMMAND_LIMITS.maxPayloadBytes) {
    return `payload of ${payload.length} bytes is over the limit of ${COMMAND_LIMITS.maxPayloadBytes}`;
  }
  // A byte scan of bracket depth outside strings: cheap, no recursion, and enough to keep JSON.parse shallow.
  let depth = 0;
  let inString = false;
  for (let i = 0; i < payload.length; i++) {
    const b = payload[i];
    if (inString) {
      if (b === 0x5c) i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) {
      inString = true;
    } else if (b === 0x7b || b === 0x5b) {
      if (++depth > COMMAND_LIMITS.maxDepth) return `payload nests deeper than ${COMMAND_LIMITS.maxDepth} levels`;
    } else if (b === 0x7d || b === 0x5d) {
      depth--;
    }
  }
  return undefined;
}

/** `text` cut to `max` characters (with "..." when cut), so a reply never carries a long piece of received text. */
export function clip(text: string, max: number = COMMAND_LIMITS.maxEcho): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

/** JSON of a received value for an error message, clipped. */
function quote(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "string" ? JSON.stringify(clip(value)) : clip(String(JSON.stringify(value)));
  } catch {
    text = "(unprintable)";
  }
  return text;
}

const ALLOWED: { readonly [C in CommandName]: readonly string[] } = {
  interval: ["id", "ms", "sensor"],
  deadband: ["id", "value", "channel"],
  heartbeat: ["id", "s"],
  read: ["id", "sensor"],
  health: ["id"],
};

/**
 * Runs the command `name` with `payload` and returns the reply; never throws. Every echoed string is clipped, so
 * encodeReply(reply) stays within COMMAND_LIMITS.maxReplyBytes.
 */
export function runCommand(context: CommandContext, name: string, payload: Uint8Array): CommandReply {
  const cmd = clip(name);
  let id: string | number | undefined;
  try {
    if ((COMMANDS as readonly string[]).indexOf(name) === -1) throw new CommandError(`unknown command ${quote(name)}; known: ${COMMANDS.join(", ")}`);
    const command = name as CommandName;
    const args = parseArgs(payload);
    if (typeof args.id === "number" || (typeof args.id === "string" && args.id.length <= COMMAND_LIMITS.maxIdLength)) id = args.id;
    else if (typeof args.id === "string") throw new CommandError(`"id" must be at most ${COMMAND_LIMITS.maxIdLength} characters, got ${args.id.length}`);
    else if (args.id !== undefined) throw new CommandError(`"id" must be a string or a number`);
    for (const key of Object.keys(args)) {
      if (ALLOWED[command].indexOf(key) === -1) throw new CommandError(`unknown field ${quote(key)} for ${command}; allowed: ${ALLOWED[command].join(", ")}`);
    }
    const action = prepare(context, command, args); // every argument is checked before any budget is spent
    context.beforeExecute?.(command, args);
    const detail = action();
    return { cmd, ok: true, ...(id !== undefined ? { id } : {}), ...detail };
  } catch (error) {
    const message = error instanceof CommandError ? error.message : `internal error: ${clip(error instanceof Error ? error.message : String(error), 120)}`;
    return { cmd, ok: false, ...(id !== undefined ? { id } : {}), error: message };
  }
}

/** A refusal decided before the command runs (rate limit, retained message): the same reply shape, nothing echoed but the name. */
export function refusal(name: string, error: string): CommandReply {
  return { cmd: clip(name), ok: false, error };
}

/** The reply's JSON, never over COMMAND_LIMITS.maxReplyBytes (a reply that would be is replaced by a short error). */
export function encodeReply(reply: CommandReply): string {
  const text = JSON.stringify(reply);
  // UTF-8 is at most 3 bytes per UTF-16 unit: the cheap bound is enough here, no encoding needed.
  if (text.length * 3 <= COMMAND_LIMITS.maxReplyBytes) return text;
  if (utf8Length(text) <= COMMAND_LIMITS.maxReplyBytes) return text;
  return JSON.stringify({ cmd: clip(reply.cmd, 16), ok: false, error: "reply too long" });
}

/** The command name of a message on `commandPrefix` + name, or undefined when the topic is deeper or empty. */
export function commandName(message: IncomingMessage, commandPrefix: string): string | undefined {
  if (!message.topic.startsWith(commandPrefix)) return undefined;
  const name = message.topic.slice(commandPrefix.length);
  return name === "" || name.indexOf("/") !== -1 ? undefined : name;
}

function parseArgs(payload: Uint8Array): Record<string, unknown> {
  if (payload.length === 0) return {};
  const refused = scanPayload(payload);
  if (refused !== undefined) throw new CommandError(refused);
  let text: string;
  try {
    text = decodeUtf8(payload);
  } catch (error) {
    throw new CommandError(`payload is not UTF-8: ${clip((error as Error).message, 80)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new CommandError(`payload is not JSON: ${quote(text)}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new CommandError("payload must be a JSON object");
  return data as Record<string, unknown>;
}

/** Checks the arguments of `command` (throwing a CommandError) and returns what running it does. */
function prepare(context: CommandContext, command: CommandName, args: Record<string, unknown>): () => Record<string, unknown> {
  const sampler = context.sampler;
  switch (command) {
    case "interval": {
      // 1 s, not config's 100 ms: every reading is a flash commit, so a remote command may not make them ten times as
      // frequent (flash-wear bench, "hostile" rows). A faster interval is a deliberate local build choice (interval_ms).
      const ms = integerArg(args.ms, "ms", MIN_COMMAND_INTERVAL_MS, 86_400_000);
      const sensor = sensorArg(sampler, args.sensor);
      return () => {
        sampler.setInterval(ms, sensor);
        const interval: Record<string, number> = {};
        for (const s of sensor === undefined ? sampler.sensorIds() : [sensor]) interval[s] = sampler.interval(s) as number;
        return { interval };
      };
    }
    case "deadband": {
      if (typeof args.value !== "string" && typeof args.value !== "number") throw new CommandError(`"value" must be a string such as "0.2" or "1%"`);
      const text = String(args.value).trim();
      // Kept in flash and echoed: a deadband needs no more than a few digits.
      if (text.length > MAX_DEADBAND_TEXT) throw new CommandError(`"value" must be at most ${MAX_DEADBAND_TEXT} characters, such as "0.2" or "1%"`);
      const parsed = parseDeadband(text);
      if (typeof parsed === "string") throw new CommandError(`"value": ${parsed}`);
      let channel: string | undefined;
      if (args.channel !== undefined) {
        if (typeof args.channel !== "string" || sampler.channelIds().indexOf(args.channel) === -1) {
          throw new CommandError(`"channel" must be one of ${sampler.channelIds().join(", ")}, got ${quote(args.channel)}`);
        }
        channel = args.channel;
      }
      return () => {
        sampler.setDeadband(text, channel);
        return { deadband: text, channel: channel ?? "*" };
      };
    }
    case "heartbeat": {
      const s = integerArg(args.s, "s", 0, 86_400);
      return () => {
        sampler.setHeartbeat(s);
        return { heartbeat_s: s };
      };
    }
    case "read": {
      const sensor = sensorArg(sampler, args.sensor);
      return () => {
        if (context.later) context.later(() => sampler.readNow(sensor));
        else sampler.readNow(sensor);
        return { sensor: sensor ?? "*" };
      };
    }
    case "health":
      return () => {
        if (context.later) context.later(() => context.publishHealth());
        else context.publishHealth();
        return {};
      };
  }
}

const MAX_DEADBAND_TEXT = 16;
export const MIN_COMMAND_INTERVAL_MS = 1000;

function integerArg(value: unknown, key: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new CommandError(`"${key}" must be an integer from ${min} to ${max}, got ${quote(value)}`);
  }
  return value;
}

function sensorArg(sampler: Sampler, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || sampler.sensorIds().indexOf(value) === -1) {
    throw new CommandError(`"sensor" must be one of ${sampler.sensorIds().join(", ")}, got ${quote(value)}`);
  }
  return value;
}
