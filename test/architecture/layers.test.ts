// The import graph of src/, checked: the portable core never reaches into src/platform, every import points down a
// declared layer order, the two platforms do not know each other, and no file imports itself through a cycle.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/**
 * Lowest first. A file may import from its own layer or any layer below it, never from one above. "." holds the
 * files at the root of src/ that everything builds on (errors.ts, ports.ts); main.ts is the Moddable entry and sits
 * with the platforms at the top.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["."],
  ["tls"],
  ["store"],
  ["mqtt"],
  ["config"],
  ["sensors"],
  ["boards"],
  ["sampler"],
  ["app"],
  ["web"],
  ["platform", "main.ts"],
];

/** The layer of a file (path relative to src/, "/" separated). */
function layerOf(file: string): number {
  const top = file.includes("/") ? file.slice(0, file.indexOf("/")) : file === "main.ts" ? "main.ts" : ".";
  const index = LAYERS.findIndex((layer) => layer.includes(top));
  if (index === -1) throw new Error(`src/${file}: its folder "${top}" has no place in LAYERS; add it where it belongs`);
  return index;
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listTs(full));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(full);
  }
  return out;
}

const SPECIFIER = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"|(?:^|\n)\s*import\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g;

/** Every module specifier a file imports or re-exports (type-only imports too: they are dependencies of the design). */
export function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(SPECIFIER)) out.push(match[1] ?? match[2] ?? match[3]);
  return out;
}

/**
 * The src/ file a specifier names, or undefined for a package or an SDK module. Relative specifiers resolve from the
 * importing file; bare ones that start with a src/ folder or root file ("app/firmware", "errors") are the manifest's
 * module names (manifest.json maps "app/*" to "./src/app/*"), as main.ts uses them.
 */
function resolve(fromFile: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  const candidates = specifier.startsWith(".")
    ? [path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), specifier))]
    : [specifier];
  for (const base of candidates) {
    for (const file of [`${base}.ts`, `${base}/index.ts`, base]) if (files.has(file)) return file;
  }
  if (specifier.startsWith(".")) throw new Error(`src/${fromFile}: "${specifier}" names no file in src/`);
  return undefined;
}

interface Graph {
  files: string[];
  edges: Map<string, string[]>;
  external: Map<string, string[]>;
}

function buildGraph(): Graph {
  const files = listTs(SRC).map((f) => path.relative(SRC, f).split(path.sep).join("/")).sort();
  const set = new Set(files);
  const edges = new Map<string, string[]>();
  const external = new Map<string, string[]>();
  for (const file of files) {
    const inner: string[] = [];
    const outer: string[] = [];
    for (const specifier of specifiers(readFileSync(path.join(SRC, file), "utf8"))) {
      const target = resolve(file, specifier, set);
      if (target === undefined) outer.push(specifier);
      else inner.push(target);
    }
    edges.set(file, inner);
    external.set(file, outer);
  }
  return { files, edges, external };
}

const isCore = (file: string) => !file.startsWith("platform/") && file !== "main.ts";

describe("import graph of src/", () => {
  const graph = buildGraph();

  it("sees the whole tree (a parser that found nothing would pass everything)", () => {
    expect(graph.files.length).toBeGreaterThan(40);
    let count = 0;
    for (const targets of graph.edges.values()) count += targets.length;
    expect(count).toBeGreaterThan(100);
    expect(graph.edges.get("app/firmware.ts")).toContain("mqtt/client.ts");
    expect(graph.edges.get("main.ts")).toContain("app/firmware.ts");
  });

  it("the core never imports src/platform or main.ts", () => {
    const bad: string[] = [];
    for (const [file, targets] of graph.edges) {
      if (!isCore(file)) continue;
      for (const target of targets) if (!isCore(target)) bad.push(`${file} -> ${target}`);
    }
    expect(bad).toEqual([]);
  });

  it("the core imports no package and no SDK module (everything platform-specific is injected)", () => {
    const bad: string[] = [];
    for (const [file, specs] of graph.external) if (isCore(file)) for (const s of specs) bad.push(`${file} -> ${s}`);
    expect(bad).toEqual([]);
  });

  it(`every import points down the layer order ${LAYERS.map((l) => l.join("+")).join(" < ")}`, () => {
    expect(upward(graph.edges)).toEqual([]);
  });

  it("the two platforms do not import each other", () => {
    const bad: string[] = [];
    for (const [file, targets] of graph.edges) {
      for (const target of targets) {
        if (file.startsWith("platform/node/") && target.startsWith("platform/moddable/")) bad.push(`${file} -> ${target}`);
        if (file.startsWith("platform/moddable/") && target.startsWith("platform/node/")) bad.push(`${file} -> ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("has no cycles", () => {
    expect(findCycles(graph.edges)).toEqual([]);
  });
});

/** Every import that points up the layer order, as "from -> to". */
function upward(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const bad: string[] = [];
  for (const [file, targets] of edges) for (const target of targets) if (layerOf(target) > layerOf(file)) bad.push(`${file} -> ${target}`);
  return bad;
}

/** Each cycle found by a depth-first walk, as "a -> b -> a". */
function findCycles(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, "open");
    stack.push(file);
    for (const target of edges.get(file) ?? []) {
      const s = state.get(target);
      if (s === "open") cycles.push([...stack.slice(stack.indexOf(target)), target].join(" -> "));
      else if (s === undefined) visit(target);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of [...edges.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}

describe("the checks themselves", () => {
  it("find an upward import and a cycle in a made-up graph, and place files in layers", () => {
    const madeUp = new Map<string, string[]>([
      ["config/parse.ts", ["sampler/deadband.ts"]],
      ["sampler/deadband.ts", ["sampler/x.ts"]],
      ["sampler/x.ts", ["sampler/deadband.ts"]],
    ]);
    expect(upward(madeUp)).toEqual(["config/parse.ts -> sampler/deadband.ts"]);
    expect(findCycles(madeUp)).toEqual(["sampler/deadband.ts -> sampler/x.ts -> sampler/deadband.ts"]);
    expect(layerOf("config/deadband.ts")).toBeLessThan(layerOf("sampler/sampler.ts"));
    expect(layerOf("ports.ts")).toBe(0);
    expect(layerOf("main.ts")).toBe(layerOf("platform/node/clock.ts"));
    expect(() => layerOf("newfolder/x.ts")).toThrow(/no place in LAYERS/);
    expect(specifiers('import type { A } from "../ports";\nexport { b } from "./b";\nimport "./side";\nconst m = import("./lazy");')).toEqual(["../ports", "./b", "./side", "./lazy"]);
  });
});
