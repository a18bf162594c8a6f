// Fake of the SDK's `crypt` module (typings/crypt.d.ts): Digest over Node's crypto. For test/moddable/fakes/crypt.ts,
// with `crypt: "crypt.ts"` added to SDK_MODULES in test/support/moddable-fakes-plugin.ts (transport.ts imports it).
import { createHash, type Hash } from "node:crypto";

export class Digest {
  readonly #type: string;
  #hash: Hash;
  constructor(type: "MD5" | "SHA1" | "SHA224" | "SHA256" | "SHA384" | "SHA512") {
    this.#type = type.toLowerCase();
    this.#hash = createHash(this.#type);
  }
  write(message: string | ArrayBuffer): void {
    this.#hash.update(typeof message === "string" ? message : new Uint8Array(message));
  }
  close(): ArrayBuffer {
    const out = this.#hash.digest();
    this.#hash = createHash(this.#type);
    return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  }
  reset(): void {
    this.#hash = createHash(this.#type);
  }
}
