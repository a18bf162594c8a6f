import { describe, expect, it } from "vitest";
import { encode } from "../../src/mqtt/codec";
import { PacketType } from "../../src/mqtt/constants";
import { decodeTelemetry, encodeTelemetry, PayloadError, type TelemetryBatch } from "../../src/sampler/payload";
import { encodeUtf8, decodeUtf8 } from "../../src/mqtt/utf8";
import { makeRig, readings, TOPICS } from "./support/setup";

const CHANNELS = [
  { id: "t", decimals: 2 },
  { id: "h", decimals: 1 },
  { id: "p", decimals: 0 },
];

const EXAMPLE: TelemetryBatch = {
  sensor: "env",
  boot: 3,
  firstSeq: 120,
  wallMs: 1_718_000_005_000,
  channels: CHANNELS,
  readings: [
    { uptimeMs: 5000, values: [21.53, 45.1, 101_325] },
    { uptimeMs: 15_000, values: [21.57, 44.9, 101_313] },
    { uptimeMs: 25_003, values: [21.54, 44.9, 101_320] },
  ],
};

const EXAMPLE_TEXT = '{"v":1,"n":"env","b":3,"s":120,"u":5000,"w":1718000005000,"dt":[10000,10003],"c":{"t":[2,2153,4,-3],"h":[1,451,-2,0],"p":[0,101325,-12,7]}}';

describe("telemetry payload v1", () => {
  it("encodes the documented example byte for byte", () => {
    expect(decodeUtf8(encodeTelemetry(EXAMPLE))).toBe(EXAMPLE_TEXT);
  });

  it("decodes it back to seqs, times and values", () => {
    expect(decodeTelemetry(encodeUtf8(EXAMPLE_TEXT))).toEqual({
      sensor: "env",
      boot: 3,
      readings: [
        { seq: 120, boot: 3, uptimeMs: 5000, wallMs: 1_718_000_005_000, values: { t: 21.53, h: 45.1, p: 101_325 } },
        { seq: 121, boot: 3, uptimeMs: 15_000, wallMs: 1_718_000_015_000, values: { t: 21.57, h: 44.9, p: 101_313 } },
        { seq: 122, boot: 3, uptimeMs: 25_003, wallMs: 1_718_000_025_003, values: { t: 21.54, h: 44.9, p: 101_320 } },
      ],
    });
  });

  it("round-trips values rounded to each channel's decimals, without wall time before sync", () => {
    const { wallMs: _, ...unsynced } = EXAMPLE;
    const batch = { ...unsynced, readings: [{ uptimeMs: 7, values: [-3.14159, 0.04, 99_999.6] }] };
    const decoded = decodeTelemetry(encodeTelemetry(batch));
    expect(decoded.readings).toEqual([{ seq: 120, boot: 3, uptimeMs: 7, values: { t: -3.14, h: 0, p: 100_000 } }]);
  });

  it("rejects malformed payloads with a PayloadError naming the part", () => {
    const bad = (text: string) => () => decodeTelemetry(encodeUtf8(text));
    expect(bad("not json")).toThrow(PayloadError);
    expect(bad('{"v":3}')).toThrow(/"v" must be 1 or 2/);
    expect(bad(EXAMPLE_TEXT.replace('"s":120', '"s":120,"ds":[1,1]'))).toThrow(/only allowed in version 2/);
    expect(bad(EXAMPLE_TEXT.replace('"v":1', '"v":2'))).toThrow(/"ds" must be an array of 2/);
    expect(bad(EXAMPLE_TEXT.replace('"v":1', '"v":2').replace('"s":120', '"s":120,"ds":[1,0]'))).toThrow(/"ds\[1\]" must be at least 1/);
    expect(bad(EXAMPLE_TEXT.replace('"s":120', '"s":-1'))).toThrow(/"s" must not be negative/);
    expect(bad(EXAMPLE_TEXT.replace('"t":[2,2153,4,-3]', '"t":[2,2153,4]'))).toThrow(/"c.t" must be/);
    expect(bad(EXAMPLE_TEXT.replace('"dt":[10000,10003]', '"dt":[10000,1.5]'))).toThrow(/dt\[1\]/);
  });

  it("version 2: readings whose seqs are not consecutive carry the steps in \"ds\"", () => {
    const interleaved = { ...EXAMPLE, readings: EXAMPLE.readings.map((r, k) => ({ ...r, seq: 120 + 2 * k })) };
    const text = decodeUtf8(encodeTelemetry(interleaved));
    expect(text).toBe(EXAMPLE_TEXT.replace('"v":1', '"v":2').replace('"s":120', '"s":120,"ds":[2,2]'));
    expect(decodeTelemetry(encodeUtf8(text)).readings.map((r) => r.seq)).toEqual([120, 122, 124]);
    // Consecutive seqs given explicitly: still version 1, byte for byte.
    const explicit = { ...EXAMPLE, readings: EXAMPLE.readings.map((r, k) => ({ ...r, seq: 120 + k })) };
    expect(decodeUtf8(encodeTelemetry(explicit))).toBe(EXAMPLE_TEXT);
  });

  it("meets the bytes-per-reading goal: batched 3-channel readings cost at most a third of ESPHome's 125 B at QoS 0", () => {
    // A device id as on hardware (MAC, 12 hex digits), the default prefix, default batch_max, a 10 s interval.
    const rig = makeRig({ config: { device_id: "a4cf12b3c4d5", deadband: "0", interval_ms: 10_000, batch_max: 10, batch_window_ms: 600_000 }, wall: 1_718_000_000_000 });
    rig.sampler.start();
    rig.clock.advance(99 * 10_000);
    const batches = rig.publisher.on(TOPICS.telemetry);
    expect(batches).toHaveLength(10);
    const topic = "xsms/a4cf12b3c4d5/telemetry";
    let bytes = 0;
    for (const b of batches) {
      bytes += encode({ type: PacketType.PUBLISH, topic, payload: b.payload, qos: 0, retain: false, dup: false }).length;
    }
    const perReading = bytes / readings(rig).length;
    expect(readings(rig)).toHaveLength(100);
    expect(new Set(readings(rig).map((r) => r.seq)).size).toBe(100);
    expect(readings(rig).every((r) => r.wallMs !== undefined)).toBe(true);
    expect(perReading).toBeLessThanOrEqual(125 / 3);
  });
});
