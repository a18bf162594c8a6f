// Guards the work per publish on the real XS engine: computrons are deterministic, so a change that makes publishing
// dearer fails here instead of slipping by. The ceilings sit about 5% above the figures measured when they were set
// (bench: `npm run bench -- xs-client`); lower them when the client gets cheaper, and raise them only with a reason.
import { describe, expect, it } from "vitest";
import { xsnapWorkerPath } from "./harness";
import { offlinePublishCost, publishCost } from "./publish-cost";

const binary = xsnapWorkerPath();

/**
 * Ceilings in computrons, about 5% above the figures of 2026-11-30 (QoS 0 1,795, QoS 1 5,740, QoS 2 8,933, offline
 * 2,074). QoS 1's is the goal of issue 15 itself (6,000 with the durable commit); QoS 0's goal was 2,200.
 */
const CEILING = { qos0: 1_900, qos1: 6_000, qos2: 9_400, offline: 2_200 };

describe.skipIf(binary === undefined)("XS engine (xsnap): work per publish", () => {
  it("a QoS 0 publish on a live link stays within 1,900 computrons (the goal: 2,200, 3x the SDK's QoS 0-only client)", async () => {
    const { computrons } = await publishCost(0, "memory");
    expect(computrons).toBeGreaterThan(100); // the meter ran
    expect(computrons).toBeLessThanOrEqual(CEILING.qos0);
  }, 60_000);

  it("QoS 1 (the goal: 6,000) and QoS 2 publish with their acknowledgements, committed to the store, stay within their ceilings", async () => {
    expect((await publishCost(1, "memory")).computrons).toBeLessThanOrEqual(CEILING.qos1);
    expect((await publishCost(2, "memory")).computrons).toBeLessThanOrEqual(CEILING.qos2);
  }, 60_000);

  it("the work of a publish does not grow with the queue: the same at 40 and at 2,060 messages queued", async () => {
    const cost = await offlinePublishCost(1);
    expect(cost.depths).toEqual([40, 2060]);
    expect(cost.deep).toBeLessThanOrEqual(cost.shallow * 1.02);
    expect(cost.shallow).toBeLessThanOrEqual(CEILING.offline);
  }, 60_000);

  it("steady publishing leaks nothing: live slots after a full gc do not grow over 3,000 QoS 0 publishes", async () => {
    const { liveSlots } = await publishCost(0, "memory");
    expect(liveSlots[2]).toBeLessThanOrEqual(liveSlots[0]);
  }, 60_000);
});
