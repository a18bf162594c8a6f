// Footprint of the device core: esbuild-minified ES module bytes (and gzip) per part and for the whole, with no Node built-ins.
// Each part is bundled from a small entry that re-exports its modules, so tree shaking keeps every export a device could use.
import { build, type Metafile } from "esbuild";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import path from "node:path";

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** The parts of the core, as the Moddable manifest names them. */
const PARTS: ReadonlyArray<{ name: string; modules: readonly string[] }> = [
  { name: "codec (mqtt/codec and its imports)", modules: ["src/mqtt/codec"] },
  { name: "client (shell + session + codec + topics)", modules: ["src/mqtt/client", "src/mqtt/session"] },
  { name: "stores (journaled, preference backend, memory)", modules: ["src/store/journaled-store", "src/store/preference-backend", "src/store/memory-store"] },
  {
    name: "sampler (sampler, payload, deadband, commands, discovery, health)",
    modules: ["src/sampler/sampler", "src/sampler/payload", "src/config/deadband", "src/sampler/commands", "src/sampler/discovery", "src/sampler/health", "src/config/device-topics"],
  },
  { name: "config (parse, defaults, client options)", modules: ["src/config/parse", "src/config/defaults", "src/config/client-options"] },
];

export interface FootprintRow {
  part: string;
  minifiedBytes: number;
  gzipBytes: number;
  inputs: number;
}

async function bundle(name: string, modules: readonly string[]): Promise<FootprintRow> {
  const contents = modules.map((m, i) => `export * as m${i} from "./${m}";`).join("\n");
  const result = await build({
    stdin: { contents, resolveDir: ROOT, loader: "ts", sourcefile: `footprint-entry-${name}.ts` },
    bundle: true,
    minify: true,
    format: "esm",
    // "neutral": a node: import has nothing to resolve to and fails the build, which is the check we want.
    platform: "neutral",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const code = result.outputFiles[0].contents;
  const inputs = Object.keys((result.metafile as Metafile).inputs);
  const nodeOnly = inputs.filter((input) => input.includes("platform/node") || input.startsWith("node:") || input.includes("node_modules"));
  if (nodeOnly.length > 0) throw new Error(`device core part "${name}" pulls in ${nodeOnly.join(", ")}`);
  return { part: name, minifiedBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length, inputs: inputs.length - 1 };
}

/** Bundles each part and the whole core, prints a table and returns the rows. */
export async function benchFootprint(): Promise<FootprintRow[]> {
  const rows: FootprintRow[] = [];
  for (const part of PARTS) rows.push(await bundle(part.name, part.modules));
  const everything = PARTS.flatMap((p) => p.modules);
  rows.push(await bundle("device core (all of the above)", everything));
  rows.push(await bundle("device core + app/device composition", [...everything, "src/app/device"]));
  console.log("esbuild --bundle --minify --format=esm --platform=neutral --target=es2022; gzip -9");
  console.log(`${"part".padEnd(66)}${"modules".padStart(8)}${"min B".padStart(9)}${"gzip B".padStart(9)}`);
  for (const r of rows) console.log(`${r.part.padEnd(66)}${String(r.inputs).padStart(8)}${String(r.minifiedBytes).padStart(9)}${String(r.gzipBytes).padStart(9)}`);
  return rows;
}
