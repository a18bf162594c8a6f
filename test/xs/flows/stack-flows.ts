// The firmware's deepest turns, each prepared apart from the turn itself, so the XS stack guard (stack.xs.test.ts)
// can run one turn at the bottom of a padded stack and tell how many XS stack slots it needs. Engine-neutral: the
// same flows run on Node (to check that each does what it says) and inside xsnap (to measure).
//
// A turn is what the device runs from one callback out of C: a timer (FakeClock.advance here), a socket receive
// (NeutralLink.send), or the entry's boot code. FakeClock's and NeutralLink's own frames are counted too, so the
// figure errs high by a frame or two. Not here: the Moddable adapters below the core (socket, TLS, Preference).
import { Firmware, type FirmwarePlatform } from "../../../src/app/firmware";
import { PacketType as P } from "../../../src/mqtt/constants";
import type { Packet } from "../../../src/mqtt/packets";
import { encodeUtf8 } from "../../../src/mqtt/utf8";
import { createSimulatedSensor } from "../../../src/sensors/simulated";
import { decodeItem, encodeJournal, JournaledStore, openVerifiedOrReset, type StoreBackend } from "../../../src/store/journaled-store";
import type { SessionStore } from "../../../src/store/session-store";
import { MemoryBackend } from "../../store/fakes";
import { FakeClock } from "../../support/fake-clock";
import { encode, PacketDecoder } from "../../../src/mqtt/codec";
import type { Transport, TransportHandlers } from "../../../src/ports";
import { check } from "./neutral-broker";

/**
 * A broker link whose write() only keeps the bytes, as a socket would: decoding them there (as NeutralLink does)
 * would put the test broker's parser on the measured stack. They are decoded when the script reads them.
 */
class LazyLink implements Transport {
  private readonly bytes: Uint8Array[] = [];
  private readonly decoded: Packet[] = [];
  private readonly decoder = new PacketDecoder({ maxPacketSize: 1 << 20 });
  closed = false;
  constructor(private readonly handlers: TransportHandlers) {}
  write(bytes: Uint8Array): number {
    this.bytes.push(bytes.slice());
    return bytes.length;
  }
  close(): void {
    this.closed = true;
  }
  open(): void {
    this.handlers.onConnect();
  }
  /** The peer closes the connection (the broker or the network went away). */
  drop(): void {
    this.handlers.onClose(new Error("connection reset"));
  }
  send(packet: Packet): void {
    this.handlers.onData(encode(packet));
  }
  /** Everything written since the last drain, decoded. */
  get written(): Packet[] {
    for (const chunk of this.bytes.splice(0)) this.decoder.push(chunk, (packet) => this.decoded.push(packet));
    return this.decoded;
  }
  drain(): Packet[] {
    return this.written.splice(0);
  }
}

class NeutralBroker {
  readonly links: LazyLink[] = [];
  readonly transport = (handlers: TransportHandlers): Transport => {
    const link = new LazyLink(handlers);
    this.links.push(link);
    return link;
  };
  get link(): LazyLink {
    return this.links[this.links.length - 1];
  }
}
type NeutralLink = LazyLink;

export interface StackFlow {
  name: string;
  /** Sets everything up (not measured) and returns the turn, which returns what it did (checked by the tests). */
  prepare(board: unknown): () => string;
}

const DEVICE = "st";
const CMD = `xsms/${DEVICE}/cmd/`;

interface Rig {
  firmware: Firmware;
  clock: FakeClock;
  broker: NeutralBroker;
}

function noDeadbands(board: unknown): unknown {
  return JSON.parse(JSON.stringify(board), (key, value: unknown) => (key === "deadband" ? undefined : value)) as unknown;
}

