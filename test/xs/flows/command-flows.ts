// Hostile commands through the real Firmware (client + Device + sampler + store), engine-neutral: the same cases
// run on Node and inside xsnap and must give the same replies. Every case must get a reply or be dropped with a
// counted error; nothing may escape the receive path, drop the link, or stop the sampler.
import { Firmware } from "../../../src/app/firmware";
import { COMMAND_LIMITS } from "../../../src/sampler/commands";
import { PacketType as P, type QoS } from "../../../src/mqtt/constants";
import type { Packet } from "../../../src/mqtt/packets";
import { topicMatches } from "../../../src/mqtt/topics";
import { decodeUtf8 } from "../../../src/mqtt/utf8";
import { createSimulatedSensor } from "../../../src/sensors/simulated";
import { MemoryStore } from "../../../src/store/memory-store";
import { FakeClock } from "../../support/fake-clock";
import { check, NeutralBroker, QUIET, type NeutralLink } from "./neutral-broker";

export const FUZZ_DEVICE = "fz";
export const COMMAND_PREFIX = `xsms/${FUZZ_DEVICE}/cmd/`;

/** One message from the broker: its topic, payload bytes, flags, and how long the device then runs before the next. */
export interface CommandCase {
  topic: string;
  /** Payload bytes as a latin-1 string (one char per byte), so a case is plain JSON on its way into xsnap. */
  payload: string;
  qos: QoS;
  retain: boolean;
  /** ms the clock moves after the command's turn (lets the rate limit refill). */
  gapMs: number;
}

export interface CommandFuzzResult {
  /** Per case: "reply <json>", or "dropped" (counted). */
  outcomes: string[];
  counters: { ok: number; err: number; drop: number };
  outcome: string;
}

export function bytesOf(latin1: string): Uint8Array {
  const out = new Uint8Array(latin1.length);
  for (let i = 0; i < latin1.length; i++) out[i] = latin1.charCodeAt(i) & 0xff;
  return out;
}

function answer(link: NeutralLink, replies: string[]): void {
  for (const packet of link.drain() as Packet[]) {
    if (packet.type === P.CONNECT) link.send({ type: P.CONNACK, sessionPresent: false, returnCode: 0 });
    else if (packet.type === P.SUBSCRIBE) link.send({ type: P.SUBACK, packetId: packet.packetId, granted: packet.subscriptions.map((s) => s.qos) });
    else if (packet.type === P.PUBLISH) {
      if (packet.topic === `xsms/${FUZZ_DEVICE}/reply`) {
        check(packet.qos === 0, `reply at QoS ${packet.qos}, expected 0`);
        check(packet.payload.length <= COMMAND_LIMITS.maxReplyBytes, `reply of ${packet.payload.length} bytes`);
        replies.push(decodeUtf8(packet.payload));
      }
      if (packet.qos === 1) link.send({ type: P.PUBACK, packetId: packet.packetId as number });
      else if (packet.qos === 2) link.send({ type: P.PUBREC, packetId: packet.packetId as number });
    } else if (packet.type === P.PUBREL) link.send({ type: P.PUBCOMP, packetId: packet.packetId });
    else if (packet.type === P.PUBREC) link.send({ type: P.PUBREL, packetId: packet.packetId }); // our QoS 2 command
    else if (packet.type === P.PINGREQ) link.send({ type: P.PINGRESP });
  }
}

