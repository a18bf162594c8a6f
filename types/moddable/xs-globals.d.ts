// The XS globals the firmware uses: trace() to the console (mcsim stdout, xsbug or serial) and String.fromArrayBuffer.
declare function trace(...values: unknown[]): void;

interface StringConstructor {
  /** XS: decodes UTF-8 bytes natively. */
  fromArrayBuffer(buffer: ArrayBufferLike): string;
}
