// Moddable base modules: time, timer, modules, Resource, instrumentation, preference, mc/config, crypt.

declare module "time" {
  const Time: {
    /** Sets the wall clock, seconds since 1970 (a no-op on the desktop simulator). */
    set(seconds: number): void;
    /** Milliseconds since boot on device (a signed 32-bit integer on ESP32); wall-clock ms on the desktop. */
    readonly ticks: number;
    delta(start: number, end?: number): number;
  };
  export default Time;
}

declare module "timer" {
  class Timer {
    private constructor();
    private brand: boolean;
    static set(callback: (timer: Timer) => void, interval?: number, repeat?: number): Timer;
    static repeat(callback: (timer: Timer) => void, interval: number): Timer;
    static schedule(timer: Timer, interval?: number, repeat?: number): void;
    /** Ignores undefined and timers that already fired. */
    static clear(timer: Timer | undefined | null): void;
    static delay(milliseconds: number): void;
  }
  export default Timer;
}

declare module "modules" {
  export default class Modules {
    static has(specifier: string): boolean;
    static importNow(specifier: string, namespace?: boolean): unknown;
  }
}

declare module "Resource" {
  class Resource {
    constructor(path: string);
    static exists(path: string): boolean;
    readonly byteLength: number;
    slice(begin: number, end?: number): ArrayBuffer;
  }
  export default Resource;
}

declare module "instrumentation" {
  const Instrumentation: {
    get(what: number | undefined): number | undefined;
    map(name: string): number | undefined;
    name(what: number | undefined): string | undefined;
  };
  export default Instrumentation;
}

declare module "preference" {
  const Preference: {
    set(domain: string, key: string, value: string | boolean | number | ArrayBuffer): void;
    get(domain: string, key: string): string | boolean | number | ArrayBuffer | undefined;
    delete(domain: string, key: string): void;
    keys(domain: string): string[];
  };
  export default Preference;
}

declare module "mc/config" {
  /** The manifest's `config` merged with mcconfig's key=value arguments; deep-frozen. */
  const config: Readonly<Record<string, unknown>>;
  export default config;
}

declare module "flash" {
  /** modules/files/flash (ESP32): a data partition by name; erase/read/write relative to it. */
  class Flash {
    constructor(name: string);
    erase(block: number): void;
    read(offset: number, byteLength: number): ArrayBuffer;
    write(offset: number, byteLength: number, buffer: ArrayBuffer | ArrayBufferView): void;
    readonly byteLength: number;
    readonly blockSize: number;
  }
  export default Flash;
}

declare module "file" {
  /** modules/files/file: `new File(path, write)`; read/write at `position`. */
  export class File {
    constructor(path: string, write?: boolean);
    read(type: typeof ArrayBuffer, count?: number): ArrayBuffer;
    write(...values: Array<ArrayBuffer | string>): void;
    readonly length: number;
    position: number;
    close(): void;
  }
}

declare module "crypt" {
  /** Message digests (modules/crypt/digest); close() returns the digest and ends it. */
  export class Digest {
    constructor(type: "MD5" | "SHA1" | "SHA224" | "SHA256" | "SHA384" | "SHA512");
    write(message: string | ArrayBuffer): void;
    close(): ArrayBuffer;
    reset(): void;
  }
}
