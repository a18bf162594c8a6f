// XS entry that meters one publish and its acknowledgement, and nothing else: the link keeps a reference to the
// bytes written and reads the packet id from them; the broker's replies are prebuilt byte arrays. So the meter
// counts our client's work only, as a measurement of the SDK's own client counts its work only.
import { MqttClient } from "../../../src/mqtt/client";
import type { QoS } from "../../../src/mqtt/constants";
import { encodeUtf8 } from "../../../src/mqtt/utf8";
import { MemoryStore } from "../../../src/store/memory-store";
import type { SessionStore } from "../../../src/store/session-store";
import type { Transport, TransportHandlers } from "../../../src/ports";
import { FakeClock } from "../../support/fake-clock";
import { serveCommands } from "./xs-host";

declare const gc: undefined | (() => void);

/** A store that keeps nothing: the cost of the client without the durable commit. */
class ForgetfulStore implements SessionStore {
  get(): Uint8Array | undefined { return undefined; }
  list(): string[] { return []; }
  put(): void {}
  delete(): void {}
  commit(): void {}
}

/** Remembers the last write; answers nothing by itself. */
class BareLink implements Transport {
  last: Uint8Array | undefined;
  writes = 0;
  constructor(readonly handlers: TransportHandlers) {}
  write(bytes: Uint8Array): number {
    this.last = bytes;
    this.writes++;
    return bytes.length;
  }
  close(): void {}
}

const TOPIC = "xsms/dev-1/telemetry/env/temp"; // 29 characters, as in the comparison
const PAYLOAD = new Uint8Array(64).fill(0x41);

/** Packet id of a PUBLISH at QoS > 0 or of PUBREC, read from the wire bytes. */
function packetIdOf(bytes: Uint8Array): number {
  let i = 1;
  while (bytes[i] & 0x80) i++;
  i++; // past the remaining length
  if ((bytes[0] & 0xf0) === 0x30) i += 2 + ((bytes[i] << 8) | bytes[i + 1]); // past the topic
  return (bytes[i] << 8) | bytes[i + 1];
}

interface Loop {
  run(count: number): number;
}

function makeLoop(qos: QoS, store: "memory" | "none"): Loop {
  const clock = new FakeClock(1000);
  let link: BareLink | undefined;
  let delivered = 0;
  const client = new MqttClient(
    { clientId: "dev-1", keepAliveSeconds: 60 },
    {
      transport: (handlers) => (link = new BareLink(handlers)),
      clock,
      store: store === "memory" ? new MemoryStore(new Map()) : new ForgetfulStore(),
      random: () => 0.5,
    },
    { onDelivered: () => { delivered++; } },
  );
  client.start();
  clock.advance(0);
  const l = link as unknown as BareLink;
  l.handlers.onConnect();
  l.handlers.onData(Uint8Array.of(0x20, 0x02, 0x00, 0x00)); // CONNACK, accepted
  clock.advance(0);
  const ack = Uint8Array.of(0x40, 0x02, 0, 0); // PUBACK; first byte changed for the QoS 2 steps
  return {
    run(count: number): number {
      for (let n = 0; n < count; n++) {
        client.publish(TOPIC, PAYLOAD, { qos });
        if (qos === 0) continue;
        const id = packetIdOf(l.last as Uint8Array);
        ack[2] = id >> 8;
        ack[3] = id & 0xff;
        if (qos === 1) {
          ack[0] = 0x40;
          l.handlers.onData(ack);
        } else {
          ack[0] = 0x50; // PUBREC
          l.handlers.onData(ack);
          ack[0] = 0x70; // PUBCOMP
          l.handlers.onData(ack);
        }
      }
      clock.advance(0); // deferred callbacks (onDelivered) run here, as they would on the next turn
      return delivered;
    },
  };
}

type MeterCommand =
  | { op: "start"; qos: QoS; store: "memory" | "none" }
  | { op: "run"; count: number; gc?: boolean }
  | { op: "offline-start"; qos: QoS }
  | { op: "offline-run"; count: number };

/** Publishing while offline: every message is queued and stored; returns the queue depth. */
function makeOfflineLoop(qos: QoS): Loop {
  const clock = new FakeClock(1000);
  const client = new MqttClient(
    { clientId: "dev-1", keepAliveSeconds: 60, queueMaxMessages: 100_000, queueMaxBytes: 64 * 1024 * 1024 },
    { transport: (handlers) => new BareLink(handlers), clock, store: new MemoryStore(new Map()), random: () => 0.5 },
    {},
  );
  client.start(); // the link never opens
  return {
    run(count: number): number {
      for (let n = 0; n < count; n++) client.publish(TOPIC, PAYLOAD, { qos });
      return client.queueStats().depth;
    },
  };
}
let loop: Loop | undefined;

serveCommands((command) => {
  const c = command as MeterCommand;
  if (c.op === "start") {
    loop = makeLoop(c.qos, c.store);
    return 0;
  }
  if (c.op === "offline-start") {
    loop = makeOfflineLoop(c.qos);
    return 0;
  }
  if (c.op === "offline-run") {
    if (!loop) throw new Error("offline-start first");
    return loop.run(c.count);
  }
  if (c.op === "run") {
    if (!loop) throw new Error("start first");
    const delivered = loop.run(c.count);
    if (c.gc && typeof gc === "function") gc();
    return delivered;
  }
  throw new Error(`unknown command ${JSON.stringify(command)}`);
});
