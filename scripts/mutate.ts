// `npm run mutate [-- mqtt store sampler config] [--concurrency N] [--files a.ts,!b.ts] [--full] [--report] [--survivors]`:
// StrykerJS over the core, one folder of src/ at a time (a whole-core run does not fit a loaded 2-core machine), then
// one table of scores per folder and per file from the JSON reports in reports/mutation/. Incremental by default: only
// mutants whose code or covering tests changed since the folder's last run are tested again; --full forgets that.
// --report only prints the table from the reports already there; --survivors also lists each surviving or uncovered
// mutant with its source line. --files narrows each folder's run to some of its files ("!" leaves one out); such a
// partial run has its own reports (reports/mutation/store.no-flash-log.json), see stryker.config.mjs.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";

const FOLDERS = ["mqtt", "store", "sampler", "config"] as const;
const args = process.argv.slice(2);
const concurrencyAt = args.indexOf("--concurrency");
const concurrency = concurrencyAt >= 0 ? args[concurrencyAt + 1] : "2";
const filesAt = args.indexOf("--files");
const files = filesAt >= 0 ? args[filesAt + 1] : "";
const reportSuffix = files === "" ? "" : "." + files.split(",").filter((f) => f !== "").map((f) => f.replace(/^!/, "no-").replace(/\.ts$/, "")).join("+");
const full = args.includes("--full");
const reportOnly = args.includes("--report");
const listSurvivors = args.includes("--survivors");
const chosen = args.filter((a, i) => !a.startsWith("--") && (concurrencyAt < 0 || i !== concurrencyAt + 1) && (filesAt < 0 || i !== filesAt + 1));
const folders = chosen.length > 0 ? chosen : [...FOLDERS];
for (const folder of folders) {
  if (!(FOLDERS as readonly string[]).includes(folder)) throw new Error(`unknown folder "${folder}": choose from ${FOLDERS.join(", ")}`);
}

interface MutantResult {
  status: string;
  mutatorName: string;
  replacement?: string;
  location: { start: { line: number; column: number } };
}
interface Report {
  files: Record<string, { source: string; mutants: MutantResult[] }>;
}

/** One line per mutant that no test caught, with the source line it changes, for deciding killable or equivalent. */
function survivorLines(report: Report): string[] {
  const out: string[] = [];
  for (const [name, { source, mutants }] of Object.entries(report.files).sort()) {
    const lines = source.split("\n");
    const left = mutants.filter((m) => m.status === "Survived" || m.status === "NoCoverage").sort((a, b) => a.location.start.line - b.location.start.line);
    for (const m of left) {
      const at = `${name}:${m.location.start.line}:${m.location.start.column}`;
      const replacement = (m.replacement ?? "").replace(/\s+/g, " ").slice(0, 60);
      out.push(`${at} ${m.status} ${m.mutatorName} -> ${replacement}\n    ${(lines[m.location.start.line - 1] ?? "").trim()}`);
    }
  }
  return out;
}

/** Stryker's score: killed + timeout over everything that could be detected (compile errors and ignored left out). */
function score(mutants: MutantResult[]): { detected: number; survived: number; noCoverage: number; valid: number; ignored: number; compile: number } {
  const count = (...statuses: string[]) => mutants.filter((m) => statuses.includes(m.status)).length;
  const detected = count("Killed", "Timeout");
  const survived = count("Survived");
  const noCoverage = count("NoCoverage");
  return { detected, survived, noCoverage, valid: detected + survived + noCoverage, ignored: count("Ignored"), compile: count("CompileError", "RuntimeError") };
}

const pct = (a: number, b: number) => (b === 0 ? "-" : `${((100 * a) / b).toFixed(1)}%`);
const rows: string[] = [];
const survivors: string[] = [];
let status = 0;
for (const folder of folders) {
  const name = folder + reportSuffix;
  if (full) rmSync(join("reports/mutation", `${name}.incremental.json`), { force: true });
  const started = Date.now();
  const run = reportOnly ? { status: 0 } : spawnSync("npx", ["stryker", "run", "--concurrency", concurrency], { stdio: "inherit", env: { ...process.env, MUTATE_FOLDER: folder, MUTATE_FILES: files } });
  const minutes = reportOnly ? "-" : ((Date.now() - started) / 60_000).toFixed(1);
  if (run.status !== 0) {
    // A failed run (a test failing in the dry run, say) writes no report: the one on disk is an earlier run's.
    status = 1;
    rows.push(`| src/${folder}${reportSuffix} | stryker exited ${run.status}: no new report | | | | | ${minutes} min |`);
    continue;
  }
  const file = join("reports/mutation", `${name}.json`);
  if (!existsSync(file)) {
    rows.push(`| src/${folder}${reportSuffix} | no report at ${file} | | | | | ${minutes} min |`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8")) as Report;
  if (listSurvivors) survivors.push(...survivorLines(report));
  const all = Object.values(report.files).flatMap((f) => f.mutants);
  const s = score(all);
  rows.push(`| src/${folder}${reportSuffix} | **${pct(s.detected, s.valid)}** | ${s.detected}/${s.valid} | ${s.survived} | ${s.noCoverage} | ${s.ignored} static, ${s.compile} type errors | ${minutes} min |`);
  for (const [name, { mutants }] of Object.entries(report.files).sort()) {
    const f = score(mutants);
    rows.push(`| &nbsp;&nbsp;${relative(`src/${folder}`, name)} | ${pct(f.detected, f.valid)} | ${f.detected}/${f.valid} | ${f.survived} | ${f.noCoverage} | | |`);
  }
}
console.log("\n| Folder / file | Score | Killed / valid | Survived | No coverage | Left out | Time |\n|---|---|---|---|---|---|---|");
for (const row of rows) console.log(row);
if (survivors.length > 0) console.log(`\nSurvived or not covered (${survivors.length}):\n${survivors.join("\n")}`);
process.exit(status);
