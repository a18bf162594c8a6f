// Commands from the broker, each run in a turn of its own, within a rate limit and a flash-write budget.
//
// Rule of every turn: the receive turn (the socket's callback, with the client's parse loop below it) only checks the
// topic, the retain flag and the rate limit, and queues the message; the command runs later from a 0 ms timer, with
// nothing of the receive path on the stack. One command per timer turn. XS gives a board 384-512 stack slots; a
// command that read a sensor and published on the receive stack peaked at ~468 slots in mcsim (issue 9), so running
// it here, from its own turn, is what keeps `read` and `health` inside the smallest board's stack.
//
// Budgets (COMMAND_BUDGET): a burst of 5 commands, then one every 30 s; at most 4 waiting for their turn; settings
// changes, forced reads and health reports cost flash writes and share a budget of 4 at once, then 12 an hour.
// Everything over a limit is dropped or refused and counted (health "cmd"); the first refusal by the rate limit or the
// flash budget after a command that ran gets a reply that says the limit, later ones are silent until a command runs
// again: in a flood, replies (each a small flash write for the client's message-id counter) stay rare.
// Retained commands are ignored (a reply says so): they would run again at every new subscription. Topics deeper
// than cmd/<name> are dropped without a reply.
import type { Clock, Logger } from "../ports";
import type { IncomingMessage } from "../mqtt/client-api";
import { CommandError, type CommandName, type CommandReply, commandName, encodeReply, refusal, runCommand } from "../sampler/commands";
import type { Sampler } from "../sampler/sampler";

export const COMMAND_BUDGET = Object.freeze({
  /** Commands accepted at once, after a quiet spell. */
  burst: 5,
  /** Then one per this many ms (2 a minute). */
  refillMs: 30_000,
  /** Commands accepted and waiting for their turn; beyond it they are dropped. */
  queueMax: 4,
  /** Flash-writing commands (settings, read, health) accepted at once. */
  flashBurst: 4,
  /** Then one per this many ms: 12 an hour. */
  flashRefillMs: 300_000,
  /** A forced read is refused while the client's queue holds this fraction of queue_max, so it never evicts a reading. */
  readQueueFraction: 0.5,
});

/** What the inbox did with commands since boot (health telemetry "cmd"). */
export interface CommandCounters {
  /** Ran and replied ok. */
  ok: number;
  /** Ran (or were refused by a budget) and replied with an error. */
  err: number;
  /** Dropped without running: rate limit, full inbox, retained, or a topic deeper than cmd/<name>. */
  drop: number;
}

/** A token bucket on the injected clock: `capacity` at once, one more every `refillMs`. */
class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  constructor(private readonly clock: Clock, private readonly capacity: number, private readonly refillMs: number) {
    this.tokens = capacity;
    this.updatedAt = clock.now();
  }

  /** Takes `count` tokens if there are that many; false (nothing taken) otherwise. */
  take(count = 1): boolean {
    this.refill();
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  /** ms until `count` tokens are there. */
  waitMs(count = 1): number {
    this.refill();
    const missing = count - this.tokens;
    return missing <= 0 ? 0 : Math.ceil(missing * this.refillMs - (this.clock.now() - this.updatedAt));
  }

  private refill(): void {
    const now = this.clock.now();
    const earned = Math.floor((now - this.updatedAt) / this.refillMs);
    if (earned <= 0) return;
    this.tokens = Math.min(this.capacity, this.tokens + earned);
    this.updatedAt = this.tokens === this.capacity ? now : this.updatedAt + earned * this.refillMs;
  }
}

export interface CommandInboxDeps {
  clock: Clock;
  sampler: Sampler;
  commandPrefix: string;
  /** The client's queue limit (queue_max): forced reads keep below COMMAND_BUDGET.readQueueFraction of it. */
  queueMax: number;
  queueDepth(): number;
  publishHealth(): void;
  /** Sends a reply (the device publishes it at QoS 0, never evicting anything). */
  reply(text: string): void;
  logger?: Logger;
}

export class CommandInbox {
  readonly counters: CommandCounters = { ok: 0, err: 0, drop: 0 };
  private readonly waiting: Array<{ name: string; payload: Uint8Array }> = [];
  private readonly rate: TokenBucket;
  private readonly flash: TokenBucket;
  private scheduled = false;
  private stopped = false;
  /** A refusal reply was sent since the last accepted command: further refusals are silent. */
  private refusalSaid = false;
  /** The command being run was refused by the flash-write budget (its reply is subject to refusalSaid). */
  private budgetRefused = false;

  constructor(private readonly deps: CommandInboxDeps) {
    this.rate = new TokenBucket(deps.clock, COMMAND_BUDGET.burst, COMMAND_BUDGET.refillMs);
    this.flash = new TokenBucket(deps.clock, COMMAND_BUDGET.flashBurst, COMMAND_BUDGET.flashRefillMs);
  }

