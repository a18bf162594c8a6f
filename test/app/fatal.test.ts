// A firmware that cannot start reports why on the status topic and tries again on a schedule (issue 10 #10).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FATAL_RETRY_MS, FatalMode, fatalStatus, salvageConfig } from "../../src/app/fatal";
import { Firmware } from "../../src/app/firmware";
import { ConfigErrors, parseConfig } from "../../src/config/parse";
import { PacketType as P } from "../../src/mqtt/constants";
import type { PublishPacket } from "../../src/mqtt/packets";
import { decodeUtf8 } from "../../src/mqtt/utf8";
import { createSimulatedSensor } from "../../src/sensors/simulated";
import { MemoryStore } from "../../src/store/memory-store";
import { FakeClock } from "../support/fake-clock";
import { ScriptedBroker } from "../support/scripted-broker";

const board = JSON.parse(readFileSync(join(__dirname, "..", "..", "boards", "lin.json"), "utf8")) as unknown;

describe("salvageConfig", () => {
  it("keeps every valid key and defaults the bad ones, so the configured broker is still reached", () => {
    const raw = { mqtt_host: "broker.lan", mqtt_port: "1884", interval_ms: "5", mqtt_hots: "x", device_id: "d7", mqtt_user: "u", mqtt_password: "p" };
    expect(() => parseConfig(raw)).toThrow(ConfigErrors);
    const config = salvageConfig(raw);
    expect(config).toMatchObject({ mqtt_host: "broker.lan", mqtt_port: 1884, interval_ms: 10_000, device_id: "d7", mqtt_user: "u", mqtt_password: "p" });
  });
});

describe("FatalMode", () => {
  it("publishes what is wrong (retained, on the health topic; status offline) once the network is up, retries every 10 min, and hands over when a retry starts the firmware", () => {
    const clock = new FakeClock();
    const broker = new ScriptedBroker();
    const raw = { device_id: "d7", interval_ms: "5", health_s: "0" };
    let error: unknown;
    try {
      parseConfig(raw);
    } catch (e) {
      error = e;
    }
    let attempts = 0;
    let firmware: Firmware | undefined;
    const fixed = { ...raw, interval_ms: "1000" }; // e.g. a store or board that was fixed meanwhile; here the config
    const fatal = new FatalMode({ clock, transport: broker.transport, random: () => 0.5 }, salvageConfig(raw), "d7", error, () => {
      attempts++;
      if (attempts < 3) throw new Error(`still broken (${attempts})`);
      firmware = new Firmware(
        { config: fixed, board, boardFile: "boards/lin.json" },
        { clock, store: new MemoryStore(), defaultDeviceId: "d7", createSensor: (spec, _b, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id), transport: broker.transport, random: () => 0.5 },
      );
      firmware.start();
      return true;
    });
    const statuses: string[] = [];
    const opened = new Set<unknown>();
    const serve = () => {
      for (let more = true; more; ) {
        more = false;
        for (const link of broker.links) {
          if (link.closed) continue;
          if (!opened.has(link)) {
            opened.add(link);
            link.open();
          }
          for (const packet of link.drain()) {
            more = true;
          if (packet.type === P.CONNECT) link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
          if (packet.type === P.PUBLISH) {
            const p = packet as PublishPacket;
            if (p.topic === "xsms/d7/status" || p.topic === "xsms/d7/health") statuses.push(`${p.retain ? "retained " : ""}${decodeUtf8(p.payload)}`);
            if (p.qos === 1) link.send({ type: P.PUBACK, packetId: p.packetId as number });
          }
          if (packet.type === P.SUBSCRIBE) link.send({ type: P.SUBACK, packetId: packet.packetId, granted: packet.subscriptions.map((s) => s.qos) });
          if (packet.type === P.DISCONNECT) link.cut();
          if (packet.type === P.PINGREQ) link.send({ type: P.PINGRESP });
          }
        }
      }
    };
    /** Runs the clock `ms` in 1 s steps, the broker answering as it goes. */
    const run = (ms: number) => {
      for (let t = 0; t < ms; t += 1000) {
        clock.advance(Math.min(1000, ms - t));
        serve();
      }
    };
    expect(broker.attempts).toBe(0); // nothing before the network is up
    fatal.networkUp();
    serve();
    expect(statuses).toEqual(["retained offline", `retained ${fatalStatus(error, FATAL_RETRY_MS)}`]);
    expect(JSON.parse(statuses[1].slice(9))).toEqual({ fatal: expect.stringMatching(/^ConfigErrors: 1 bad config key:\n  config "interval_ms"/), retry_s: 600 });
    run(FATAL_RETRY_MS - 1000);
    expect(attempts).toBe(0);
    run(1000);
    expect(attempts).toBe(1);
    expect(statuses[2]).toBe(`retained ${fatalStatus(new Error("still broken (1)"), FATAL_RETRY_MS)}`);
    run(2 * FATAL_RETRY_MS);
    expect(attempts).toBe(3);
    expect(fatal.recovered).toBe(true);
    // The firmware's own client connects and says online; the report's client ended.
    run(5000);
    expect(statuses[statuses.length - 1]).toBe("retained online");
    expect(firmware?.client.state).toBe("connected");
    run(2 * FATAL_RETRY_MS);
    expect(attempts).toBe(3); // no more retries
  });
});
