// XS stack slots each firmware turn needs, measured on xsnap (test/xs/stack-probe.ts): the figures behind the CI
// guard (test/xs/stack.xs.test.ts) and docs/moddable.md's per-board table. Slow (a fresh xsnap per overflow).
import { readFileSync } from "node:fs";
import { StackProbe } from "../test/xs/stack-probe";

export async function benchXsStack(): Promise<void> {
  const board = JSON.parse(readFileSync(new URL("../boards/lin.json", import.meta.url), "utf8")) as unknown;
  const probe = new StackProbe();
  try {
    const capacity = await probe.capacity();
    const rows: Array<{ flow: string; "XS slots": number }> = [];
    for (const flow of await probe.names()) rows.push({ flow, "XS slots": await probe.need(capacity, flow, board) });
    console.log(`xsnap: ${capacity} slots free above the harness; each turn's need, to the slot (${probe.starts} xsnap starts):`);
    console.table(rows);
  } finally {
    await probe.close();
  }
}
