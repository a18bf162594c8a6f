// Remote commands, reply by reply, at each limit (the mutation run of commands.ts, 64.4%, found the fields each
// command allows, the id's rules and the payload scan's limits unpinned). The module is imported afresh in each test:
// the allowed fields and the limits are module-level tables.
import { describe, expect, it, vi } from "vitest";
import type { Sampler } from "../../src/sampler/sampler";

async function commands() {
  vi.resetModules();
  return import("../../src/sampler/commands");
}

/** The parts of a Sampler commands touch, recording what they were asked to do. */
function fakeSampler() {
  const done: string[] = [];
  const sampler = {
    sensorIds: () => ["env", "soil"],
    channelIds: () => ["env.t", "soil.m"],
    interval: () => 5000,
    setInterval: (ms: number, sensor?: string) => done.push(`interval ${ms} ${sensor ?? "*"}`),
    setDeadband: (text: string, channel?: string) => done.push(`deadband ${text} ${channel ?? "*"}`),
    setHeartbeat: (s: number) => done.push(`heartbeat ${s}`),
    readNow: (sensor?: string) => done.push(`read ${sensor ?? "*"}`),
  };
  return { sampler: sampler as unknown as Sampler, done };
}

async function run(name: string, payload: string | Uint8Array) {
  const { runCommand } = await commands();
  const { sampler, done } = fakeSampler();
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const reply = runCommand({ sampler, publishHealth: () => done.push("health") }, name, bytes);
  return { reply, done };
}

describe("fields", () => {
  it("each command takes its own fields and names the allowed ones when given another", async () => {
    const valid: Array<[string, string, string]> = [
      ["interval", '{"id":1,"ms":2000,"sensor":"env"}', "interval 2000 env"],
      ["deadband", '{"id":1,"value":"0.5","channel":"env.t"}', "deadband 0.5 env.t"],
      ["heartbeat", '{"id":1,"s":60}', "heartbeat 60"],
      ["read", '{"id":1,"sensor":"soil"}', "read soil"],
      ["health", '{"id":1}', "health"],
    ];
    for (const [name, payload, effect] of valid) expect(await run(name, payload), name).toMatchObject({ reply: { cmd: name, ok: true, id: 1 }, done: [effect] });
    const allowed: Record<string, string> = { interval: "id, ms, sensor", deadband: "id, value, channel", heartbeat: "id, s", read: "id, sensor", health: "id" };
    for (const name of Object.keys(allowed)) {
      expect((await run(name, '{"x":1}')).reply, name).toEqual({ cmd: name, ok: false, error: `unknown field "x" for ${name}; allowed: ${allowed[name]}` });
    }
  });

  it("an unknown command lists the known ones", async () => {
    expect((await run("reboot", "")).reply).toEqual({ cmd: "reboot", ok: false, error: 'unknown command "reboot"; known: interval, deadband, heartbeat, read, health' });
  });
});

describe("the id", () => {
  it("is echoed when it is a number or a string of at most 64 characters, on success and on refusal", async () => {
    expect((await run("health", `{"id":"${"i".repeat(64)}"}`)).reply).toEqual({ cmd: "health", ok: true, id: "i".repeat(64) });
    expect((await run("heartbeat", '{"id":7,"s":-1}')).reply).toEqual({ cmd: "heartbeat", ok: false, id: 7, error: '"s" must be an integer from 0 to 86400, got -1' });
    expect((await run("health", "")).reply).toEqual({ cmd: "health", ok: true });
    expect((await run("heartbeat", '{"s":-1}')).reply).not.toHaveProperty("id");
  });

  it("is refused when longer, or of another type", async () => {
    expect((await run("health", `{"id":"${"i".repeat(65)}"}`)).reply).toEqual({ cmd: "health", ok: false, error: '"id" must be at most 64 characters, got 65' });
    expect((await run("health", '{"id":true}')).reply).toEqual({ cmd: "health", ok: false, error: '"id" must be a string or a number' });
  });
});

