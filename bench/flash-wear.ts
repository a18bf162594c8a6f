// What the firmware writes to ESP32 flash per reading: the real Firmware, sampler and client over (old) the journaled
// store on NVS through Moddable's Preference, counted, and (new) the flash log on a simulated NOR partition, counted
// per block; side by side, with the boot cost of a full log. Ends with one summary line for the new store.
import { readFileSync } from "node:fs";
import { Firmware } from "../src/app/firmware";
import { PacketType as P } from "../src/mqtt/constants";
import type { Packet } from "../src/mqtt/packets";
import { createSimulatedSensor } from "../src/sensors/simulated";
import { FlashLogStore } from "../src/store/flash-log";
import { JournaledStore } from "../src/store/journaled-store";
import type { SessionStore } from "../src/store/session-store";
import { XsRunner, xsEntry, xsnapWorkerPath } from "../test/xs/harness";
import { SimNorFlash } from "../test/store/nor-flash";
import { fullLog } from "../test/store/full-log";
import { PreferenceBackend, type PreferenceApi } from "../src/store/preference-backend";
import { FakeClock } from "../test/support/fake-clock";
import { FakePreference } from "../test/store/fakes";
import { NeutralBroker } from "../test/xs/flows/neutral-broker";

/** NVS stores 32-byte entries: one header entry per item, plus the data of a blob in 32-byte entries (ESP-IDF NVS docs). */
const ENTRY_BYTES = 32;
const ENTRIES_PER_PAGE = 126;

class CountingPreference implements PreferenceApi {
  sets = 0;
  deletes = 0;
  entries = 0;
  bytes = 0;
  constructor(private readonly inner: PreferenceApi) {}
  set(domain: string, key: string, value: string | boolean | number | ArrayBuffer): void {
    this.sets++;
    const size = value instanceof ArrayBuffer ? value.byteLength : typeof value === "string" ? value.length : 4;
    this.bytes += size;
    this.entries += 1 + Math.ceil(size / ENTRY_BYTES);
    this.inner.set(domain, key, value);
  }
  get(domain: string, key: string) {
    return this.inner.get(domain, key);
  }
  delete(domain: string, key: string): void {
    this.deletes++;
    this.inner.delete(domain, key);
  }
  keys(domain: string): string[] {
    return this.inner.keys(domain);
  }
}

interface Scenario {
  name: string;
  config: Record<string, string>;
  /** Commands an attacker with publish rights on cmd/# sends in second `t` of the run: [name, payload]. */
  attack?: (t: number) => Array<[string, string]>;
}

const ID64 = "i".repeat(64);

/** Ten commands a second, every kind: settings that change each time, forced reads and health with the longest id accepted, junk. */
function flood(t: number): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let k = 0; k < 10; k++) {
    const n = t * 10 + k;
    switch (n % 6) {
      case 0: out.push(["interval", `{"ms":${10_000 + (n % 2)},"id":"${ID64}"}`]); break;
      case 1: out.push(["deadband", `{"value":"${n % 2 === 0 ? "0" : "0.0"}","id":"${ID64}"}`]); break;
      case 2: out.push(["heartbeat", `{"s":${300 + (n % 2)},"id":"${ID64}"}`]); break;
      case 3: out.push(["read", `{"id":"${ID64}"}`]); break;
      case 4: out.push(["health", `{"id":"${ID64}"}`]); break;
      default: out.push(["read", "x".repeat(3000)]); break;
    }
  }
  return out;
}

/** The settings a hostile command can force that cost the most flash (interval at its command floor, deadband 0, heartbeat 1 s), set once. */
function worstSettings(t: number): Array<[string, string]> {
  if (t === 0) return [["interval", '{"ms":1000}']];
  if (t === 31) return [["deadband", '{"value":"0"}']];
  if (t === 62) return [["heartbeat", '{"s":1}']];
  return [];
}

let commandsRun = 0;

function run(scenario: Scenario, board: unknown, hours: number): { readings: number; prefs: CountingPreference } {
  const prefs = new CountingPreference(new FakePreference());
  const store = JournaledStore.open(new PreferenceBackend(prefs, "mqtt"));
  const before = { sets: 0, deletes: 0, entries: 0, bytes: 0 };
  // As the firmware was before the flash log: every telemetry message stored beside the readings it was built from.
  const readings = simulate(scenario, board, store, hours * 3600 * 1000, () => {
    Object.assign(before, { sets: prefs.sets, deletes: prefs.deletes, entries: prefs.entries, bytes: prefs.bytes });
  }, undefined, true);
  prefs.sets -= before.sets;
  prefs.deletes -= before.deletes;
  prefs.entries -= before.entries;
  prefs.bytes -= before.bytes;
  return { readings: readings.count, prefs };
}

