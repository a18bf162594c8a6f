// Packet id allocation and reconnect backoff at their limits (the mutation run of src/mqtt found the allocator's
// restored cursor unchecked at 65535, its "all in use" refusal never run, and the backoff's exponent cap untested).
import { describe, expect, it } from "vitest";
import { Backoff } from "../src/mqtt/backoff";
import { MAX_PACKET_ID, PacketIdAllocator } from "../src/mqtt/packet-ids";

const none = { has: () => false };
const noReserved = () => false;

describe("PacketIdAllocator", () => {
  it("resumes from a restored cursor in 1..65535 and starts at 1 from anything else", () => {
    for (const cursor of [1, 2, 40000, MAX_PACKET_ID]) expect(new PacketIdAllocator(cursor).allocate(none, noReserved)).toBe(cursor);
    for (const cursor of [0, -1, MAX_PACKET_ID + 1, 1e9]) expect(new PacketIdAllocator(cursor).cursor).toBe(1);
  });

  it("wraps from 65535 to 1 and skips ids taken or reserved", () => {
    const ids = new PacketIdAllocator(MAX_PACKET_ID - 1);
    expect(ids.allocate(none, noReserved)).toBe(MAX_PACKET_ID - 1);
    expect(ids.allocate(new Set([MAX_PACKET_ID]), (id) => id === 1)).toBe(2);
    expect(ids.cursor).toBe(3);
    ids.reset();
    expect(ids.cursor).toBe(1);
  });

  it("refuses when all 65535 are in use, and leaves the cursor where it was", () => {
    const ids = new PacketIdAllocator(500);
    const everyId = { has: (id: number) => id >= 1 && id <= MAX_PACKET_ID };
    expect(() => ids.allocate(everyId, noReserved)).toThrow(new RangeError("all 65535 packet ids are in use"));
    expect(ids.cursor).toBe(500);
    // The last free id is found however far round it is.
    expect(ids.allocate({ has: (id) => id !== 499 }, noReserved)).toBe(499);
    expect(ids.cursor).toBe(500);
  });
});

describe("Backoff", () => {
  it("doubles from base to cap with full jitter, and reset() starts again from base", () => {
    const backoff = new Backoff(100, 1000, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.next())).toEqual([99, 199, 399, 799, 999, 999]);
    backoff.reset();
    expect(backoff.next()).toBe(99);
    expect(new Backoff(100, 1000, () => 0).next()).toBe(0);
  });

  it("stops doubling after 2^30 times base, under a cap higher still", () => {
    const backoff = new Backoff(1, 2 ** 40, () => 0.5);
    const delays = Array.from({ length: 40 }, () => backoff.next());
    expect(delays[30]).toBe(2 ** 29);
    expect(delays[39]).toBe(2 ** 29);
  });

  it("slow() waits between half the cap and the cap", () => {
    expect(new Backoff(100, 60_000, () => 0).slow()).toBe(30_000);
    expect(new Backoff(100, 60_000, () => 0.999999).slow()).toBe(59_999);
  });
});