/** Boots the firmware on a scripted broker and feeds it `cases`; checks the invariants after each. */
export function runCommandFuzz(boardFile: unknown, cases: CommandCase[]): CommandFuzzResult {
  // The board's deadbands would hide readings; "0" reports every sample, so "still sampling" is visible as telemetry.
  const board = JSON.parse(JSON.stringify(boardFile), (key, value: unknown) => (key === "deadband" ? undefined : value)) as unknown;
  const outcomes: string[] = [];
  const clock = new FakeClock(0);
  const broker = new NeutralBroker(QUIET);
  const firmware = new Firmware(
    // A 64 KB packet limit here (4 KB on a board) so the huge and deeply nested payloads reach the command parser.
    { config: { device_id: FUZZ_DEVICE, interval_ms: "10000", deadband: "0", batch_max: "1", batch_window_ms: "0", health_s: "0", mqtt_max_packet: "65536" }, board, boardFile: "boards/lin.json" },
    {
      clock,
      store: new MemoryStore(new Map()),
      wallClock: () => 1_718_000_000_000 + clock.now(),
      defaultDeviceId: "unused",
      createSensor: (spec, _board, cfg) => createSimulatedSensor(spec.driver, cfg.sim_seed, spec.id),
      transport: broker.transport,
      random: () => 0.5,
    },
  );
  const counters = firmware.device.commands.counters;
  let outcome = "PASSED";
  try {
    firmware.start();
    const link = broker.link;
    link.open();
    const replies: string[] = [];
    answer(link, replies);
    answer(link, replies);
    check(firmware.client.state === "connected", "connected before the first case");
    let packetId = 1;
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i];
      const before = counters.ok + counters.err + counters.drop;
      const readsBefore = firmware.device.sampler.stats().sensors.env.reads;
      const receivedBefore = firmware.client.counters.received;
      replies.length = 0;
      const publish: Packet = { type: P.PUBLISH, topic: c.topic, payload: bytesOf(c.payload), qos: c.qos, retain: c.retain, dup: false };
      if (c.qos > 0) publish.packetId = packetId++;
      if (packetId > 65535) packetId = 1;
      try {
        link.send(publish);
      } catch (error) {
        throw new Error(`case ${i}: the receive path threw ${(error as Error).message}`);
      }
      clock.advance(0); // the command's own turn
      answer(link, replies);
      check(!link.closed && firmware.client.state === "connected", `case ${i}: the link was dropped (${firmware.client.state})`);
      check(firmware.client.counters.protocolErrors === 0, `case ${i}: protocol error`);
      const after = counters.ok + counters.err + counters.drop;
      if (topicMatches(firmware.device.topics.commandFilter, c.topic)) {
        check(after === before + 1, `case ${i}: counters moved by ${after - before}, expected exactly 1`);
      } else {
        // Not under cmd/+ (a broker still holding an old cmd/# subscription could send it): the client drops it.
        check(after === before && replies.length === 0, `case ${i}: a message outside cmd/+ reached the commands`);
        check(firmware.client.counters.received === receivedBefore + 1, `case ${i}: not counted as received`);
      }
      check(replies.length <= 1, `case ${i}: ${replies.length} replies`);
      if (replies.length === 1) {
        const reply = JSON.parse(replies[0]) as { cmd?: unknown; ok?: unknown };
        check(typeof reply.cmd === "string" && typeof reply.ok === "boolean", `case ${i}: reply without cmd/ok: ${replies[0]}`);
        outcomes.push(`reply ${replies[0]}`);
      } else {
        outcomes.push("dropped");
      }
      // The broker answers every 5 s of the gap (acks, PINGRESP), as a live one would.
      for (let t = 0; t < c.gapMs; t += 5000) {
        clock.advance(Math.min(5000, c.gapMs - t));
        answer(link, replies);
      }
      if (c.gapMs >= (firmware.device.sampler.interval("env") as number) + 1000) {
        check(firmware.device.sampler.stats().sensors.env.reads > readsBefore, `case ${i}: the sampler stopped reading`);
      }
    }
    // After everything: a valid command still works (5 minutes on, so the budgets have room), and readings go on.
    for (let t = 0; t < 300_000; t += 5000) {
      clock.advance(5000);
      answer(link, replies);
    }
    replies.length = 0;
    link.send({ type: P.PUBLISH, topic: `${COMMAND_PREFIX}interval`, payload: bytesOf('{"ms":1000,"id":"final"}'), qos: 1, retain: false, dup: false, packetId: packetId });
    clock.advance(0);
    answer(link, replies);
    check(replies.length === 1 && replies[0].indexOf('"ok":true') !== -1, `the final valid command got ${JSON.stringify(replies)}`);
    const seqBefore = firmware.device.sampler.stats().nextSeq;
    for (let t = 0; t < 10_000; t += 1000) {
      clock.advance(1000);
      answer(link, replies);
    }
    check(firmware.device.sampler.stats().nextSeq >= seqBefore + 9, "readings go on after the cases");
    check(firmware.client.counters.dropped === 0, `${firmware.client.counters.dropped} queued messages were evicted`);
  } catch (error) {
    outcome = `FAILED: ${(error as Error).message}`;
  }
  return { outcomes, counters: { ok: counters.ok, err: counters.err, drop: counters.drop }, outcome };
}

/** Fixed cases every run includes: the attacks, each by name. */
export function namedCommandCases(): Array<[string, CommandCase]> {
  const c = (topic: string, payload: string, extra: Partial<CommandCase> = {}): CommandCase => ({ topic: COMMAND_PREFIX + topic, payload, qos: 1, retain: false, gapMs: 31_000, ...extra });
  return [
    ["10,000 levels of [", "read", "[".repeat(10_000) + "]".repeat(10_000)],
    ["10,000 levels of {\"a\":", "health", '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000)],
    ["60 KB of JSON string", "interval", JSON.stringify({ ms: 1000, id: "x".repeat(60_000) })],
    ["20 KB id", "read", JSON.stringify({ id: "i".repeat(20_000) })],
    ["300-char id", "health", JSON.stringify({ id: "i".repeat(300) })],
    ["5,000-character command name", "n".repeat(5000), "{}"],
    ["30 KB value", "deadband", JSON.stringify({ value: "9".repeat(30_000) })],
    ["long field name", "heartbeat", JSON.stringify({ ["f".repeat(400)]: 1, s: 5 })],
    ["invalid UTF-8", "interval", "\xff\xfe\xfd"],
    ["wrong types", "interval", '{"ms":"fast","sensor":7}'],
    ["array payload", "read", "[1,2,3]"],
    ["null payload", "read", "null"],
    ["number id", "health", '{"id":1e308}'],
    ["nested id", "health", '{"id":{"a":1}}'],
    ["unknown command", "reboot", "{}"],
    ["topic deeper than cmd/<name>", "read/now", "{}"],
    ["empty command name", "", "{}"],
    ["retained command", "read", '{"id":"retained-cmd"}', ],
    ["valid interval", "interval", '{"ms":2000,"id":7}'],
    ["valid deadband", "deadband", '{"value":"1%","channel":"t"}'],
    ["valid heartbeat", "heartbeat", '{"s":60}'],
    ["valid read", "read", '{"sensor":"env"}'],
    ["valid health", "health", "{}"],
    ["QoS 2 command", "health", "{}"],
  ].map(([label, topic, payload]) => {
    const extra: Partial<CommandCase> = label === "retained command" ? { retain: true } : label === "QoS 2 command" ? { qos: 2 } : {};
    // Valid commands come 5 minutes apart, so the flash-write budget has room for each.
    if (label.startsWith("valid") || label === "QoS 2 command") extra.gapMs = 300_000;
    return [label, c(topic, payload, extra)] as [string, CommandCase];
  });
}
