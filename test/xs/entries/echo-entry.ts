// XS entry for the harness's own tests: echoes, fails on request, answers asynchronously, reports the engine.
import { serveCommands } from "./xs-host";

type EchoCommand = { op: "echo"; value: unknown } | { op: "throw"; message: string } | { op: "async"; value: unknown } | { op: "engine" } | { op: "spin"; count: number };

serveCommands((command) => {
  const c = command as EchoCommand;
  switch (c.op) {
    case "echo":
      return c.value;
    case "throw":
      throw new TypeError(c.message);
    case "async":
      return Promise.resolve().then(() => ({ later: c.value }));
    case "engine": {
      const g = globalThis as Record<string, unknown>;
      return { print: typeof g.print, process: typeof g.process, Buffer: typeof g.Buffer, setTimeout: typeof g.setTimeout };
    }
    case "spin": {
      let total = 0;
      for (let i = 0; i < c.count; i++) total += i;
      return total;
    }
    default:
      throw new Error("unknown command");
  }
});
