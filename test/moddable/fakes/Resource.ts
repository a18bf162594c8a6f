// Fake of the SDK's `Resource` (typings/Resource.d.ts): the build's bundled data files, read-only.
import { sdk } from "./sdk";

export default class Resource {
  readonly #bytes: Uint8Array;
  constructor(path: string) {
    const bytes = sdk().resources.get(path);
    if (bytes === undefined) throw new Error(`Resource: ${path} not found`);
    this.#bytes = bytes;
  }
  static exists(path: string): boolean {
    return sdk().resources.has(path);
  }
  get byteLength(): number {
    return this.#bytes.byteLength;
  }
  slice(begin: number, end?: number): ArrayBuffer {
    return this.#bytes.slice(begin, end).buffer;
  }
}
