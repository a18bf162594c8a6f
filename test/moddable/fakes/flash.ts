// Fake of the SDK's `flash` module (typings/flash.d.ts; documentation/files/files.md, class Flash; modules/files/flash/
// esp32/modFlash.c): a partition by name ("can't find partition" when the build's partition table has none),
// erase(block), read(offset, byteLength) into a new ArrayBuffer, write(offset, byteLength, buffer) of the first
// byteLength bytes ("invalid" when byteLength <= 0 or the buffer is shorter), byteLength and blockSize.
// The partition behind it is a SimNorFlash (test/store/nor-flash.ts), which refuses a program that would set a bit:
// the real chip would silently AND instead, so a log bug that does this is caught here rather than corrupting data.
import { sdk } from "./sdk";
import type { SimNorFlash } from "../../store/nor-flash";

type ByteBuffer = ArrayBuffer | ArrayBufferView;

function bytesOf(buffer: ByteBuffer): Uint8Array {
  return buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export default class Flash {
  private readonly partition: SimNorFlash;

  constructor(name: string) {
    const partition = sdk().flash.get(name);
    if (partition === undefined) throw new Error("can't find partition");
    this.partition = partition;
  }

  get byteLength(): number {
    return this.partition.byteLength;
  }

  get blockSize(): number {
    return this.partition.blockSize;
  }

  erase(block: number): void {
    this.partition.erase(block);
  }

  read(offset: number, byteLength: number): ArrayBuffer {
    const bytes = this.partition.read(offset, byteLength);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  write(offset: number, byteLength: number, buffer: ByteBuffer): void {
    const bytes = bytesOf(buffer);
    if (byteLength <= 0 || bytes.length < byteLength) throw new Error("invalid");
    this.partition.write(offset, bytes.slice(0, byteLength));
  }
}
