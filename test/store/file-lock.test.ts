// The file store's directory lock: one process per directory, the same process may reopen, a dead owner's lock is taken over.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StorageError } from "../../src/errors";
import { openFileStore, StoreInUseError } from "../../src/platform/node/file-store";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "file-lock-"));
  dirs.push(dir);
  return dir;
}

describe("file store directory lock", () => {
  it("lets the same process open the directory again (a simulated reboot)", () => {
    const dir = tempDir();
    const first = openFileStore(dir, { fsync: false });
    first.put("k", new Uint8Array([1]));
    first.commit();
    const second = openFileStore(dir, { fsync: false });
    expect(second.get("k")).toEqual(new Uint8Array([1]));
    expect(readFileSync(join(dir, "lock"), "utf8")).toBe(String(process.pid));
  });

  it("refuses a directory held by another live process, naming it and what to do", async () => {
    const dir = tempDir();
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
    try {
      writeFileSync(join(dir, "lock"), String(holder.pid));
      expect(() => openFileStore(dir)).toThrow(StorageError);
      expect(() => openFileStore(dir)).toThrow(StoreInUseError);
      expect(() => openFileStore(dir)).toThrow(new RegExp(`in use by process ${holder.pid}: stop it, or use another directory`));
    } finally {
      holder.kill("SIGKILL");
      await new Promise((resolve) => holder.once("exit", resolve));
    }
    // Its owner is gone (as after a SIGKILL): the lock is taken over.
    const store = openFileStore(dir, { fsync: false });
    expect(store.list("")).toEqual([]);
    expect(readFileSync(join(dir, "lock"), "utf8")).toBe(String(process.pid));
  });
});
