// The broker check (src/tls/peer-check.ts, x509.ts, pins.ts) on certificates made by openssl, with Node's crypto as
// the platform: the forged chain of issue 10, leaf-only brokers, intermediates, pins, host names, dates, bad DER.
import { createHash, X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPeerChain, hostMatches, parseIpAddress, type PeerPolicy } from "../../src/tls/peer-check";
import { parsePins } from "../../src/tls/pins";
import { CertificateFormatError, parseCertificate, toHex } from "../../src/tls/x509";
import { makeAttackPki, type AttackPki } from "./attack-pki";
import { findOpenssl } from "./certs";
import { nodePorts } from "./node-ports";
import { underCi } from "../support/ci";

const CI = underCi();
const skip = !CI && findOpenssl() === undefined;
if (skip) console.warn("\n*** openssl not found: SKIPPING the certificate check tests (under CI=true this is a failure) ***\n");

for (const kind of ["ec", "rsa"] as const) {
  describe.skipIf(skip)(`broker certificate check (${kind.toUpperCase()} keys)`, () => {
    let pki: AttackPki;
    beforeAll(() => {
      pki = makeAttackPki(kind);
    });
    afterAll(() => pki?.dispose());

    const policy = (over: Partial<PeerPolicy> = {}): PeerPolicy => ({ host: "127.0.0.1", pins: [], now: Date.now(), ...over });

    it("accepts the genuine broker leaf signed by the trusted CA, by IP and by name", () => {
      expect(checkPeerChain([pki.broker.der], policy(), nodePorts([pki.ca.der]))).toMatchObject({ trusted: true });
      expect(checkPeerChain([pki.broker.der, pki.ca.der], policy({ host: "LocalHost" }), nodePorts([pki.ca.der]))).toMatchObject({ trusted: true });
    });

    it("refuses the forged chain: attacker's self-signed leaf naming the host, then the genuine broker certificate", () => {
      const verdict = checkPeerChain([pki.attacker.der, pki.broker.der], policy(), nodePorts([pki.ca.der]));
      expect(verdict.trusted).toBe(false);
      if (!verdict.trusted) expect(verdict.reason).toMatch(/does not lead to a trusted CA/);
      // Same with the CA appended, and with the leaf alone.
      expect(checkPeerChain([pki.attacker.der, pki.broker.der, pki.ca.der], policy(), nodePorts([pki.ca.der])).trusted).toBe(false);
      expect(checkPeerChain([pki.attacker.der], policy(), nodePorts([pki.ca.der])).trusted).toBe(false);
    });

    it("does not follow a non-CA certificate as an intermediate", () => {
      // The broker leaf (cA=false) "issuing" something is never a path, even if names lined up.
      const verdict = checkPeerChain([pki.viaIntermediate.der, pki.broker.der], policy(), nodePorts([pki.ca.der]));
      expect(verdict.trusted).toBe(false);
    });

    it("follows an intermediate CA the broker sends, and refuses without it", () => {
      expect(checkPeerChain([pki.viaIntermediate.der, pki.intermediate.der], policy(), nodePorts([pki.ca.der]))).toMatchObject({ trusted: true });
      expect(checkPeerChain([pki.viaIntermediate.der], policy(), nodePorts([pki.ca.der])).trusted).toBe(false);
    });

    it("refuses a CA with the trusted CA's name but another key (names alone prove nothing)", () => {
      const verdict = checkPeerChain([pki.rogueLeaf.der, pki.rogueCa.der], policy(), nodePorts([pki.ca.der]));
      expect(verdict.trusted).toBe(false);
    });

    it("checks the host name on the leaf, not elsewhere in the chain", () => {
      const verdict = checkPeerChain([pki.otherHost.der, pki.ca.der], policy(), nodePorts([pki.ca.der]));
      expect(verdict).toMatchObject({ trusted: false });
      if (!verdict.trusted) expect(verdict.reason).toMatch(/does not name "127\.0\.0\.1".*broker\.example/);
      expect(checkPeerChain([pki.otherHost.der], policy({ host: "broker.example" }), nodePorts([pki.ca.der])).trusted).toBe(true);
      expect(checkPeerChain([pki.broker.der], policy({ host: "127.0.0.2" }), nodePorts([pki.ca.der])).trusted).toBe(false);
    });

    it("trusts a self-signed broker certificate installed as the trusted one", () => {
      expect(checkPeerChain([pki.selfSigned.der], policy(), nodePorts([pki.selfSigned.der]))).toMatchObject({ trusted: true });
      expect(checkPeerChain([pki.selfSigned.der], policy(), nodePorts([pki.ca.der])).trusted).toBe(false);
    });

    it("accepts a pinned key (openssl's digest of the SubjectPublicKeyInfo) without any CA, and refuses every other key", () => {
      const pins = parsePins(`${"00".repeat(32)}, ${pki.spkiSha256(pki.selfSigned)}`);
      if (typeof pins === "string") throw new Error(pins);
      const ports = nodePorts([]);
      expect(checkPeerChain([pki.selfSigned.der], policy({ pins }), ports)).toMatchObject({ trusted: true, how: expect.stringMatching(/mqtt_pin_sha256/) });
      const forged = checkPeerChain([pki.attacker.der, pki.selfSigned.der], policy({ pins }), ports);
      expect(forged.trusted).toBe(false);
      if (!forged.trusted) expect(forged.reason).toContain(pki.spkiSha256(pki.attacker));
      // A pin does not lift the host-name check.
      expect(checkPeerChain([pki.selfSigned.der], policy({ pins, host: "10.0.0.1" }), ports).trusted).toBe(false);
    });

    it("refuses certificates outside their validity when the time is known, and skips that check when it is not", () => {
      const leaf = parseCertificate(pki.broker.der);
      const expired = checkPeerChain([pki.broker.der], policy({ now: leaf.notAfter + 1000 }), nodePorts([pki.ca.der]));
      expect(expired).toMatchObject({ trusted: false });
      if (!expired.trusted) expect(expired.reason).toMatch(/expired/);
      const early = checkPeerChain([pki.broker.der], policy({ now: leaf.notBefore - 86_400_000 }), nodePorts([pki.ca.der]));
      if (!early.trusted) expect(early.reason).toMatch(/not valid before/);
      expect(early.trusted).toBe(false);
      expect(checkPeerChain([pki.broker.der], policy({ now: undefined }), nodePorts([pki.ca.der])).trusted).toBe(true);
    });

    it("reads the same fields as Node's X.509 parser", () => {
      const node = new X509Certificate(pki.broker.pem);
      const ours = parseCertificate(pki.broker.der);
      expect(ours.notAfter).toBe(Date.parse(node.validTo));
      expect(ours.notBefore).toBe(Date.parse(node.validFrom));
      expect(ours.dnsNames).toEqual(["localhost"]);
      expect(ours.ipAddresses.map((ip) => Array.from(ip).join("."))).toEqual(["127.0.0.1"]);
      expect(ours.isCa).toBe(false);
      expect(parseCertificate(pki.ca.der).isCa).toBe(true);
      expect(toHex(createHashOf(ours.publicKeyInfo))).toBe(pki.spkiSha256(pki.broker));
      expect(Buffer.from(ours.publicKeyInfo)).toEqual(node.publicKey.export({ type: "spki", format: "der" }));
    });

    it("refuses truncated or garbled DER with a reason, never an exception", () => {
      const der = pki.broker.der;
      for (const cut of [0, 1, 10, der.length >> 1, der.length - 1]) {
        const verdict = checkPeerChain([der.subarray(0, cut)], policy(), nodePorts([pki.ca.der]));
        expect(verdict.trusted, `cut at ${cut}`).toBe(false);
      }
      const flipped = der.slice();
      flipped[flipped.length - 5] ^= 0xff; // inside the signature: parses, but no longer verifies
      expect(checkPeerChain([flipped], policy(), nodePorts([pki.ca.der])).trusted).toBe(false);
      expect(() => parseCertificate(new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]))).toThrow(CertificateFormatError);
    });
  });
}

function createHashOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

describe("host names and addresses", () => {
  const cert = (dnsNames: string[], ips: number[][] = []) =>
    ({ dnsNames, ipAddresses: ips.map((ip) => Uint8Array.from(ip)) }) as unknown as Parameters<typeof hostMatches>[0];

  it("matches a leftmost wildcard label only, case-insensitively", () => {
    expect(hostMatches(cert(["*.example.com"]), "mqtt.example.com")).toBe(true);
    expect(hostMatches(cert(["*.example.com"]), "MQTT.Example.COM.")).toBe(true);
    expect(hostMatches(cert(["*.example.com"]), "a.b.example.com")).toBe(false);
    expect(hostMatches(cert(["*.example.com"]), "example.com")).toBe(false);
    expect(hostMatches(cert(["*.com"]), "example.com")).toBe(false);
    expect(hostMatches(cert(["m*.example.com"]), "mqtt.example.com")).toBe(false);
  });

  it("matches IP literals only against iPAddress entries", () => {
    expect(hostMatches(cert(["127.0.0.1"]), "127.0.0.1")).toBe(false);
    expect(hostMatches(cert([], [[127, 0, 0, 1]]), "127.0.0.1")).toBe(true);
    const v6 = Array.from(parseIpAddress("fd00::1") ?? []);
    expect(hostMatches(cert([], [v6]), "[fd00:0::1]")).toBe(true);
    expect(parseIpAddress("1.2.3.256")).toBeUndefined();
    expect(parseIpAddress("1::2::3")).toBeUndefined();
    expect(Array.from(parseIpAddress("::1") ?? [])).toEqual([...new Array(15).fill(0), 1]);
  });

  it("parses pins in hex, hex with colons and base64, and refuses anything else", () => {
    const hex = "ab".repeat(32);
    const pins = parsePins(` ${hex} ,sha256//${Buffer.from(new Uint8Array(32).fill(0xab)).toString("base64")}, ${hex.match(/../g)?.join(":")}`);
    expect(typeof pins).not.toBe("string");
    if (typeof pins !== "string") for (const pin of pins) expect(toHex(pin)).toBe(hex);
    expect(parsePins("abc")).toMatch(/64 hex digits/);
    expect(parsePins("")).toEqual([]);
  });
});
