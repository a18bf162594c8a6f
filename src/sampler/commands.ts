// Remote commands on <prefix>/<id>/cmd/<name>: validated JSON payloads, a JSON reply for each, and no way to crash the loop.
//
// Commands (payload is a JSON object; "id" is optional and echoed in the reply for correlation):
//   cmd/interval   {"ms": 5000, "sensor": "env"}      sampling interval (100..86400000 ms); all sensors without "sensor"
//   cmd/deadband   {"value": "0.2" | "1%", "channel": "t"}   all channels without "channel"
//   cmd/heartbeat  {"s": 300}                          0..86400 s, 0 turns it off
//   cmd/read       {"sensor": "env"}                   read now and publish at once; all sensors without "sensor"
//   cmd/health     {}                                   publish health telemetry now
// Reply on <prefix>/<id>/reply: {"cmd":"interval","ok":true,"id":7,"interval":{"env":5000}}
//                            or {"cmd":"interval","ok":false,"id":7,"error":"\"ms\" must be an integer from 100 to 86400000"}
// Changed settings persist in the store and survive a reboot.
import type { IncomingMessage } from "../mqtt/client-api";
import { decodeUtf8 } from "../mqtt/utf8";
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
}

class CommandError extends Error {}

const ALLOWED: { readonly [C in CommandName]: readonly string[] } = {
  interval: ["id", "ms", "sensor"],
  deadband: ["id", "value", "channel"],
  heartbeat: ["id", "s"],
  read: ["id", "sensor"],
  health: ["id"],
};

/** Runs the command `name` with `payload` and returns the reply; never throws. */
export function runCommand(context: CommandContext, name: string, payload: Uint8Array): CommandReply {
  let id: string | number | undefined;
  try {
    if ((COMMANDS as readonly string[]).indexOf(name) === -1) throw new CommandError(`unknown command "${name}"; known: ${COMMANDS.join(", ")}`);
    const command = name as CommandName;
    const args = parseArgs(payload);
    if (typeof args.id === "string" || typeof args.id === "number") id = args.id;
    else if (args.id !== undefined) throw new CommandError(`"id" must be a string or a number`);
    for (const key of Object.keys(args)) {
      if (ALLOWED[command].indexOf(key) === -1) throw new CommandError(`unknown field "${key}" for ${command}; allowed: ${ALLOWED[command].join(", ")}`);
    }
    const detail = execute(context, command, args);
    return { cmd: name, ok: true, ...(id !== undefined ? { id } : {}), ...detail };
  } catch (error) {
    const message = error instanceof CommandError ? error.message : `internal error: ${error instanceof Error ? error.message : String(error)}`;
    return { cmd: name, ok: false, ...(id !== undefined ? { id } : {}), error: message };
  }
}

/** The command name of a message on `commandPrefix` + name, or undefined when the topic is deeper or empty. */
export function commandName(message: IncomingMessage, commandPrefix: string): string | undefined {
  if (!message.topic.startsWith(commandPrefix)) return undefined;
  return message.topic.slice(commandPrefix.length);
}

function parseArgs(payload: Uint8Array): Record<string, unknown> {
  if (payload.length === 0) return {};
  let text: string;
  try {
    text = decodeUtf8(payload);
  } catch (error) {
    throw new CommandError(`payload is not UTF-8: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new CommandError(`payload is not JSON: ${JSON.stringify(text.length > 60 ? text.slice(0, 60) + "..." : text)}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new CommandError("payload must be a JSON object");
  return data as Record<string, unknown>;
}

function execute(context: CommandContext, command: CommandName, args: Record<string, unknown>): Record<string, unknown> {
  const sampler = context.sampler;
  switch (command) {
    case "interval": {
      const ms = integerArg(args.ms, "ms", 100, 86_400_000);
      const sensor = sensorArg(sampler, args.sensor);
      sampler.setInterval(ms, sensor);
      const interval: Record<string, number> = {};
      for (const s of sensor === undefined ? sampler.sensorIds() : [sensor]) interval[s] = sampler.interval(s) as number;
      return { interval };
    }
    case "deadband": {
      if (typeof args.value !== "string" && typeof args.value !== "number") throw new CommandError(`"value" must be a string such as "0.2" or "1%"`);
      const text = String(args.value).trim();
      const parsed = parseDeadband(text);
      if (typeof parsed === "string") throw new CommandError(`"value": ${parsed}`);
      let channel: string | undefined;
      if (args.channel !== undefined) {
        if (typeof args.channel !== "string" || sampler.channelIds().indexOf(args.channel) === -1) {
          throw new CommandError(`"channel" must be one of ${sampler.channelIds().join(", ")}, got ${JSON.stringify(args.channel)}`);
        }
        channel = args.channel;
      }
      sampler.setDeadband(text, channel);
      return { deadband: text, channel: channel ?? "*" };
    }
    case "heartbeat": {
      const s = integerArg(args.s, "s", 0, 86_400);
      sampler.setHeartbeat(s);
      return { heartbeat_s: s };
    }
    case "read": {
      const sensor = sensorArg(sampler, args.sensor);
      sampler.readNow(sensor);
      return { sensor: sensor ?? "*" };
    }
    case "health":
      context.publishHealth();
      return {};
  }
}

function integerArg(value: unknown, key: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new CommandError(`"${key}" must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function sensorArg(sampler: Sampler, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || sampler.sensorIds().indexOf(value) === -1) {
    throw new CommandError(`"sensor" must be one of ${sampler.sensorIds().join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value;
}