/**
 * Runs the real firmware on `store` against a broker that acknowledges everything, for `ms` of fake time after the
 * first connection (`started` is called then); returns the readings taken and the bytes of their stored records.
 */
function simulate(
  scenario: Scenario, board: unknown, inner: SessionStore, ms: number, started: () => void, tick?: () => void, messagesStored = false,
): { count: number; recordBytes: number } {
  const clock = new FakeClock();
  const broker = new NeutralBroker([]);
  let recordBytes = 0;
  // Counts the reading records the sampler stores: the payload that write amplification is measured against.
  const store: SessionStore = {
    get: (key) => inner.get(key),
    list: (prefix) => inner.list(prefix),
    put: (key, value) => {
      if (key.startsWith("smp.r")) recordBytes += value.length;
      inner.put(key, value);
    },
    delete: (key) => inner.delete(key),
    commit: () => inner.commit(),
    capacityBytes: () => inner.capacityBytes?.(),
  };
  const firmware = new Firmware(
    { config: { device_id: "a4cf12b3c4d5", health_s: "0", mqtt_qos: "1", ...scenario.config }, board, boardFile: "boards/lin.json" },
    {
      clock,
      store,
      wallClock: () => 1_700_000_000_000 + clock.now(),
      defaultDeviceId: "unused",
      createSensor: (spec, _board, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
      transport: broker.transport,
      random: () => 0.5,
      telemetryFromRecords: !messagesStored,
    },
  );
  firmware.start();
  const serve = () => {
    if (broker.links.length === 0) return;
    const link = broker.link;
    for (const packet of link.drain() as Packet[]) {
      if (packet.type === P.CONNECT) link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
      else if (packet.type === P.SUBSCRIBE) link.send({ type: P.SUBACK, packetId: packet.packetId, granted: packet.subscriptions.map((s) => s.qos) });
      else if (packet.type === P.PUBLISH && packet.qos === 1) link.send({ type: P.PUBACK, packetId: packet.packetId as number });
    }
  };
  broker.link.open();
  serve();
  started();
  recordBytes = 0;
  const seqBefore = firmware.device.sampler.stats().nextSeq;
  let packetId = 1;
  for (let t = 0; t < ms; t += 1000) {
    for (const [name, payload] of scenario.attack?.(t / 1000) ?? []) {
      broker.link.send({ type: P.PUBLISH, topic: `xsms/a4cf12b3c4d5/cmd/${name}`, payload: new TextEncoder().encode(payload), qos: 1, retain: false, dup: false, packetId });
      packetId = (packetId % 65_535) + 1;
    }
    clock.advance(1000);
    serve();
    tick?.();
  }
  commandsRun = firmware.device.commands.counters.ok;
  return { count: firmware.device.sampler.stats().nextSeq - seqBefore, recordBytes };
}

export async function benchFlashWear(): Promise<void> {
  // The desktop board with deadband 0 (every sample is a reading): the worst case for flash.
  const board = JSON.parse(readFileSync(new URL("../test/sim/fixtures/every-sample/lin.json", import.meta.url), "utf8"));
  const scenarios: Scenario[] = [
    { name: "10 s interval, batch 10 (defaults)", config: { interval_ms: "10000" } },
    { name: "10 s interval, batch 1", config: { interval_ms: "10000", batch_max: "1" } },
    { name: "60 s interval, batch 10", config: { interval_ms: "60000" } },
    // Hostile: someone who may publish on the command topics (the broker's ACL is the real defence; these are the
    // limits the device keeps by itself: COMMAND_BUDGET in src/app/command-inbox.ts).
    { name: "hostile: 10 commands/s of every kind, on the defaults", config: { interval_ms: "10000" }, attack: flood },
    { name: "hostile: worst settings (interval 1 s, deadband 0, heartbeat 1 s)", config: { interval_ms: "10000" }, attack: worstSettings },
  ];
  const rows = scenarios.map((scenario) => {
    const { readings, prefs } = run(scenario, board, 2);
    const perReading = prefs.entries / readings;
    // Entries a day from what the 2 h run wrote (hostile runs change the interval, so not from the configured one).
    const perDay = (prefs.entries * 24) / 2;
    const pageErasesPerDay = perDay / ENTRIES_PER_PAGE;
    // Default Moddable ESP32 partition table: 24 KB NVS = 6 pages, one kept free by NVS; 100k erase cycles per page.
    const years = (5 * 100_000) / pageErasesPerDay / 365;
    return {
      scenario: scenario.name,
      readings,
      "commands run": commandsRun,
      "sets / reading": (prefs.sets / readings).toFixed(1),
      "bytes / reading": (prefs.bytes / readings).toFixed(0),
      "NVS entries / reading": perReading.toFixed(1),
      "NVS entries / day": Math.round(perDay),
      "years on 24 KB NVS": years.toFixed(1),
    };
  });
  console.log("Simulated 2 h per row, QoS 1, every reading passing the deadband; entries = 1 header + ceil(bytes/32) per set.");
  console.log("Hostile rows: commands over the rate limit and the flash-write budget are dropped or refused (see commands run).");
  console.table(rows);
  const summary = await benchFlashLog(board);
  await benchFlashLogBoot();
  // The last line of this section, for the new store at the defaults (QoS 1, batch 10, 10 s).
  console.log(
    `flash-wear summary: ${summary.bytesPerReading.toFixed(1)} bytes programmed per reading; ${summary.years1s.toFixed(1)} years at 1 s, ${summary.years10s.toFixed(0)} years at 10 s on a 256 KB partition`,
  );
}

const CYCLES = 100_000;
const NVS_PAGE_BYTES = 4096;

/** NVS life (years) on a partition of `bytes`: one page kept free, erases spread over the others. */
function nvsYears(entriesPerDay: number, bytes: number): number {
  return ((bytes / NVS_PAGE_BYTES - 1) * CYCLES) / (entriesPerDay / ENTRIES_PER_PAGE) / 365;
}

interface FlashLogRun {
  readings: number;
  bytesPerReading: number;
  /** Bytes programmed per byte of the readings' stored records (write amplification). */
  amplification: number;
  /** Erases per block per day (mean over blocks), measured once the log had wrapped (reclaim running). */
  erasesPerBlockPerDay: number;
  /** Most minus fewest erases of a block at the end (even wear: 0 or 1). */
  spread: number;
  years: number;
  copiedShare: number;
}

/** The firmware on the flash log over a simulated NOR partition of `bytes`, long enough to wrap it 3 times. */
function runFlashLog(scenario: Scenario, board: unknown, bytes: number, messagesStored = false): FlashLogRun {
  const flash = new SimNorFlash(bytes, 4096);
  const log = FlashLogStore.open(flash);
  const store = log;
  const interval = Number(scenario.config.interval_ms);
  // ~60-80 B per reading: five wraps of the partition.
  const ms = Math.ceil((5 * bytes) / 60) * interval;
  let programmedAtStart = 0;
  let wrapped: { at: number; erases: number[] } | undefined;
  let now = 0;
  const result = simulate(scenario, board, store, ms, () => (programmedAtStart = log.stats().programmedBytes), () => {
    now += 1000;
    if (wrapped === undefined && flash.erases.some((n) => n > 0)) wrapped = { at: now, erases: flash.erases.slice() };
  }, messagesStored);
  const stats = log.stats();
  const programmed = stats.programmedBytes - programmedAtStart;
  const days = (now - (wrapped?.at ?? 0)) / 86_400_000;
  let total = 0;
  flash.erases.forEach((n, b) => (total += n - (wrapped?.erases[b] ?? 0)));
  const perDay = total / flash.erases.length / days;
  return {
    readings: result.count,
    bytesPerReading: programmed / result.count,
    amplification: programmed / result.recordBytes,
    erasesPerBlockPerDay: perDay,
    years: CYCLES / perDay / 365,
    spread: Math.max(...flash.erases) - Math.min(...flash.erases),
    copiedShare: stats.copiedBytes / stats.programmedBytes,
  };
}

/** Old store (NVS) and new (flash log) side by side at 1 s and 10 s, defaults otherwise (QoS 1, batch 10). */
async function benchFlashLog(board: unknown): Promise<{ bytesPerReading: number; years1s: number; years10s: number }> {
  const rows: Record<string, string | number>[] = [];
  const out = { bytesPerReading: 0, years1s: 0, years10s: 0 };
  for (const interval of [1000, 10_000]) {
    const scenario: Scenario = { name: `${interval / 1000} s`, config: { interval_ms: String(interval) } };
    const old = run(scenario, board, 2);
    const entriesPerReading = old.prefs.entries / old.readings;
    const entriesPerDay = (entriesPerReading * 86_400_000) / interval;
    const oldRecord = runRecordBytes(scenario, board);
    rows.push({
      store: "NVS, as before (messages stored)",
      interval: scenario.name,
      "B programmed / reading": (entriesPerReading * ENTRY_BYTES).toFixed(1),
      "write amplification": ((entriesPerReading * ENTRY_BYTES) / oldRecord).toFixed(1),
      "erases / sector / day": (entriesPerDay / ENTRIES_PER_PAGE / 5).toFixed(2) + " (24 KB)",
      "years, 64 KB": nvsYears(entriesPerDay, 64 * 1024).toFixed(1),
      "years, 256 KB": nvsYears(entriesPerDay, 256 * 1024).toFixed(1),
      "copied by reclaim": "n/a",
    });
    const small = runFlashLog(scenario, board, 64 * 1024);
    const large = runFlashLog(scenario, board, 256 * 1024);
    rows.push({
      store: "flash log, readings stored once",
      interval: scenario.name,
      "B programmed / reading": large.bytesPerReading.toFixed(1),
      "write amplification": large.amplification.toFixed(1),
      "erases / sector / day": `${large.erasesPerBlockPerDay.toFixed(2)} (256 KB, spread ${large.spread})`,
      "years, 64 KB": small.years.toFixed(1),
      "years, 256 KB": large.years.toFixed(1),
      "copied by reclaim": `${(large.copiedShare * 100).toFixed(1)} %`,
    });
    // The log alone, messages still stored beside their readings: how much each of the two changes gives.
    const stored = runFlashLog(scenario, board, 256 * 1024, true);
    rows.splice(rows.length - 1, 0, {
      store: "flash log, messages stored",
      interval: scenario.name,
      "B programmed / reading": stored.bytesPerReading.toFixed(1),
      "write amplification": stored.amplification.toFixed(1),
      "erases / sector / day": `${stored.erasesPerBlockPerDay.toFixed(2)} (256 KB)`,
      "years, 64 KB": "-",
      "years, 256 KB": stored.years.toFixed(1),
      "copied by reclaim": `${(stored.copiedShare * 100).toFixed(1)} %`,
    });
    if (interval === 10_000) {
      out.bytesPerReading = large.bytesPerReading;
      out.years10s = large.years;
    } else out.years1s = large.years;
  }
  console.log("\nOld store vs flash log, QoS 1, batch 10, every reading passing the deadband; 100,000 erase cycles per sector.");
  console.log("NVS bytes = 32-byte entries written; flash log bytes = every byte programmed (frames, headers, reclaim copies),");
  console.log("erases per block per day averaged over the blocks once the log had wrapped (spread: most minus fewest erases of a");
  console.log("block at the end; wear is even, so the mean gives the life); write amplification = bytes programmed per byte of");
  console.log("the readings' stored records (persist.ts, ~17 B for 3 channels). 'messages stored': each QoS 1 telemetry message kept in");
  console.log("the store beside the readings it was built from, as before; 'readings stored once': the firmware now (the message in");
  console.log("RAM, rebuilt from the records after a reboot).");
  console.table(rows);
  return out;
}

/** Bytes of reading records per reading (the same for both stores: the sampler's format). */
function runRecordBytes(scenario: Scenario, board: unknown): number {
  const flash = new SimNorFlash(256 * 1024, 4096);
  const result = simulate(scenario, board, FlashLogStore.open(flash), 600 * Number(scenario.config.interval_ms) / 10, () => {});
  return result.recordBytes / result.count;
}

/** Boot cost of opening a full 256 KB log: ms on Node (median of 5) and computrons on XS. */
async function benchFlashLogBoot(): Promise<void> {
  const flash = fullLog();
  const times: number[] = [];
  let keys = 0;
  for (let i = 0; i < 5; i++) {
    const copy = flash.reboot();
    const t0 = performance.now();
    keys = FlashLogStore.open(copy).list("").length;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  let xs = "xsnap not available";
  if (xsnapWorkerPath() !== undefined) {
    const runner = await XsRunner.start({ entry: xsEntry("flash-boot-entry"), meteringLimit: 1e12 });
    try {
      await runner.command({ op: "fill" });
      const open = await runner.command<{ keys: number }>({ op: "open" });
      const empty = await runner.command<{ keys: number }>({ op: "open-empty" });
      xs = `${open.meter.compute.toLocaleString("en")} computrons (${open.reply.keys} keys); an erased partition ${empty.meter.compute.toLocaleString("en")}`;
    } finally {
      await runner.close();
    }
  }
  console.log(`\nBoot: opening a full 256 KB log (${keys} live keys, every block written): ${times[2].toFixed(1)} ms on Node (median of 5); ${xs} on XS.`);
  console.log("Bound: the scan reads each block once and checks the CRC of every frame (the head block twice), so boot is linear in the partition size.");
}

