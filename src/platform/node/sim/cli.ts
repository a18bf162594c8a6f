// Entry of `npm run sim` and the xs-mqtt-sim bin: parse options, run, map failures to exit codes (2: bad option or config, 1: anything else).
import { StoreInUseError } from "../file-store";
import { BoardError } from "../../../boards/validate";
import { ConfigError, StorageError } from "../../../errors";
import { HELP, parseArgs, UsageError, type SimOptions } from "./options";
import { JsonReporter, TextReporter, type Reporter } from "./output";
import { startRun } from "./run";

/**
 * stdout as the reporters see it. A reader that went away (`| head -3`, `| jq` that exited) is the user saying
 * "enough": the first EPIPE stops the run cleanly, instead of an unhandled 'error' event and a stack trace.
 */
const out = {
  closed: false,
  onClosed: () => {},
  write(text: string): void {
    if (!this.closed) process.stdout.write(text);
  },
};
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  if (out.closed) return;
  out.closed = true;
  out.onClosed();
});

/** How long a run whose output reader went away may take to stop cleanly. */
const EPIPE_GRACE_MS = 500;

export async function main(argv: readonly string[]): Promise<number> {
  const json = argv.includes("--json");
  let options: SimOptions;
  try {
    options = parseArgs(argv, process.env);
  } catch (error) {
    return usageFailure(error, json);
  }
  if (options.help) {
    out.write(HELP + "\n");
    return 0;
  }
  const reporter: Reporter = options.json
    ? new JsonReporter(out)
    : new TextReporter(out, { tty: process.stdout.isTTY === true, devices: options.devices, embedded: options.broker === undefined });

  let run;
  try {
    run = await startRun(options, reporter);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError || error instanceof BoardError) return usageFailure(error, options.json);
    const message = error instanceof StoreInUseError
      ? `data dir ${options.dataDir}: ${error.message}`
      : error instanceof StorageError
        ? `data dir ${options.dataDir}: ${error.message}; the store is corrupt or unreadable (delete the dir to start over, losing its queue)`
        : `cannot start: ${error instanceof Error ? error.message : String(error)}`;
    report(options.json, 1, message);
    return 1;
  }

  let signals = 0;
  const onSignal = (signal: string) => {
    signals++;
    if (signals > 1) process.exit(130);
    if (!options.json) process.stderr.write(`\n${signal}: stopping cleanly (again to quit at once)\n`);
    run.stop();
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  // The reader of stdout is gone: stop as Ctrl-C would, but without waiting long for a broker nobody watches
  // (what is not delivered stays in the data dir), and say nothing more.
  out.onClosed = () => run.stop(EPIPE_GRACE_MS);
  if (out.closed) run.stop(EPIPE_GRACE_MS);
  return run.done;
}

function usageFailure(error: unknown, json: boolean): number {
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof BoardError) {
    report(json, 2, `${error.message}\n(see --help)`);
    return 2;
  }
  throw error;
}

/** A failure before any run: the same `exit` event (with `t`) as a run's last one, and the message on stderr. */
function report(json: boolean, code: number, message: string): void {
  if (json) new JsonReporter(out).emit({ event: "exit", code, message });
  process.stderr.write(`xs-mqtt-sim: ${message}\n`);
}

main(process.argv.slice(2)).then(
  (code) => {
    // Let stdout drain (piped output is asynchronous) before exiting; a closed pipe has nothing left to drain.
    if (out.closed) process.exit(code);
    process.stdout.write("", () => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(`xs-mqtt-sim: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
