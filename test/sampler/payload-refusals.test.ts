// The telemetry decoder's and encoder's refusals with their exact messages (the mutation run of src/sampler found the
// message checks missing: a decoder that let these through, or said something else, passed every test).
import { describe, expect, it } from "vitest";
import { PayloadError, decodeTelemetry, encodeTelemetry } from "../../src/sampler/payload";
import { thrown } from "../support/thrown";

const json = (value: unknown) => Uint8Array.from(JSON.stringify(value), (c) => c.charCodeAt(0));
const good = { v: 1, n: "env", b: 3, s: 120, u: 5000, dt: [10], c: { t: [1, 215, 2] } };

function refusal(payload: Uint8Array): string {
  const caught = thrown(PayloadError, () => decodeTelemetry(payload));
  expect(caught.name).toBe("PayloadError");
  return caught.message;
}

describe("decodeTelemetry refusals", () => {
  it("reads the good payload these are made from", () => {
    const batch = decodeTelemetry(json(good));
    expect(batch.readings.map((r) => [r.seq, r.uptimeMs, r.values.t])).toEqual([
      [120, 5000, 21.5],
      [121, 5010, 21.7],
    ]);
  });

  it("refuses what is not a JSON object", () => {
    for (const value of [null, [good], 5, "x", true]) {
      expect(refusal(json(value))).toBe("telemetry payload: expected a JSON object");
    }
    expect(refusal(Uint8Array.of(0x7b))).toMatch(/^telemetry payload: not UTF-8 JSON \(.+\)$/);
  });

  it("names each bad field", () => {
    expect(refusal(json({ ...good, n: 5 }))).toBe('telemetry payload: "n" (sensor id) must be a string');
    expect(refusal(json({ ...good, dt: 5 }))).toBe('telemetry payload: "dt" must be an array');
    for (const c of [null, [], 5]) expect(refusal(json({ ...good, c }))).toBe('telemetry payload: "c" must be an object of channel arrays');
    expect(refusal(json({ ...good, c: { t: [1, 215] } }))).toBe('telemetry payload: "c.t" must be [decimals, 2 values]');
    for (const decimals of [-1, 7, 1.5, "1"]) {
      expect(refusal(json({ ...good, c: { t: [decimals, 215, 2] } }))).toBe('telemetry payload: "c.t[0]" (decimals) must be an integer from 0 to 6');
    }
    expect(decodeTelemetry(json({ ...good, c: { t: [6, 1, 2] } })).readings[1].values.t).toBe(0.000003);
    expect(decodeTelemetry(json({ ...good, c: { t: [0, 1, 2] } })).readings[1].values.t).toBe(3);
    expect(refusal(json({ ...good, c: { t: [1, 215, 2.5] } }))).toBe('telemetry payload: "c.t[2]" must be an integer');
    expect(refusal(json({ ...good, c: { t: [1, "215", 2] } }))).toBe('telemetry payload: "c.t[1]" must be an integer');
    expect(refusal(json({ ...good, v: 2 }))).toBe('telemetry payload: "ds" must be an array of 1 seq steps (version 2)');
    expect(refusal(json({ ...good, v: 2, ds: [1, 1] }))).toBe('telemetry payload: "ds" must be an array of 1 seq steps (version 2)');
    // Each whole-number field is named in its refusal.
    expect(refusal(json({ ...good, b: -1 }))).toBe('telemetry payload: "b" must not be negative (times are monotonic)');
    expect(refusal(json({ ...good, u: 1.5 }))).toBe('telemetry payload: "u" must be an integer, got 1.5');
    expect(refusal(json({ ...good, w: "x" }))).toBe('telemetry payload: "w" must be an integer, got "x"');
    expect(refusal(json({ ...good, v: 2, ds: [0.5] }))).toBe('telemetry payload: "ds[0]" must be an integer, got 0.5');
  });

  it("version 1 numbers its readings consecutively from s, no further", () => {
    const batch = decodeTelemetry(json({ ...good, dt: [10, 10], c: { t: [1, 215, 2, 3] } }));
    expect(batch.readings.map((r) => r.seq)).toEqual([120, 121, 122]);
  });
});

describe("encodeTelemetry refusals", () => {
  const channels = [{ id: "t", decimals: 1 }];
  it("refuses an empty batch and seqs that do not increase", () => {
    expect(() => encodeTelemetry({ sensor: "env", boot: 1, firstSeq: 5, channels, readings: [] })).toThrow(
      new PayloadError("a batch needs at least one reading"),
    );
    const readings = [
      { uptimeMs: 0, values: [1] },
      { seq: 5, uptimeMs: 10, values: [2] },
    ];
    expect(() => encodeTelemetry({ sensor: "env", boot: 1, firstSeq: 5, channels, readings })).toThrow(
      new PayloadError("reading 1 has seq 5, not after 5"),
    );
    const later = [
      { uptimeMs: 0, values: [1] },
      { seq: 6, uptimeMs: 10, values: [2] },
    ];
    expect(() => encodeTelemetry({ sensor: "env", boot: 1, firstSeq: 5, channels, readings: later })).not.toThrow();
  });
});
