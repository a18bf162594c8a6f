// The composed firmware against the attacks of issue 10 #3 and #10: an oversized retained command the persistent session
// brings back at every reconnect, links that die right after CONNACK, and refusals an operator fixes an hour later.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Firmware } from "../../src/app/firmware";
import { encode } from "../../src/mqtt/codec";
import { PacketType as P } from "../../src/mqtt/constants";
import type { PublishPacket } from "../../src/mqtt/packets";
import { readStoredMessages } from "../../src/mqtt/session-records";
import { decodeUtf8 } from "../../src/mqtt/utf8";
import { createSimulatedSensor } from "../../src/sensors/simulated";
import { MemoryStore } from "../../src/store/memory-store";
import { FakeClock } from "../support/fake-clock";
import { ScriptedBroker, type ScriptedLink } from "../support/scripted-broker";

const BOARD_FILE = "boards/lin.json";
const board = JSON.parse(readFileSync(join(__dirname, "..", "..", BOARD_FILE), "utf8")) as unknown;

function boot(config: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const broker = new ScriptedBroker();
  const store = new MemoryStore();
  const errors: Error[] = [];
  const firmware = new Firmware(
    { config: { device_id: "d1", health_s: "0", interval_ms: "10000", batch_max: "1", batch_window_ms: "0", presync_max: "0", mqtt_qos: "1", ...config }, board, boardFile: BOARD_FILE },
    {
      clock,
      store,
      defaultDeviceId: "unused",
      createSensor: (spec, _board, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
      transport: broker.transport,
      random: () => 0.5,
    },
    { onError: (error) => errors.push(error) },
  );
  firmware.start();
  return { firmware, clock, broker, store, errors };
}

/** Samples taken by every sensor (the board's deadbands decide how many became readings). */
function readings(firmware: Firmware): number {
  const sensors = firmware.device.sampler.stats().sensors;
  return Object.keys(sensors).reduce((sum, id) => sum + sensors[id].reads, 0) / Object.keys(sensors).length;
}

/** 70 KB retained QoS 1 on the command topic: what `mosquitto_pub -r -q 1 -t xsms/<id>/cmd/read -f <70 KB file>` leaves in the session. */
const POISON: PublishPacket = { type: P.PUBLISH, topic: "xsms/d1/cmd/read", payload: new Uint8Array(70_000).fill(0x7b), qos: 1, retain: true, dup: false, packetId: 1 };

/**
 * The broker's side of issue 10 #3: after each CONNACK it (re)sends the poison message, as a persistent session does
 * until the message is acknowledged; it acknowledges everything the device publishes except while `dropAfterConnack`.
 */
function serve(link: ScriptedLink, state: { poisonAcked: boolean; statusPublishes: number; published?: PublishPacket[] }): void {
  for (const packet of link.drain()) {
    if (packet.type === P.CONNECT) {
      link.send({ type: P.CONNACK, sessionPresent: true, returnCode: 0 });
      if (!state.poisonAcked) link.sendBytes(encode({ ...POISON, dup: true }));
    } else if (packet.type === P.PINGREQ) {
      link.send({ type: P.PINGRESP });
    } else if (packet.type === P.SUBSCRIBE) {
      link.send({ type: P.SUBACK, packetId: packet.packetId, granted: packet.subscriptions.map((s) => s.qos) });
    } else if (packet.type === P.PUBACK && packet.packetId === POISON.packetId) {
      state.poisonAcked = true;
    } else if (packet.type === P.PUBLISH) {
      state.published?.push(packet);
      if (packet.topic.endsWith("/status") && decodeUtf8(packet.payload) === "online") state.statusPublishes++;
      if (packet.qos === 1) link.send({ type: P.PUBACK, packetId: packet.packetId as number });
    }
  }
}

describe("firmware against a hostile broker", () => {
  it("an oversized retained command no longer cuts the device off: acknowledged on the first connection, then telemetry flows", () => {
    const { firmware, clock, broker, errors } = boot();
    const state = { poisonAcked: false, statusPublishes: 0 };
    for (let t = 0; t < 90; t++) {
      const link = broker.link;
      if (!link.closed) {
        if (link.written.length === 0 && broker.attempts > 0 && firmware.client.state === "connecting") link.open();
        serve(link, state);
      }
      clock.advance(1000);
    }
    serve(broker.link, state); // acknowledge the last reading
    expect(state.poisonAcked).toBe(true);
    expect(broker.attempts).toBe(1); // 90 s: no reconnect at all (the issue saw 188)
    expect(firmware.client.counters.oversized).toBe(1);
    expect(firmware.client.counters.reconnects).toBe(0);
    expect(errors.filter((e) => /exceeds the maximum packet size/.test(e.message))).toHaveLength(1);
    expect(firmware.client.queueStats().depth).toBe(0); // 9 readings delivered, nothing piling up
    expect(readings(firmware)).toBe(10); // at 0, 10, ... 90 s
  });

  it("links that die right after CONNACK: the backoff keeps growing and at most one birth message is ever queued", () => {
    const { firmware, clock, broker, store } = boot({ interval_ms: "3600000" });
    const births = () => readStoredMessages(store).filter((m) => m.topic === "xsms/d1/status").length;
    for (let t = 0; t < 600; t++) {
      const link = broker.link;
      if (!link.closed && firmware.client.state === "connecting") {
        link.open();
        link.drain();
        link.send({ type: P.CONNACK, sessionPresent: true, returnCode: 0 });
        link.drain(); // the birth went out but is never acknowledged
        link.cut(); // and the link dies at once
      }
      expect(births()).toBeLessThanOrEqual(1);
      clock.advance(1000);
    }
    // 10 min at jitter 0.5: 0.5 s, 1 s, 2 s ... then 30 s (half the 60 s cap): 25 attempts, not the ~1,200 of a backoff
    // reset at every CONNACK (one attempt every 0.5 s).
    expect(broker.attempts).toBe(25);
    expect(births()).toBe(1);
  });

  it("refused with code 5 for an hour, then accepted: sampling never stopped, health says why meanwhile, every reading arrives", () => {
    const { firmware, clock, broker } = boot({ interval_ms: "60000", queue_max: "200" });
    const good = { poisonAcked: true, statusPublishes: 0, published: [] as PublishPacket[] };
    let refused = 0;
    for (let t = 0; t < 75 * 60; t++) {
      const link = broker.link;
      if (!link.closed && firmware.client.state === "connecting" && link.written.length === 0) {
        link.open();
        if (t < 3600) {
          link.drain();
          link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 5 });
          refused++;
        }
      }
      if (t === 1800) {
        expect(firmware.client.problem()).toMatchObject({ permanent: true, message: expect.stringMatching(/return code 5.*ACL/) });
        firmware.device.publishHealth();
      }
      if (!link.closed && t >= 3600) serve(link, good);
      clock.advance(1000);
    }
    expect(refused).toBeGreaterThanOrEqual(8);
    expect(refused).toBeLessThanOrEqual(24); // every 2.5..7.5 min: never a tight loop
    expect(firmware.client.state).toBe("connected");
    expect(firmware.client.queueStats().depth).toBe(0);
    const health = good.published
      .filter((p) => p.topic === "xsms/d1/health")
      .map((p) => JSON.parse(decodeUtf8(p.payload)) as { why?: string });
    expect(health[0]?.why).toMatch(/^connection refused: broker says this client is not authorized \(return code 5\)/);
    expect(readings(firmware)).toBe(76); // one a minute, from 0 to 75 min
    expect(good.published.filter((p) => p.topic === "xsms/d1/telemetry").length).toBe(firmware.device.sampler.stats().nextSeq);
  });
});
