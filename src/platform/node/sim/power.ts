// Fault injection for one boot of a simulated device: a clock and a transport wrapper that can be cut or powered off.
//
// A "boot" owns every timer it set and every link it opened. powerOff() cancels them all and closes the
// links without a single callback, as a power cut would: no DISCONNECT, no end(), no last commit.
// dropLinks() cuts the TCP connections the way a lost network does: the socket is destroyed and the
// client hears onClose with an error, then reconnects on its own.
import type { Clock, TimerHandle, Transport, TransportFactory, TransportHandlers } from "../../../ports";
import { nodeClock } from "../clock";

/** A timer of one boot; `timeout` changes when a callback Node ran early is put back to its deadline. */
interface BootTimer {
  timeout: ReturnType<typeof setTimeout>;
}

export class PowerDomain {
  private readonly timers = new Set<BootTimer>();
  private readonly links = new Set<ManagedLink>();
  private off = false;

  /**
   * The Clock port for this boot: nodeClock's time, timers that die with the boot. Node may run a timer up to
   * a millisecond before performance.now() reaches its deadline (libuv's loop time is cached and whole ms);
   * a core that compares now() with the deadline would then see it as not yet due, so an early callback is
   * put back until the deadline has really passed.
   */
  readonly clock: Clock = {
    now: () => nodeClock.now(),
    setTimeout: (callback: () => void, ms: number): TimerHandle => {
      if (this.off) return undefined;
      const due = nodeClock.now() + ms;
      const timer: BootTimer = { timeout: undefined as unknown as ReturnType<typeof setTimeout> };
      const fire = () => {
        if (this.off) return;
        const left = due - nodeClock.now();
        if (left > 0) {
          timer.timeout = setTimeout(fire, Math.max(1, Math.ceil(left)));
          return;
        }
        this.timers.delete(timer);
        callback();
      };
      timer.timeout = setTimeout(fire, Math.max(0, Math.ceil(ms)));
      this.timers.add(timer);
      return timer;
    },
    clearTimeout: (handle: TimerHandle) => {
      const timer = handle as BootTimer | undefined;
      if (timer === undefined) return;
      clearTimeout(timer.timeout);
      this.timers.delete(timer);
    },
  };

  constructor(private readonly inner: TransportFactory) {}

  get poweredOff(): boolean {
    return this.off;
  }

  /** The TransportFactory for this boot's client. */
  readonly transport: TransportFactory = (handlers: TransportHandlers): Transport => {
    if (this.off) throw new Error("device is powered off");
    const link = new ManagedLink(handlers, () => this.links.delete(link), () => !this.off);
    this.links.add(link);
    link.attach(this.inner(link.guarded));
    return link;
  };

  /** Cuts every open link; the client sees onClose(error) on a later turn. Returns how many were cut. */
  dropLinks(reason: string): number {
    let count = 0;
    for (const link of [...this.links]) if (link.cut(new Error(reason))) count++;
    return count;
  }

  /** Power cut: every timer cancelled, every link closed, no callback ever again from this boot. */
  powerOff(): void {
    this.off = true;
    for (const timer of this.timers) clearTimeout(timer.timeout);
    this.timers.clear();
    for (const link of [...this.links]) link.silence();
    this.links.clear();
  }
}

/** One connection: forwards the inner transport's callbacks until it is closed, cut or silenced. */
class ManagedLink implements Transport {
  private inner: Transport | undefined;
  private done = false;
  readonly guarded: TransportHandlers;

  constructor(private readonly handlers: TransportHandlers, private readonly forget: () => void, private readonly powered: () => boolean) {
    this.guarded = {
      onConnect: () => {
        if (!this.done) handlers.onConnect();
      },
      onData: (bytes) => {
        if (!this.done) handlers.onData(bytes);
      },
      onWritable: () => {
        if (!this.done) handlers.onWritable();
      },
      onClose: (error) => {
        if (this.done) return;
        this.finish();
        handlers.onClose(error);
      },
    };
  }

  attach(inner: Transport): void {
    this.inner = inner;
    if (this.done) inner.close();
  }

  write(bytes: Uint8Array): number {
    if (this.done || !this.inner) throw new Error("write on a closed connection");
    return this.inner.write(bytes);
  }

  close(): void {
    if (this.done) return;
    this.finish();
  }

  /** Network loss: destroy the socket now, tell the client on the next turn (never from inside its own call). */
  cut(error: Error): boolean {
    if (this.done) return false;
    this.finish();
    setImmediate(() => {
      if (this.powered()) this.handlers.onClose(error);
    });
    return true;
  }

  /** Power cut: destroy the socket, tell nobody. */
  silence(): void {
    if (!this.done) this.finish();
  }

  private finish(): void {
    this.done = true;
    this.forget();
    this.inner?.close();
  }
}
