// The limits every adapter applies as a request arrives, Basic credentials, and base64 against Node's decoder.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BasicAuth } from "../../src/web/auth";
import { decodeBase64 } from "../../src/web/base64";
import { DEFAULT_WEB_LIMITS, RequestReader, isResponse, type WebResponse } from "../../src/web/request";

const status = (r: WebResponse | undefined) => r?.status;

describe("RequestReader", () => {
  it("assembles a request and keeps only the headers the page uses", () => {
    const reader = new RequestReader();
    expect(reader.start("POST", "/settings/interval")).toBeUndefined();
    expect(reader.header("Content-Type", "application/json")).toBeUndefined();
    expect(reader.header("Content-Length", "11")).toBeUndefined();
    expect(reader.header("Cookie", "a=b")).toBeUndefined();
    expect(reader.body(new TextEncoder().encode('{"ms":'))).toBeUndefined();
    expect(reader.body(new TextEncoder().encode("5000}"))).toBeUndefined();
    const request = reader.finish();
    expect(isResponse(request)).toBe(false);
    expect(request).toMatchObject({ method: "POST", target: "/settings/interval", contentType: "application/json" });
    expect(new TextDecoder().decode((request as { body: Uint8Array }).body)).toBe('{"ms":5000}');
  });

  it("refuses a long target (414), a bad method or target (400)", () => {
    expect(status(new RequestReader().start("GET", "/" + "a".repeat(DEFAULT_WEB_LIMITS.maxTargetBytes)))).toBe(414);
    expect(status(new RequestReader().start("get", "/"))).toBe(400);
    expect(status(new RequestReader().start("GET", "http://x/"))).toBe(400);
  });

  it("refuses too many headers or too many header bytes (431) at the header that passes the limit", () => {
    const count = new RequestReader();
    count.start("GET", "/");
    for (let i = 0; i < DEFAULT_WEB_LIMITS.maxHeaderCount; i++) expect(count.header(`x-${i}`, "1")).toBeUndefined();
    expect(status(count.header("x-last", "1"))).toBe(431);
    const bytes = new RequestReader();
    bytes.start("GET", "/");
    expect(bytes.header("x-a", "a".repeat(DEFAULT_WEB_LIMITS.maxHeaderBytes - 10))).toBeUndefined();
    expect(status(bytes.header("x-b", "b".repeat(10)))).toBe(431);
  });

  it("refuses a declared or received body over the limit (413), chunked bodies (501), a short body (400), a repeated header (400)", () => {
    const declared = new RequestReader();
    declared.start("POST", "/");
    expect(status(declared.header("content-length", String(DEFAULT_WEB_LIMITS.maxBodyBytes + 1)))).toBe(413);
    const sent = new RequestReader();
    sent.start("POST", "/");
    sent.header("content-length", "4");
    expect(status(sent.body(new Uint8Array(5)))).toBe(413);
    const chunked = new RequestReader();
    chunked.start("POST", "/");
    expect(status(chunked.header("Transfer-Encoding", "chunked"))).toBe(501);
    const short = new RequestReader();
    short.start("POST", "/");
    short.header("content-length", "4");
    short.body(new Uint8Array(3));
    expect((short.finish() as WebResponse).status).toBe(400);
    const twice = new RequestReader();
    twice.start("POST", "/");
    twice.header("authorization", "Basic a");
    expect(status(twice.header("Authorization", "Basic b"))).toBe(400);
    expect(status(new RequestReader().header("content-length", "-1"))).toBe(400);
  });
});

describe("base64", () => {
  it("decodes what Node encodes, and refuses what Node's strict form is not", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(decodeBase64(Buffer.from(bytes).toString("base64"))).toEqual(bytes);
      }),
      { seed: 14, numRuns: 500 },
    );
    for (const bad of ["a", "ab=c", "a=bc", "ab c", "abc*", "=abc", "ab==ab=="]) expect(decodeBase64(bad), bad).toBeUndefined();
  });
});

describe("BasicAuth", () => {
  it("accepts the password with any user name, UTF-8 included, and nothing else", () => {
    const auth = new BasicAuth("pä ss", () => 0, { maxFailures: 1000, lockoutMs: 1, maxLockoutMs: 1 });
    const basic = (s: string) => "Basic " + Buffer.from(s, "utf8").toString("base64");
    expect(auth.check(basic("admin:pä ss")).ok).toBe(true);
    expect(auth.check(basic("anyone:pä ss")).ok).toBe(true);
    expect(auth.check(basic(":pä ss")).ok).toBe(true);
    for (const wrong of ["admin:pä s", "admin:pä ss ", "admin:PÄ SS", "pä ss", "admin:"]) expect(auth.check(basic(wrong)), wrong).toEqual({ ok: false, reason: "wrong" });
    expect(auth.check("Bearer x")).toEqual({ ok: false, reason: "wrong" });
    expect(auth.check(undefined)).toEqual({ ok: false, reason: "missing" });
    expect(new BasicAuth("", () => 0).check(basic("admin:"))).toEqual({ ok: false, reason: "disabled" });
  });

  it("never lets a random credential in", () => {
    const auth = new BasicAuth("correct horse", () => 0, { maxFailures: 1e9, lockoutMs: 1, maxLockoutMs: 1 });
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (user, password) => {
        fc.pre(password !== "correct horse");
        expect(auth.check("Basic " + Buffer.from(`${user.replace(/:/g, "")}:${password}`).toString("base64")).ok).toBe(false);
      }),
      { seed: 1414, numRuns: 1000 },
    );
  });
});
