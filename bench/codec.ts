// Codec benchmark: our encoder/decoder against mqtt-packet in the same run, plus XS computrons per encode+decode.
import * as mqtt from "mqtt-packet";
import { PacketDecoder, encode, encodeInto } from "../src/mqtt/codec";
import type { PublishPacket } from "../src/mqtt/packets";
import { benchPublish } from "../test/vectors/run-vectors";
import { XsRunner, findXsnapWorker, xsEntry } from "../test/xs/harness";
import { concat } from "../test/support/bytes";

const MEASURE_MS = 150;
const ROUNDS = 7;

/** Packets/second of one timed window; `batch` runs the work and returns how many packets it handled. */
function window(batch: () => number): number {
  let packets = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MEASURE_MS) {
    packets += batch();
    elapsed = performance.now() - start;
  }
  return (packets * 1000) / elapsed;
}

/**
 * Best rate of each side over interleaved windows (ours, theirs, ours, ...), so that a noisy machine slows
 * both sides alike instead of skewing the ratio.
 */
function compare(ours: () => number, theirs: () => number): [number, number] {
  ours();
  theirs();
  let bestOurs = 0;
  let bestTheirs = 0;
  for (let round = 0; round < ROUNDS; round++) {
    bestOurs = Math.max(bestOurs, window(ours));
    bestTheirs = Math.max(bestTheirs, window(theirs));
  }
  return [bestOurs, bestTheirs];
}

export interface CodecBenchRow {
  case: string;
  ours: number;
  mqttPacket: number;
}

export interface CodecBenchResult {
  rows: CodecBenchRow[];
  xsComputrons: XsComputrons | undefined;
}

/** Measures, prints a table, and returns the numbers. */
export async function benchCodec(): Promise<CodecBenchResult> {
  const packet = benchPublish() as PublishPacket;
  const theirPacket: mqtt.IPublishPacket = {
    cmd: "publish", topic: packet.topic, payload: Buffer.from(packet.payload), qos: 1, dup: false, retain: false, messageId: packet.packetId,
  };
  const bytes = encode(packet);
  if (Buffer.from(bytes).compare(mqtt.generate(theirPacket)) !== 0) throw new Error("benchmark packets differ between the codecs");

  const BATCH = 1000;
  let sink = 0;
  const generate = () => {
    for (let i = 0; i < BATCH; i++) sink += mqtt.generate(theirPacket).length;
    return BATCH;
  };
  const [encodeOurs, encodeTheirs] = compare(() => {
    for (let i = 0; i < BATCH; i++) sink += encode(packet).length;
    return BATCH;
  }, generate);
  const sendBuffer = new Uint8Array(1024);
  const [encodeIntoOurs, encodeIntoTheirs] = compare(() => {
    for (let i = 0; i < BATCH; i++) sink += encodeInto(packet, sendBuffer, 0);
    return BATCH;
  }, generate);

  const STREAM = 2000;
  const stream = concat(Array.from({ length: STREAM }, () => bytes));
  const streamBuffer = Buffer.from(stream);
  const decoder = new PacketDecoder();
  const count = () => { sink++; };
  const parser = mqtt.parser({ protocolVersion: 4 });
  parser.on("packet", count);
  const [decodeOurs, decodeTheirs] = compare(
    () => {
      decoder.push(stream, count);
      return STREAM;
    },
    () => {
      parser.parse(streamBuffer);
      return STREAM;
    },
  );

  // One byte per push: the chunks are cut in advance so neither side pays for slicing.
  const SMALL = 50;
  const small = stream.subarray(0, SMALL * bytes.length);
  const ourBytes = Array.from(small, (_, i) => small.subarray(i, i + 1));
  const theirBytes = ourBytes.map((b) => Buffer.from(b));
  const [bytewiseOurs, bytewiseTheirs] = compare(
    () => {
      for (const b of ourBytes) decoder.push(b, count);
      return SMALL;
    },
    () => {
      for (const b of theirBytes) parser.parse(b);
      return SMALL;
    },
  );
  if (sink === 0) throw new Error("nothing measured");

  const rows: CodecBenchRow[] = [
    { case: `encode() to a new array, ${bytes.length}-byte QoS 1 PUBLISH`, ours: encodeOurs, mqttPacket: encodeTheirs },
    { case: "encodeInto() a reused send buffer", ours: encodeIntoOurs, mqttPacket: encodeIntoTheirs },
    { case: "decode, one large chunk", ours: decodeOurs, mqttPacket: decodeTheirs },
    { case: "decode, 1-byte chunks", ours: bytewiseOurs, mqttPacket: bytewiseTheirs },
  ];

  const computrons = await xsComputrons();
  printTable(rows, computrons);
  return { rows, xsComputrons: computrons };
}

export interface XsComputrons {
  encode: number;
  decode: number;
  both: number;
}

/** Computrons per operation: a loop of N minus a loop of 0 (setup cost), divided by N. Deterministic. */
async function xsComputrons(): Promise<XsComputrons | undefined> {
  if (findXsnapWorker() === undefined) return undefined;
  const xs = await XsRunner.start({ entry: xsEntry("codec-entry") });
  try {
    const N = 1000;
    const per = async (part: keyof XsComputrons) => {
      const base = await xs.command({ op: "loop", iterations: 0, part });
      const loop = await xs.command({ op: "loop", iterations: N, part });
      return (loop.meter.compute - base.meter.compute) / N;
    };
    return { encode: await per("encode"), decode: await per("decode"), both: await per("both") };
  } finally {
    await xs.close();
  }
}

function printTable(rows: CodecBenchRow[], computrons: XsComputrons | undefined): void {
  const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : `${(n / 1e3).toFixed(1)} k/s`);
  const lines = [
    "| case | ours | mqtt-packet | ratio |",
    "|---|---:|---:|---:|",
    ...rows.map((r) => `| ${r.case} | ${fmt(r.ours)} | ${fmt(r.mqttPacket)} | ${(r.ours / r.mqttPacket).toFixed(1)}x |`),
  ];
  console.log(`\nCodec (Node ${process.version}, best of ${ROUNDS} interleaved ${MEASURE_MS} ms windows; mqtt-packet column is generate() / parser.parse())\n`);
  console.log(lines.join("\n"));
  console.log(
    computrons === undefined
      ? "\nXS: xsnap-worker not built; computron count skipped."
      : `\nXS (xsnap meter, deterministic), same PUBLISH: ${computrons.both} computrons per encode+decode ` +
        `(encode ${computrons.encode}, decode ${computrons.decode}).`,
  );
}
