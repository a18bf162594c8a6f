// What the Moddable platform can tell about itself: free heap (instrumented builds) and a default device id from the Wi-Fi MAC.
import Instrumentation from "instrumentation";
import Net from "net";

const FREE_MEMORY = "System Free Memory";
const XS_SLOTS = "XS Slot Heap Used";
const XS_CHUNKS = "XS Chunk Heap Used";
/** Peak since the runtime's last instrumentation sample (mcsim resets it each second). */
const XS_STACK = "XS Stack Used";

/**
 * Free heap in bytes, or undefined where the build has no instrumentation (release builds, and the
 * desktop, whose instrumentation reports nothing): health telemetry then omits the field.
 */
export function freeHeapBytes(): number | undefined {
  const index = Instrumentation.map(FREE_MEMORY);
  if (index === undefined) return undefined;
  const value = Instrumentation.get(index);
  return typeof value === "number" && value > 0 ? value : undefined;
}

/** Station MAC as 12 lowercase hex digits ("a4d18cdbc020"), or `fallback` where Net has no MAC (the desktop simulator). */
export function defaultDeviceId(fallback: string): string {
  let mac: unknown;
  try {
    mac = Net.get("MAC");
  } catch {
    // Net.get throws on a platform without the property; the fallback is documented, not an error.
    mac = undefined;
  }
  if (typeof mac !== "string" || mac.length === 0) return fallback;
  return mac.toLowerCase().replace(/[^0-9a-f]/g, "");
}

/** Wi-Fi signal of the station link in dBm, or undefined when not connected or not reported. */
export function wifiRssi(): number | undefined {
  try {
    const rssi = Net.get("RSSI");
    return typeof rssi === "number" && rssi !== 0 ? rssi : undefined;
  } catch {
    // Net.get throws where the platform lacks the property (the desktop): no signal to show.
    return undefined;
  }
}

/** XS heaps in use and the stack's recent peak, in bytes, or undefined where the build reports nothing. */
export function xsMemory(): { slotBytes: number; chunkBytes: number; stackPeakBytes: number } | undefined {
  const read = (index: number | undefined) => {
    const value = Instrumentation.get(index);
    return typeof value === "number" ? value : undefined;
  };
  const slotBytes = read(Instrumentation.map(XS_SLOTS));
  const chunkBytes = read(Instrumentation.map(XS_CHUNKS));
  const stackPeakBytes = read(Instrumentation.map(XS_STACK));
  if (slotBytes === undefined || chunkBytes === undefined || stackPeakBytes === undefined || slotBytes === 0) return undefined;
  return { slotBytes, chunkBytes, stackPeakBytes };
}
