// The XS harness itself: commands, async replies, errors, meters, and that it really is XS on the other side.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XsCommandError, XsRunner, bundleForXs, xsEntry, xsnapWorkerPath } from "./harness";

const binary = xsnapWorkerPath();

describe.skipIf(binary === undefined)("XS engine (xsnap): harness", () => {
  let xs: XsRunner;
  beforeAll(async () => {
    xs = await XsRunner.start({ entry: xsEntry("echo-entry"), meteringLimit: 1e7 });
  });
  afterAll(async () => {
    await xs?.close();
  });

  it("runs on XS: print exists; process, Buffer and setTimeout do not", async () => {
    const { reply } = await xs.command({ op: "engine" });
    expect(reply).toEqual({ print: "function", process: "undefined", Buffer: "undefined", setTimeout: "undefined" });
  });

  it("round-trips JSON commands, including non-ASCII text", async () => {
    const value = { text: "温度 😀 é", list: [1, 2, 3], nested: { ok: true } };
    expect((await xs.command({ op: "echo", value })).reply).toEqual(value);
  });

  it("resolves a handler's promise after xsnap drains its job queue", async () => {
    expect((await xs.command({ op: "async", value: 7 })).reply).toEqual({ later: 7 });
  });

  it("turns a handler's exception into XsCommandError and keeps serving", async () => {
    await expect(xs.command({ op: "throw", message: "boom" })).rejects.toThrow(XsCommandError);
    await expect(xs.command({ op: "throw", message: "boom" })).rejects.toThrow("XS TypeError: boom");
    expect((await xs.command({ op: "echo", value: 1 })).reply).toBe(1);
  });

  it("meters each command deterministically, and more work costs more computrons", async () => {
    const small = await xs.command({ op: "spin", count: 1000 });
    const again = await xs.command({ op: "spin", count: 1000 });
    const large = await xs.command({ op: "spin", count: 10000 });
    expect(again.meter.compute).toBe(small.meter.compute);
    expect(large.meter.compute).toBeGreaterThan(small.meter.compute * 5);
  });

  it("evaluates source text in the worker", async () => {
    const { reply } = await xs.evaluate("new TextEncoder().encode(String(6 * 7)).buffer");
    expect(Buffer.from(reply).toString()).toBe("42");
  });

  it("fails, not hangs, when a command exceeds the metering limit", async () => {
    const runaway = await XsRunner.start({ entry: xsEntry("echo-entry"), meteringLimit: 1e5 });
    try {
      await expect(runaway.command({ op: "spin", count: 1e7 })).rejects.toThrow(/exited|exception/);
    } finally {
      await runaway.close();
    }
  });

  it("rejects start() when the script throws while loading", async () => {
    await expect(XsRunner.start({ bundle: "throw new Error('load failure')" })).rejects.toThrow(/uncaught exception in XS/);
  });

  it("bundles without Node built-ins: importing one fails the build", async () => {
    await expect(bundleForXs(new URL("./harness.ts", import.meta.url).pathname)).rejects.toThrow();
  });
});