  /** The subscription's handler, on the receive turn: checks and queues only; never throws. */
  receive(message: IncomingMessage): void {
    try {
      this.admit(message);
    } catch (error) {
      this.counters.drop++;
      this.deps.logger?.warn(`command dropped: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Stops running queued commands (the firmware is stopping). */
  stop(): void {
    this.stopped = true;
    this.waiting.length = 0;
  }

  private admit(message: IncomingMessage): void {
    const name = commandName(message, this.deps.commandPrefix);
    if (name === undefined) {
      this.counters.drop++; // cmd/<name>/more or an empty name: not a command topic
      return;
    }
    if (!this.rate.take()) {
      this.counters.drop++;
      const waitS = Math.ceil(this.rate.waitMs() / 1000);
      this.refuseOnce(name, `rate limited: at most ${COMMAND_BUDGET.burst} commands at once, then one every ${COMMAND_BUDGET.refillMs / 1000} s; next in ${waitS} s`);
      return;
    }
    if (message.retain) {
      this.counters.err++;
      this.send(refusal(name, "retained command ignored: it would run again at every new subscription; publish commands without the retain flag"));
      return;
    }
    if (this.waiting.length >= COMMAND_BUDGET.queueMax) {
      this.counters.drop++;
      this.refuseOnce(name, `busy: ${COMMAND_BUDGET.queueMax} commands already waiting`);
      return;
    }
    this.waiting.push({ name, payload: message.payload });
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped || this.waiting.length === 0) return;
    this.scheduled = true;
    this.deps.clock.setTimeout(() => this.runNext(), 0);
  }

  /**
   * Runs a command now, within the flash-write budget but outside the broker's rate limit, and returns its reply
   * without publishing it: for a local caller (a status page) that has its own turn and its own answer channel.
   */
  execute(name: string, payload: Uint8Array): CommandReply {
    const reply = runCommand(
      {
        sampler: this.deps.sampler,
        publishHealth: () => this.deps.publishHealth(),
        beforeExecute: (command, args) => this.checkBudget(command, args),
        later: (action) => this.deps.clock.setTimeout(() => this.guard(action), 0),
      },
      name,
      payload,
    );
    if (reply.ok) this.counters.ok++;
    else {
      this.counters.err++;
      this.deps.logger?.warn(`command ${reply.cmd} refused: ${reply.error}`);
    }
    return reply;
  }

  /** One command per timer turn; the next one gets a turn of its own. */
  private runNext(): void {
    this.scheduled = false;
    const next = this.waiting.shift();
    if (next === undefined || this.stopped) return;
    try {
      this.budgetRefused = false;
      const reply = this.execute(next.name, next.payload);
      if (!this.budgetRefused) {
        this.refusalSaid = false; // a command ran: the next refusal is worth a reply again
        this.send(reply);
      } else if (!this.refusalSaid) {
        this.refusalSaid = true;
        this.send(reply);
      }
    } finally {
      this.schedule();
    }
  }

  /** Throws (an error reply) when the command would spend flash beyond its budget or push readings out of the queue. */
  private checkBudget(command: CommandName, args: Readonly<Record<string, unknown>>): void {
    if (command === "read") {
      const limit = Math.floor(this.deps.queueMax * COMMAND_BUDGET.readQueueFraction);
      const depth = this.deps.queueDepth();
      if (depth >= limit) throw new CommandError(`queue holds ${depth} messages (limit for a forced read: ${limit}); read refused so no queued reading is pushed out`);
    }
    const cost = command === "read" && args.sensor === undefined ? this.deps.sampler.sensorIds().length : 1;
    if (!this.flash.take(cost)) {
      this.budgetRefused = true;
      const waitS = Math.ceil(this.flash.waitMs(cost) / 1000);
      throw new CommandError(
        `flash-write budget used: settings changes, reads and health reports share ${COMMAND_BUDGET.flashBurst} at once, then ${3_600_000 / COMMAND_BUDGET.flashRefillMs} an hour; next in ${waitS} s`,
      );
    }
  }

  /** Runs a command's later part; what it throws is logged and counted, never thrown into the timer. */
  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.counters.err++;
      this.deps.logger?.warn(`command failed after its reply: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private refuseOnce(name: string, error: string): void {
    if (this.refusalSaid) return;
    this.refusalSaid = true;
    this.deps.logger?.warn(`command ${name.slice(0, 32)} dropped: ${error}`);
    this.send(refusal(name, error));
  }

  private send(reply: CommandReply): void {
    this.deps.reply(encodeReply(reply));
  }
}