describe("the payload", () => {
  it("is at most 512 bytes", async () => {
    const padded = (n: number) => `{"id":"${"i".repeat(n - 9)}"}`;
    expect((await run("health", padded(512))).reply.error).toBe('"id" must be at most 64 characters, got 503');
    expect((await run("health", padded(513))).reply.error).toBe("payload of 513 bytes is over the limit of 512");
  });

  it("nests at most two levels, counting brackets outside strings only", async () => {
    expect((await run("health", '{"id":[1]}')).reply.error).toBe('"id" must be a string or a number');
    expect((await run("health", '{"id":[[1]]}')).reply.error).toBe("payload nests deeper than 2 levels");
    // Closing brackets count down: three arrays side by side stay at depth 2.
    expect((await run("health", '{"a":[1],"b":[2],"id":[3]}')).reply.error).toBe('"id" must be a string or a number');
    expect((await run("health", '{"a":{},"b":{},"id":{}}')).reply.error).toBe('"id" must be a string or a number');
    expect((await run("health", '{"id":"[[[{{{"}')).reply).toEqual({ cmd: "health", ok: true, id: "[[[{{{" });
    expect((await run("health", '{"id":"\\"[[["}')).reply).toEqual({ cmd: "health", ok: true, id: '"[[[' });
  });

  it("is a JSON object", async () => {
    for (const payload of ["[]", "1", "null", '"x"']) expect((await run("health", payload)).reply.error, payload).toBe("payload must be a JSON object");
  });
});

describe("arguments", () => {
  it("deadband: a string or a number of at most 16 characters, trimmed; every channel when none is named", async () => {
    expect(await run("deadband", '{"value":0.25}')).toMatchObject({ reply: { ok: true, deadband: "0.25", channel: "*" }, done: ["deadband 0.25 *"] });
    expect((await run("deadband", '{"value":" 1.5% "}')).reply).toMatchObject({ ok: true, deadband: "1.5%" });
    expect((await run("deadband", `{"value":"${"1".repeat(16)}"}`)).reply).toMatchObject({ ok: true });
    expect((await run("deadband", `{"value":"${"1".repeat(17)}"}`)).reply.error).toBe('"value" must be at most 16 characters, such as "0.2" or "1%"');
    expect((await run("deadband", '{"value":true}')).reply.error).toBe('"value" must be a string such as "0.2" or "1%"');
    expect((await run("deadband", '{"value":"0.5","channel":"x"}')).reply.error).toBe('"channel" must be one of env.t, soil.m, got "x"');
  });

  it("heartbeat: whole seconds from 0 to a day; interval: 1 s to a day; a sensor the board has", async () => {
    expect((await run("heartbeat", '{"s":86400}')).reply).toMatchObject({ ok: true, heartbeat_s: 86400 });
    expect((await run("heartbeat", '{"s":86401}')).reply.error).toBe('"s" must be an integer from 0 to 86400, got 86401');
    expect((await run("interval", '{"ms":999}')).reply.error).toBe('"ms" must be an integer from 1000 to 86400000, got 999');
    expect((await run("interval", '{"ms":1000}')).reply).toMatchObject({ ok: true, interval: { env: 5000, soil: 5000 } });
    expect((await run("read", '{"sensor":"gps"}')).reply.error).toBe('"sensor" must be one of env, soil, got "gps"');
  });
});

describe("replies and names", () => {
  it("a reply is at most 512 UTF-8 bytes, else a short error; the cheap bound lets a long ASCII reply through", async () => {
    const { encodeReply } = await commands();
    const ascii = { cmd: "read", ok: false, error: "e".repeat(300) };
    expect(encodeReply(ascii)).toBe(JSON.stringify(ascii));
    const exact = { cmd: "read", ok: false, error: "é".repeat(236) + "abcd" }; // 512 bytes of JSON in UTF-8
    expect(new TextEncoder().encode(JSON.stringify(exact)).length).toBe(512);
    expect(encodeReply(exact)).toBe(JSON.stringify(exact));
    expect(encodeReply({ ...exact, error: exact.error + "é", cmd: "x".repeat(40) })).toBe(`{"cmd":"${"x".repeat(16)}...","ok":false,"error":"reply too long"}`);
  });

  it("a command is the one level under the prefix; received text is clipped to 32 characters", async () => {
    const { commandName, clip } = await commands();
    const at = (topic: string) => commandName({ topic, payload: new Uint8Array(0), qos: 0, retain: false }, "dev/cmd/");
    expect([at("dev/cmd/read"), at("dev/cmd/"), at("dev/cmd/a/b"), at("other/read")]).toEqual(["read", undefined, undefined, undefined]);
    expect(clip("c".repeat(32))).toBe("c".repeat(32));
    expect(clip("c".repeat(33))).toBe("c".repeat(32) + "...");
  });
});
