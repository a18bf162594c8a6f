// Entry of `npm run sim` and the xs-mqtt-sim bin: parse options, run, map failures to exit codes (2: bad option or config, 1: anything else).
import { StoreInUseError } from "../file-store";
import { BoardError } from "../../../boards/validate";
import { ConfigError, StorageError } from "../../../errors";
import { HELP, parseArgs, UsageError, type SimOptions } from "./options";
import { JsonReporter, TextReporter, type Reporter } from "./output";
import { startRun } from "./run";

export async function main(argv: readonly string[]): Promise<number> {
  let options: SimOptions;
  try {
    options = parseArgs(argv);
  } catch (error) {
    return usageFailure(error, argv.includes("--json"));
  }
  if (options.help) {
    process.stdout.write(HELP + "\n");
    return 0;
  }
  const out = { write: (text: string) => void process.stdout.write(text) };
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
        ? `data dir ${options.dataDir}: ${error.message}; the store (flash.img) is corrupt or unreadable (delete the dir to start over, losing its queue)`
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
  return run.done;
}

function usageFailure(error: unknown, json: boolean): number {
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof BoardError) {
    report(json, 2, `${error.message}\n(see --help)`);
    return 2;
  }
  throw error;
}

function report(json: boolean, code: number, message: string): void {
  if (json) process.stdout.write(JSON.stringify({ event: "exit", code, message }) + "\n");
  process.stderr.write(`xs-mqtt-sim: ${message}\n`);
}

main(process.argv.slice(2)).then(
  (code) => {
    // Let stdout drain (piped output is asynchronous) before exiting.
    process.stdout.write("", () => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(`xs-mqtt-sim: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