function firmware(
  board: unknown,
  store: SessionStore,
  config: Record<string, string> = {},
  clock = new FakeClock(0),
  broker = new NeutralBroker(),
  platform: Pick<FirmwarePlatform, "telemetryFromRecords"> = {},
): Rig {
  const fw = new Firmware(
    {
      config: { device_id: DEVICE, interval_ms: "1000", deadband: "0", batch_max: "1", batch_window_ms: "0", health_s: "0", presync_max: "0", ...config },
      board: noDeadbands(board),
      boardFile: "boards/lin.json",
    },
    {
      clock,
      store,
      wallClock: () => 1_718_000_000_000 + clock.now(),
      defaultDeviceId: "unused",
      createSensor: (spec, _board, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
      transport: broker.transport,
      random: () => 0.5,
      ...platform,
    },
  );
  return { firmware: fw, clock, broker };
}

/** What a broker answers; `ack` false leaves QoS 1 messages in flight. */
function serve(link: NeutralLink, ack = true): Packet[] {
  const seen = link.drain() as Packet[];
  for (const packet of seen) {
    if (packet.type === P.CONNECT) link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
    else if (packet.type === P.SUBSCRIBE) link.send({ type: P.SUBACK, packetId: packet.packetId, granted: packet.subscriptions.map((s) => s.qos) });
    else if (packet.type === P.PINGREQ) link.send({ type: P.PINGRESP });
    else if (packet.type === P.PUBLISH && packet.qos === 1 && ack) link.send({ type: P.PUBACK, packetId: packet.packetId as number });
  }
  return seen;
}

/** Connected, subscribed, birth acknowledged. */
function online(board: unknown, config: Record<string, string> = {}): Rig {
  const rig = firmware(board, JournaledStore.open(new MemoryBackend()), config);
  rig.firmware.start();
  rig.broker.link.open();
  serve(rig.broker.link);
  serve(rig.broker.link);
  run(rig, 1); // the boot read (due at 0 ms) and its publish happen here, not in the measured turn
  check(rig.firmware.client.state === "connected", "online");
  return rig;
}

/** Moves the clock in 1 s steps, the broker answering after each. */
function run(rig: Rig, ms: number): void {
  for (let t = 0; t < ms; t += 1000) {
    rig.clock.advance(Math.min(1000, ms - t));
    serve(rig.broker.link);
  }
}

function publish(link: NeutralLink, name: string, payload: string | Uint8Array, packetId = 7): void {
  link.send({ type: P.PUBLISH, topic: CMD + name, payload: typeof payload === "string" ? encodeUtf8(payload) : payload, qos: 1, retain: false, dup: false, packetId });
}

/** A backend that holds `messages` queued telemetry messages, written by a firmware that never got online. */
function backendWithQueue(board: unknown, messages: number, config: Record<string, string> = {}): MemoryBackend {
  const backend = new MemoryBackend();
  const rig = firmware(board, JournaledStore.open(backend), { queue_max: String(messages), ...config });
  rig.firmware.device.start(); // sampling, no client: every reading is queued
  rig.clock.advance(messages * 1000);
  check(rig.firmware.client.queueStats().depth >= messages - 1, `queue filled (${rig.firmware.client.queueStats().depth})`);
  return backend;
}

/**
 * Makes `backend` hold a commit journal that was written but not applied (a power cut after the commit point): the
 * next open redoes it. The journal rewrites the 20 oldest stored items with their own values, as a real one would.
 */
function leaveJournal(backend: MemoryBackend): void {
  const ops: Array<[string, Uint8Array]> = [];
  for (const name of backend.names().sort().slice(0, 20)) ops.push([name, decodeItem(name, backend.read(name) as Uint8Array)]);
  backend.writeJournal(encodeJournal(ops));
  check(backend.readJournal() !== undefined && ops.length === 20, "a journal is left for recovery");
}

function boot(board: unknown, backend: StoreBackend, config: Record<string, string>): string {
  let reset = "";
  const store = openVerifiedOrReset(backend, (error) => {
    reset = ` (store reset: ${error.name})`;
  });
  const rig = firmware(board, store, config);
  rig.firmware.start();
  rig.clock.advance(0); // the first reading and the first connection attempt
  return `booted with ${rig.firmware.client.queueStats().depth} queued${reset}`;
}

const COMMAND_CASES: Array<[string, string, string]> = [
  ["interval valid", "interval", '{"ms":2000,"sensor":"env","id":"abc"}'],
  ["interval invalid", "interval", '{"ms":"fast","sensor":7}'],
  ["deadband valid", "deadband", '{"value":"1%","channel":"t","id":1}'],
  ["deadband invalid", "deadband", '{"value":"-2%"}'],
  ["heartbeat valid", "heartbeat", '{"s":60}'],
  ["heartbeat invalid", "heartbeat", '{"s":60,"extra":[1]}'],
  ["read valid", "read", '{"id":1}'],
  ["read all sensors", "read", "{}"],
  ["read invalid", "read", '{"sensor":"nope"}'],
  ["health valid", "health", '{"id":6}'],
  ["health invalid", "health", "[1]"],
  ["unknown command", "reboot", "{}"],
  ["not JSON", "read", "{nope"],
  ["not UTF-8", "read", "\xff\xfe"],
  ["nested past the limit", "read", "[[[[[[[[1]]]]]]]]"],
  ["oversized payload", "read", JSON.stringify({ id: "x".repeat(600) })],
];

export const STACK_FLOWS: StackFlow[] = [
  {
    name: "boot: full queue (500) and a store that needs recovery",
    prepare(board) {
      const backend = backendWithQueue(board, 500);
      leaveJournal(backend);
      return () => boot(board, backend, { queue_max: "500" });
    },
  },
  {
    name: "boot: corrupt store (reset and start empty)",
    prepare(board) {
      const backend = backendWithQueue(board, 20);
      const name = backend.names().find((n) => n.indexOf("mq") === 0) ?? backend.names()[0];
      const item = backend.items.get(name) as Uint8Array;
      item[item.length - 1] ^= 0xff;
      return () => boot(board, backend, {});
    },
  },
  {
    // The in-flight window comes back from the store after a reboot: stored messages, as QoS 2 and telemetry with
    // telemetryFromRecords off keep them (by default QoS 1 telemetry is kept in RAM and a reboot rebuilds it from
    // the reading records as new messages; the next flow resends a window held in RAM).
    name: "connect and resend a full in-flight window (8) of stored messages, after a reboot",
    prepare(board) {
      const backend = new MemoryBackend();
      const stored = { telemetryFromRecords: false };
      const first = firmware(board, JournaledStore.open(backend), {}, new FakeClock(0), new NeutralBroker(), stored);
      first.firmware.start();
      first.broker.link.open();
      serve(first.broker.link);
      serve(first.broker.link);
      first.clock.advance(12_000); // 12 readings, none acknowledged: 8 in flight, 4 queued
      serve(first.broker.link, false);
      const rig = firmware(board, JournaledStore.open(backend), {}, new FakeClock(0), new NeutralBroker(), stored);
      rig.firmware.start();
      rig.broker.link.open();
      rig.broker.link.drain();
      return () => {
        rig.broker.link.send({ type: P.CONNACK, sessionPresent: true, returnCode: 0 });
        const resent = rig.broker.link.written.filter((p) => p.type === P.PUBLISH && p.dup).length;
        return `resent ${resent}`;
      };
    },
  },
  {
    name: "connect and resend a full in-flight window (8) held in RAM (telemetry from records), after the link dropped",
    prepare(board) {
      const rig = firmware(board, JournaledStore.open(new MemoryBackend()));
      rig.firmware.start();
      rig.broker.link.open();
      serve(rig.broker.link);
      serve(rig.broker.link);
      rig.clock.advance(12_000); // 12 readings, none acknowledged: 8 in flight, 4 queued
      serve(rig.broker.link, false);
      rig.broker.link.drop();
      const links = rig.broker.links.length;
      for (let ms = 0; rig.broker.links.length === links && ms < 120_000; ms += 100) rig.clock.advance(100); // the reconnect
      check(rig.broker.links.length === links + 1, "reconnected");
      rig.broker.link.open();
      rig.broker.link.drain();
      return () => {
        rig.broker.link.send({ type: P.CONNACK, sessionPresent: true, returnCode: 0 });
        const resent = rig.broker.link.written.filter((p) => p.type === P.PUBLISH && p.dup).length;
        return `resent ${resent}`;
      };
    },
  },
  {
    name: "batch flush at batch_max (10)",
    prepare(board) {
      const rig = online(board, { batch_max: "10", batch_window_ms: "600000" });
      run(rig, 8000); // readings at 0..8 s: 9 pending
      return () => {
        rig.clock.advance(1000);
        const batches = rig.broker.link.written.filter((p) => p.type === P.PUBLISH && p.topic.endsWith("/telemetry")).length;
        return `${batches} batch`;
      };
    },
  },
  {
    name: "health report (timer)",
    prepare(board) {
      const rig = online(board, { health_s: "60", interval_ms: "600000" });
      run(rig, 59_000);
      return () => {
        rig.clock.advance(1000);
        return `${rig.broker.link.written.filter((p) => p.type === P.PUBLISH && p.topic.endsWith("/health")).length} health`;
      };
    },
  },
  {
    name: "connect with Home Assistant discovery on",
    prepare(board) {
      const rig = firmware(board, JournaledStore.open(new MemoryBackend()), { ha_discovery: "true" });
      rig.firmware.start();
      rig.broker.link.open();
      rig.broker.link.drain();
      return () => {
        rig.broker.link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
        return `${rig.broker.link.written.filter((p) => p.type === P.PUBLISH && p.topic.indexOf("homeassistant/") === 0).length} discovery`;
      };
    },
  },
  {
    name: "command received (the receive turn: parse, PUBACK, queue the command)",
    prepare(board) {
      const rig = online(board);
      return () => {
        publish(rig.broker.link, "read", '{"id":1}');
        return `${rig.firmware.device.commands.counters.ok} run on the receive turn`;
      };
    },
  },
  {
    name: `command received: a ${4096 - 64}-byte payload (mqtt_max_packet)`,
    prepare(board) {
      const rig = online(board);
      return () => {
        publish(rig.broker.link, "read", "[".repeat(4096 - 64));
        return `${rig.firmware.client.state}`;
      };
    },
  },
  ...COMMAND_CASES.map(([label, name, payload]): StackFlow => ({
    name: `command run: ${label}`,
    prepare(board) {
      const rig = online(board, { queue_max: "500" });
      publish(rig.broker.link, name, payload.indexOf("\xff") === -1 ? payload : Uint8Array.from(payload, (c) => c.charCodeAt(0)));
      serve(rig.broker.link);
      return () => {
        rig.clock.advance(0);
        const reply = rig.broker.link.written.find((p) => p.type === P.PUBLISH && p.topic.endsWith("/reply"));
        if (!reply || reply.type !== P.PUBLISH) return "no reply";
        let head = ""; // a loop, not fromCharCode(...bytes): a spread puts every byte on the stack
        for (let i = 0; i < Math.min(40, reply.payload.length); i++) head += String.fromCharCode(reply.payload[i]);
        return head;
      };
    },
  })),
];
