// XS entry for the stack guard: runs one prepared flow at the bottom of a stack already filled by `pad` slots.
// xsnap creates every machine with 4096 stack slots and no option to change it; instead of a smaller stack, the
// unused part is filled: `withArgs(pad, f)` calls f through a function given `pad` arguments, each one slot on
// XS's stack, so the turn runs with one slot less per unit of pad. Past the end, XS aborts the machine (xsnap exits
// with code 12): the Node side then knows the turn did not fit.
import { STACK_FLOWS } from "../flows/stack-flows";
import { serveCommands } from "./xs-host";

type Command =
  | { op: "names" }
  | { op: "run"; flow: string; board: unknown; pad: number }
  | { op: "empty"; pad: number }
  | { op: "deep"; pad: number; frames: number };

function call(f: () => string): string {
  // Reading `arguments` keeps every argument in the frame (XS drops the ones past the declared parameters otherwise).
  // eslint-disable-next-line prefer-rest-params
  const all = arguments;
  return f() + (all.length < 0 ? "" : "");
}

/** Runs f with `pad` extra slots on the stack below it (the arguments of one call). */
function withArgs(pad: number, f: () => string): string {
  const args: unknown[] = new Array(pad + 1);
  args[0] = f;
  return `${(call as (...a: unknown[]) => string).apply(undefined, args)}`;
}

/** A recursion of `frames` frames: the negative control, which must not fit where the flows must. */
function recurse(frames: number): string {
  if (frames === 0) return "bottom";
  const below = recurse(frames - 1);
  return below;
}

serveCommands((command) => {
  const c = command as Command;
  switch (c.op) {
    case "names":
      return STACK_FLOWS.map((f) => f.name);
    case "empty":
      return withArgs(c.pad, () => "empty");
    case "deep":
      return withArgs(c.pad, () => recurse(c.frames));
    case "run": {
      const flow = STACK_FLOWS.find((f) => f.name === c.flow);
      if (!flow) throw new Error(`no flow "${c.flow}"`);
      const turn = flow.prepare(c.board);
      return withArgs(c.pad, turn);
    }
    default:
      throw new Error(`unknown command ${JSON.stringify(command)}`);
  }
});
