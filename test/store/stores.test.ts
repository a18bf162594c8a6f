// Runs the shared SessionStore suite against every store: memory, journaled (fake backends, preferences), files.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { openFileStore } from "../../src/platform/node/file-store";
import { JournaledStore } from "../../src/store/journaled-store";
import { MemoryStore } from "../../src/store/memory-store";
import { PreferenceBackend } from "../../src/store/preference-backend";
import { FakePreference, MemoryBackend } from "./fakes";
import { sessionStoreSuite } from "./store-suite";

const root = mkdtempSync(join(tmpdir(), "store-suite-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

sessionStoreSuite("MemoryStore (shared committed map)", () => {
  const committed = new Map<string, Uint8Array>();
  return () => new MemoryStore(committed);
});

sessionStoreSuite("JournaledStore over RAM, atomic item writes", () => {
  const backend = new MemoryBackend(true);
  return () => JournaledStore.open(backend);
});

sessionStoreSuite("JournaledStore over RAM, non-atomic item writes (journal every commit)", () => {
  const backend = new MemoryBackend(false);
  return () => JournaledStore.open(backend);
});

sessionStoreSuite("JournaledStore over ESP32-like preferences (4000-byte chunks)", () => {
  let prefs = new FakePreference();
  return () => {
    prefs = prefs.reboot();
    return JournaledStore.open(new PreferenceBackend(prefs, "mqtt"));
  };
});

sessionStoreSuite("file store, fsync off", () => {
  const dir = join(root, `nosync-${dirs++}`);
  return () => openFileStore(dir, { fsync: false });
});

sessionStoreSuite("file store, fsync on", () => {
  const dir = join(root, `sync-${dirs++}`);
  return () => openFileStore(dir, { fsync: true });
});
