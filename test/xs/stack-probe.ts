// Measures how many XS stack slots a firmware turn needs, on xsnap, without the Moddable SDK.
//
// xsnap creates every machine with 4096 stack slots (xsnap-worker.c, no option). The entry (entries/stack-entry.ts)
// fills the stack with `pad` slots (the arguments of one call) and runs the turn on top; past the end XS aborts and
// xsnap exits with code 12. So:
//   capacity = the largest pad with which an empty turn still runs (the harness's own frames are below it);
//   need(turn) = capacity - the largest pad with which the turn still runs, in slots, to the slot.
// A turn fits a board budget B with 25% headroom iff it runs with pad = capacity - floor(0.75 * B).
// Each probe that overflows costs a fresh worker (the machine is gone); one that fits keeps it.
import { bundleForXs, XsRunner, xsEntry } from "./harness";

/** xsnap's exit code for "stack overflow" (E_STACK_OVERFLOW in xsnap-worker.c). */
const STACK_OVERFLOW_EXIT = /exited \(code 12,/;

export class StackProbe {
  private xs: XsRunner | undefined;
  private bundle: string | undefined;
  starts = 0;

  /** Runs `command` (an op of the stack entry); false when the stack overflowed. Any other failure throws. */
  async fits(command: Record<string, unknown>): Promise<boolean> {
    this.bundle ??= await bundleForXs(xsEntry("stack-entry"));
    if (!this.xs) {
      this.xs = await XsRunner.start({ bundle: this.bundle, meteringLimit: 1e10, name: "xsnap:stack" });
      this.starts++;
    }
    try {
      await this.xs.command(command);
      return true;
    } catch (error) {
      const message = (error as Error).message;
      await this.xs.close().catch(() => {});
      this.xs = undefined;
      if (STACK_OVERFLOW_EXIT.test(message)) return false;
      throw error;
    }
  }

  /** The largest pad in [lo, hi) with which `make(pad)` fits (lo must fit). */
  async largestPad(make: (pad: number) => Record<string, unknown>, lo: number, hi: number): Promise<number> {
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (await this.fits(make(mid))) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /** Slots free above the harness: the largest pad an empty turn runs with. */
  async capacity(): Promise<number> {
    return this.largestPad((pad) => ({ op: "empty", pad }), 0, 4096);
  }

  /** Slots the named flow's turn needs (capacity from capacity()), searching up to `max` slots. */
  async need(capacity: number, flow: string, board: unknown, max = 1500): Promise<number> {
    const lowest = Math.max(0, capacity - max);
    if (!(await this.fits({ op: "run", flow, board, pad: lowest }))) return Infinity;
    return capacity - (await this.largestPad((pad) => ({ op: "run", flow, board, pad }), lowest, capacity + 1));
  }

  async names(): Promise<string[]> {
    this.bundle ??= await bundleForXs(xsEntry("stack-entry"));
    const xs = await XsRunner.start({ bundle: this.bundle, name: "xsnap:stack" });
    try {
      return (await xs.command<string[]>({ op: "names" })).reply;
    } finally {
      await xs.close();
    }
  }

  async close(): Promise<void> {
    await this.xs?.close();
    this.xs = undefined;
  }
}
