// The rest of the Moddable system probes (src/platform/moddable/system.ts) against the `net` and `instrumentation`
// fakes (typings/net.d.ts: Net.get("RSSI") is a number, 0 when not associated; typings/instrumentation.d.ts and
// documentation/base/base.md: map(name) an index or undefined, get(index) the value, in bytes for the XS heaps and
// the stack's peak of the current interval). Free heap and the device id are in sensors-system.test.ts.
import { beforeEach, describe, expect, it } from "vitest";
import { wifiRssi, xsMemory } from "../../src/platform/moddable/system";
import { resetSdk, sdk } from "./fakes/sdk";

function instrument(values: Record<string, number | undefined>): void {
  let index = 10;
  for (const [name, value] of Object.entries(values)) sdk().instrumentation.set(name, { index: index++, value });
}

describe("Moddable system probes: Wi-Fi signal and XS memory", () => {
  beforeEach(() => {
    resetSdk();
  });

  it("RSSI in dBm while associated; undefined when Net reports 0 or nothing, or throws (the desktop)", () => {
    sdk().net.RSSI = -67;
    expect(wifiRssi()).toBe(-67);
    sdk().net.RSSI = 0;
    expect(wifiRssi()).toBeUndefined();
    sdk().net.RSSI = undefined;
    expect(wifiRssi()).toBeUndefined();
    sdk().net.RSSI = "-50";
    expect(wifiRssi()).toBeUndefined();
    sdk().net.RSSI = -40;
    sdk().netThrows.add("RSSI");
    expect(wifiRssi()).toBeUndefined();
  });

  it("XS slot and chunk heaps and the stack peak, each read from its own instrument", () => {
    instrument({ "XS Slot Heap Used": 40_000, "XS Chunk Heap Used": 25_000, "XS Stack Used": 3_072 });
    expect(xsMemory()).toEqual({ slotBytes: 40_000, chunkBytes: 25_000, stackPeakBytes: 3_072 });
  });

  it("nothing where the build reports nothing: no instruments, one missing, or an empty slot heap (the desktop)", () => {
    expect(xsMemory()).toBeUndefined();
    instrument({ "XS Slot Heap Used": 40_000, "XS Chunk Heap Used": 25_000 });
    expect(xsMemory()).toBeUndefined();
    resetSdk();
    instrument({ "XS Slot Heap Used": 40_000, "XS Stack Used": 3_072 });
    expect(xsMemory()).toBeUndefined();
    resetSdk();
    instrument({ "XS Chunk Heap Used": 25_000, "XS Stack Used": 3_072 });
    expect(xsMemory()).toBeUndefined();
    resetSdk();
    instrument({ "XS Slot Heap Used": 0, "XS Chunk Heap Used": 25_000, "XS Stack Used": 3_072 });
    expect(xsMemory()).toBeUndefined();
    // A stack that peaked at 0 in this interval is a figure, not a missing one.
    resetSdk();
    instrument({ "XS Slot Heap Used": 40_000, "XS Chunk Heap Used": 25_000, "XS Stack Used": 0 });
    expect(xsMemory()).toEqual({ slotBytes: 40_000, chunkBytes: 25_000, stackPeakBytes: 0 });
  });
});
