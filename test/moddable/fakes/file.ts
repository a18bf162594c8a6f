// Fake of the SDK's `file` module as mcsim has it (typings/file.d.ts; modules/files/file/file.js and lin/modFile.c,
// SDK 8.2.3), over an in-memory file system in the fakes' state (sdk().files, path -> bytes):
// - new File(path) opens for reading, new File(path, true) for reading and writing ("rb+"), creating an empty file
//   when there is none ("wb+"); a missing file opened to read throws "file not found".
// - read(ArrayBuffer|String, count) reads from `position`: past the end it reads what is there, at or after the end
//   it throws "read past end of file"; position moves on.
// - write(...items) writes strings (UTF-8), numbers (one byte) and ArrayBuffers at `position`, growing the file (a gap
//   before `position` reads as zeros, as fseek past the end then fwrite leaves it).
// - length is the file's size now; position may be set anywhere (fseek); after close() every call throws "closed".
// - File.exists/delete/rename on the same map.
import { sdk } from "./sdk";

function bytesOf(item: ArrayBufferLike | ArrayBuffer | ArrayBufferView | string | number): Uint8Array {
  if (typeof item === "string") return new TextEncoder().encode(item);
  if (typeof item === "number") return Uint8Array.of(item & 0xff);
  if (ArrayBuffer.isView(item)) return new Uint8Array(item.buffer, item.byteOffset, item.byteLength);
  return new Uint8Array(item);
}

export class File {
  #path: string | undefined;
  #position = 0;

  constructor(path: string, write = false) {
    const files = sdk().files;
    if (!files.has(path)) {
      if (!write) throw new Error("file not found");
      files.set(path, new Uint8Array(0));
    }
    sdk().fileOpens.push(`${write ? "rw" : "r"} ${path}`);
    this.#path = path;
  }

  #bytes(): Uint8Array {
    if (this.#path === undefined) throw new Error("closed");
    const bytes = sdk().files.get(this.#path);
    if (bytes === undefined) throw new Error(`fake file: ${this.#path} was deleted while open`);
    return bytes;
  }

  read<T extends typeof ArrayBuffer | typeof String>(type: T, count?: number): T extends typeof String ? string : ArrayBuffer;
  read(type: typeof ArrayBuffer | typeof String, count?: number): ArrayBuffer | string {
    const bytes = this.#bytes();
    let length = count ?? -1;
    if (length === -1 || bytes.length < this.#position + length) {
      if (this.#position >= bytes.length) throw new Error("read past end of file");
      length = bytes.length - this.#position;
    }
    const out = bytes.slice(this.#position, this.#position + length);
    this.#position += length;
    return type === String ? new TextDecoder().decode(out) : out.buffer;
  }

  write(...items: Array<ArrayBufferLike | ArrayBuffer | string | number>): void {
    let bytes = this.#bytes();
    const path = this.#path as string;
    const state = sdk();
    for (const item of items) {
      if (state.fileWriteError !== undefined) throw new Error(state.fileWriteError);
      const data = bytesOf(item);
      const end = this.#position + data.length;
      if (end > bytes.length) {
        const grown = new Uint8Array(end);
        grown.set(bytes);
        bytes = grown;
      }
      bytes.set(data, this.#position);
      this.#position = end;
      state.files.set(path, bytes);
    }
  }

  close(): void {
    this.#bytes();
    this.#path = undefined;
  }

  get length(): number {
    return this.#bytes().length;
  }

  get position(): number {
    this.#bytes();
    return this.#position;
  }

  set position(value: number) {
    this.#bytes();
    this.#position = value;
  }

  static exists(path: string): boolean {
    return sdk().files.has(path);
  }

  static delete(path: string): boolean {
    return sdk().files.delete(path);
  }

  static rename(from: string, to: string): boolean {
    const bytes = sdk().files.get(from);
    if (bytes === undefined) return false;
    const target = to.startsWith("/") ? to : from.slice(0, from.lastIndexOf("/") + 1) + to;
    sdk().files.delete(from);
    sdk().files.set(target, bytes);
    return true;
  }
}

export default Object.freeze({ File });
