// The flash log over a flash image in a data dir (Node simulator): the store suite, NOR rules on the image, migration of
// an old-format dir, and no symbolic link followed, files 0600 in a 0700 dir.
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { StorageError } from "../../src/errors";
import { openFileStore } from "../../src/platform/node/file-store";
import { FileNorFlash, IMAGE_FILE, openFlashFileStore } from "../../src/platform/node/flash-file";
import { contents, sessionStoreSuite } from "./store-suite";

const root = mkdtempSync(join(tmpdir(), "flash-file-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

sessionStoreSuite("flash log on a 64 KB flash image in a data dir", () => {
  const dir = join(root, `suite-${dirs++}`);
  return () => openFlashFileStore(dir, { imageBytes: 64 * 1024 });
});

describe("flash image", () => {
  it("is created erased (all ones), 0600 in a 0700 dir, and enforces NOR rules", () => {
    const dir = join(root, "image");
    const store = openFlashFileStore(dir, { imageBytes: 64 * 1024 });
    store.put("k", Uint8Array.of(1, 2, 3));
    store.commit();
    const path = join(dir, IMAGE_FILE);
    expect(statSync(path).size).toBe(64 * 1024);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "lock")).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const flash = new FileNorFlash(path);
    expect(flash.byteLength).toBe(64 * 1024); // an existing image keeps its size
    expect(flash.read(60 * 1024, 4)).toEqual(Uint8Array.of(255, 255, 255, 255));
    flash.write(60 * 1024, Uint8Array.of(0x0f));
    expect(() => flash.write(60 * 1024, Uint8Array.of(0xf0))).toThrow(/would set bits/);
    flash.erase(15);
    expect(flash.read(60 * 1024, 1)).toEqual(Uint8Array.of(255));
  });

  it("refuses a flash image or lock that is a planted symbolic link, and leaves its target alone", () => {
    const dir = join(root, "planted");
    mkdirSync(dir, { recursive: true });
    const victim = join(root, "victim.txt");
    writeFileSync(victim, "precious");
    symlinkSync(victim, join(dir, IMAGE_FILE));
    expect(() => openFlashFileStore(dir, { lock: false })).toThrow(StorageError);
    expect(() => openFlashFileStore(dir, { lock: false })).toThrow(/symbolic link/);
    expect(readFileSync(victim, "utf8")).toBe("precious");
    const other = join(root, "planted-lock");
    mkdirSync(other);
    symlinkSync(victim, join(other, "lock"));
    // A lock that names no live process is stale: the link itself is removed and a plain lock file made.
    openFlashFileStore(other, { imageBytes: 64 * 1024 });
    expect(readFileSync(victim, "utf8")).toBe("precious");
    expect(lstatSync(join(other, "lock")).isFile()).toBe(true);
  });

  it("refuses a symbolic link planted after start in place of the image: writes never reach its target", () => {
    const dir = join(root, "planted-later");
    const store = openFlashFileStore(dir, { imageBytes: 64 * 1024 });
    store.put("a", Uint8Array.of(1));
    store.commit();
    const victim = join(root, "victim2.bin");
    writeFileSync(victim, "precious");
    rmSync(join(dir, IMAGE_FILE));
    symlinkSync(victim, join(dir, IMAGE_FILE));
    store.put("b", Uint8Array.of(2));
    expect(() => store.commit()).toThrow(/symbolic link/);
    expect(readFileSync(victim, "utf8")).toBe("precious");
    expect(lstatSync(join(dir, IMAGE_FILE)).isSymbolicLink()).toBe(true);
  });

  it("the old one-file-per-key store also opens its files without following links, 0600", () => {
    const dir = join(root, "old-links");
    const old = openFileStore(dir, { fsync: false, lock: false });
    old.put("x", Uint8Array.of(1));
    old.put("y", Uint8Array.of(2));
    old.commit();
    expect(statSync(join(dir, "x.v")).mode & 0o777).toBe(0o600);
    const victim = join(root, "victim3.txt");
    writeFileSync(victim, "precious");
    rmSync(join(dir, "x.v"));
    symlinkSync(victim, join(dir, "x.v"));
    old.put("x", Uint8Array.of(9));
    old.put("y", Uint8Array.of(8));
    expect(() => old.commit()).toThrow();
    expect(readFileSync(victim, "utf8")).toBe("precious");
  });
});

describe("old-format data dir", () => {
  it("is migrated into the flash image in one commit, and its files removed", () => {
    const dir = join(root, "migrate");
    const old = openFileStore(dir, { fsync: false });
    old.put("smp.boot", Uint8Array.of(0x37));
    old.put("o/00000001", new Uint8Array(3000).fill(7));
    old.put("s/meta", Uint8Array.of(1, 0, 0, 0, 0, 0, 2, 0, 1));
    old.commit();
    const before = contents(old);
    const messages: number[] = [];
    const store = openFlashFileStore(dir, { onMigrated: (n) => messages.push(n) });
    expect(contents(store)).toEqual(before);
    expect(messages).toEqual([3]);
    expect(readdirSync(dir).sort()).toEqual([IMAGE_FILE, "lock"]);
    expect(contents(openFlashFileStore(dir))).toEqual(before);
  });

  it("after a cut between the migration's commit and the removal of the old files, keeps the log and removes them", () => {
    const dir = join(root, "migrate-cut");
    const old = openFileStore(dir, { fsync: false });
    old.put("k", Uint8Array.of(1));
    old.commit();
    const migrated = openFlashFileStore(dir);
    migrated.put("k", Uint8Array.of(2)); // the log moved on after migrating
    migrated.commit();
    writeFileSync(join(dir, "k.v"), Uint8Array.of(1, 0, 0, 0, 0, 1)); // a leftover old file
    const store = openFlashFileStore(dir);
    expect(store.get("k")).toEqual(Uint8Array.of(2));
    expect(existsSync(join(dir, "k.v"))).toBe(false);
  });

  it("that is corrupt gets a clear message naming the dir and what to do", () => {
    const dir = join(root, "migrate-bad");
    mkdirSync(dir);
    writeFileSync(join(dir, "journal"), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18));
    chmodSync(join(dir, "journal"), 0o600);
    expect(() => openFlashFileStore(dir)).toThrow(/old-format store .* cannot be migrated.*move those files away/);
  });
});
