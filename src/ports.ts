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

/**
 * A NOR flash partition, as Moddable's `flash` module gives it on ESP32 (`new Flash(name)`): the flash log's only
 * way to its bytes. NOR rules: erase() sets a whole block to 0xFF, write() can only clear bits (1 -> 0) and never
 * rewrites in place; a write or erase cut by power loss leaves bits indeterminate. Errors are thrown.
 */
export interface NorFlash {
  /** Erase unit in bytes (4096 on ESP32 SPI flash). */
  readonly blockSize: number;
  /** Partition size in bytes, a whole number of blocks. */
  readonly byteLength: number;
  /** A copy of `length` bytes at `offset`. */
  read(offset: number, length: number): Uint8Array;
  /** Programs `bytes` at `offset`: each bit can only go from 1 to 0. */
  write(offset: number, bytes: Uint8Array): void;
  /** Sets every byte of block `block` (0-based) to 0xFF. */
  erase(block: number): void;
}
