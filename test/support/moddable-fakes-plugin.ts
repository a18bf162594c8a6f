// Vite plugin for the vitest configs: inside src/platform/moddable and src/main.ts, the Moddable SDK's bare module
// names resolve to the fakes in test/moddable/fakes, and main.ts's manifest-style specifiers ("app/firmware",
// "config/parse", "platform/moddable/board") to src/, as mcconfig's manifest maps them ("platform/moddable/partition"
// to the esp32 one). Nothing else is touched:
// "net" or "timer" imported from anywhere else still mean what they mean to Node.
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const FAKES = join(ROOT, "test/moddable/fakes");
const SDK_MODULES: Record<string, string> = {
  socket: "socket.ts", securesocket: "securesocket.ts", timer: "timer.ts", time: "time.ts", preference: "preference.ts",
  wifi: "wifi.ts", net: "net.ts", sntp: "sntp.ts", Resource: "Resource.ts", modules: "modules.ts",
  instrumentation: "instrumentation.ts", "mc/config": "mc-config.ts", crypt: "crypt.ts", flash: "flash.ts", http: "http.ts", file: "file.ts",
};
/**
 * Modules manifest.json maps per platform. The esp32 partition is used here, over the `flash` fake (a NOR flash that
 * refuses to set bits by programming), rather than the lin one over a fake `file`: it is the board's code path.
 */
const PER_PLATFORM: Record<string, string> = {
  "platform/moddable/partition": "src/platform/moddable/esp32/partition.ts",
};
const MANIFEST_PREFIXES = ["app/", "config/", "platform/", "mqtt/", "store/", "sampler/", "boards/", "sensors/", "tls/", "web/"];

function isFirmwareSide(importer: string | undefined): boolean {
  if (importer === undefined) return false;
  const file = resolve(importer.split("?")[0]);
  return file.startsWith(join(ROOT, "src", "platform", "moddable") + sep) || file === join(ROOT, "src", "main.ts");
}

/** The fake's path for an SDK module name imported from the firmware side, else undefined (the XS bundles use it too). */
export function sdkFakeFor(source: string, importer: string | undefined): string | undefined {
  if (!isFirmwareSide(importer)) return undefined;
  const fake = SDK_MODULES[source];
  return fake === undefined ? undefined : join(FAKES, fake);
}

export function moddableFakes(): Plugin {
  return {
    name: "moddable-sdk-fakes",
    enforce: "pre",
    resolveId(source, importer) {
      if (!isFirmwareSide(importer)) return null;
      const fake = SDK_MODULES[source];
      if (fake !== undefined) return join(FAKES, fake);
      const mapped = PER_PLATFORM[source];
      if (mapped !== undefined) return join(ROOT, mapped);
      if (MANIFEST_PREFIXES.some((prefix) => source.startsWith(prefix))) return join(ROOT, "src", `${source}.ts`);
      return null;
    },
    // "net" is also a Node built-in, which the module runner externalizes before any resolveId hook sees it: the
    // firmware side's SDK imports are rewritten to the fakes' paths before that.
    transform(code, id) {
      if (!isFirmwareSide(id)) return null;
      return code.replace(/(\bfrom\s*|\bimport\s*)(["'])([^"']+)\2/g, (whole, lead: string, quote: string, source: string) => {
        const fake = SDK_MODULES[source];
        return fake === undefined ? whole : `${lead}${quote}${join(FAKES, fake)}${quote}`;
      });
    },
  };
}
