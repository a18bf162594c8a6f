// What the firmware writes to ESP32 flash (NVS, through Moddable's Preference) per reading: the real Firmware, sampler,
// client and journaled store over the real PreferenceBackend, with a Preference that counts what would reach NVS.
import { readFileSync } from "node:fs";
import { Firmware } from "../src/app/firmware";
import { PacketType as P } from "../src/mqtt/constants";
import type { Packet } from "../src/mqtt/packets";
import { createSimulatedSensor } from "../src/sensors/simulated";
import { JournaledStore } from "../src/store/journaled-store";
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
  const clock = new FakeClock();
  const prefs = new CountingPreference(new FakePreference());
  const broker = new NeutralBroker([]);
  const firmware = new Firmware(
    { config: { device_id: "a4cf12b3c4d5", health_s: "0", mqtt_qos: "1", ...scenario.config }, board, boardFile: "boards/lin.json" },
    {
      clock,
      store: JournaledStore.open(new PreferenceBackend(prefs, "mqtt")),
      wallClock: () => 1_700_000_000_000 + clock.now(),
      defaultDeviceId: "unused",
      createSensor: (spec, _board, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
      transport: broker.transport,
      random: () => 0.5,
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
  const before = { sets: prefs.sets, deletes: prefs.deletes, entries: prefs.entries, bytes: prefs.bytes };
  const seqBefore = firmware.device.sampler.stats().nextSeq;
  let packetId = 1;
  for (let t = 0; t < hours * 3600; t++) {
    for (const [name, payload] of scenario.attack?.(t) ?? []) {
      broker.link.send({ type: P.PUBLISH, topic: `xsms/a4cf12b3c4d5/cmd/${name}`, payload: new TextEncoder().encode(payload), qos: 1, retain: false, dup: false, packetId });
      packetId = (packetId % 65_535) + 1;
    }
    clock.advance(1000);
    serve();
  }
  const readings = firmware.device.sampler.stats().nextSeq - seqBefore;
  commandsRun = firmware.device.commands.counters.ok;
  prefs.sets -= before.sets;
  prefs.deletes -= before.deletes;
  prefs.entries -= before.entries;
  prefs.bytes -= before.bytes;
  return { readings, prefs };
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
}
