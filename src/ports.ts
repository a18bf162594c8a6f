// The small interfaces through which the portable core reaches a platform. Adapters implement them; the core never imports an adapter.

/** Handle for a scheduled callback. */
export type TimerHandle = unknown;

/** Monotonic milliseconds plus one-shot timers. Never wall time: it must not jump when SNTP sets the clock. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Callbacks a transport makes; they are never called from inside write() or close(). */
export interface TransportHandlers {
  /** The link is up and bytes may be written. */
  onConnect(): void;
  /** Bytes arrived; the array is owned by the receiver. */
  onData(bytes: Uint8Array): void;
  /** Room to write again after a write() that accepted less than it was given. */
  onWritable(): void;
  /** The link is gone (after onConnect or instead of it). `error` says why when it was not our close(). */
  onClose(error?: Error): void;
}

/** A byte stream to the broker, ECMA-419 style: no streams, no events, write credits instead of buffering without bound. */
export interface Transport {
  /** Writes as much of `bytes` as the link takes now and returns how many bytes that was (0..bytes.length). */
  write(bytes: Uint8Array): number;
  close(): void;
}

/** Opens a new link to the configured broker; each call is one connection attempt. */
export type TransportFactory = (handlers: TransportHandlers) => Transport;

/** Random source in [0, 1), injected so backoff jitter and simulated sensors are deterministic in tests. */
export type RandomSource = () => number;

/** Optional logging; the core logs nothing unless given one. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}
