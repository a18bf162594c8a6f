// On a device Moddable freezes the built-in prototypes; xsnap does not. This runs our error classes and string
// decoding on XS with the prototypes frozen the same way, so a constructor assigning `this.name` fails here too.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XsRunner, xsEntry, xsnapWorkerPath } from "./harness";

describe.skipIf(xsnapWorkerPath() === undefined)("XS engine (xsnap): frozen intrinsics, as on a device", () => {
  let xs: XsRunner;
  beforeAll(async () => {
    xs = await XsRunner.start({ entry: xsEntry("frozen-intrinsics-entry") });
  });
  afterAll(async () => {
    await xs?.close();
  });

  it("every error class of ours can be built and keeps its name", async () => {
    const { reply } = await xs.command({ op: "errors" });
    expect((reply as Array<{ name: string }>).map((e) => e.name)).toEqual([
      "ProtocolError", "ConfigError", "StorageError", "ConnectionRefusedError", "QueueFullError", "ConfigErrors", "BoardError", "PayloadError",
    ]);
    expect((reply as Array<{ isError: boolean }>).every((e) => e.isError)).toBe(true);
  });

  it("decodes a long ASCII string", async () => {
    expect((await xs.command({ op: "long-ascii" })).reply).toBe(5000);
  });
});
