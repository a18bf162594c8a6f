// Child process for the SIGKILL test: commits forever on a file store, printing each commit number once it returned.
import { openFileStore } from "../../src/platform/node/file-store";
import { openFlashFileStore } from "../../src/platform/node/flash-file";
import type { SessionStore } from "../../src/store/session-store";

/** The value commit `i` writes into slot s/(i % 8): its length and bytes depend on i only. */
export function slotValue(i: number): Uint8Array {
  return Uint8Array.from({ length: 1 + ((i * 37) % 3000) }, (_, k) => (i + k) & 0xff);
}

export function counter(i: number): Uint8Array {
  return Uint8Array.from([i & 0xff, (i >>> 8) & 0xff, (i >>> 16) & 0xff, i >>> 24]);
}

/** Commit i: n = i, slot i % 8 = slotValue(i), slot (i + 4) % 8 deleted; so the state is a function of i. */
export function commitNumber(store: SessionStore, i: number): void {
  store.put("n", counter(i));
  store.put(`s/${i % 8}`, slotValue(i));
  store.delete(`s/${(i + 4) % 8}`);
  store.commit();
}

if (process.argv[1]?.endsWith("kill-child.ts")) {
  const [dir, fsync] = process.argv.slice(2);
  const store = fsync === "flash" ? openFlashFileStore(dir, { imageBytes: 256 * 1024 }) : openFileStore(dir, { fsync: fsync === "fsync" });
  const n = store.get("n");
  let i = n === undefined ? 0 : n[0] | (n[1] << 8) | (n[2] << 16) | (n[3] << 24);
  for (;;) {
    i++;
    commitNumber(store, i);
    process.stdout.write(`${i}\n`);
  }
}
