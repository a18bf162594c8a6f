// The broker check (src/tls) on the real XS engine: the same verdicts as on Node for issue 10's chains (crypto
// answered by Node, decisions made on XS), X.509 fields read alike, and the SDK-session rules and chain hook on XS.
import { createHash, X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPeerChain } from "../../src/tls/peer-check";
import { parsePins } from "../../src/tls/pins";
import { parseCertificate, toHex } from "../../src/tls/x509";
import { makeAttackPki, type AttackPki } from "../tls/attack-pki";
import { findOpenssl } from "../tls/certs";
import { nodePorts } from "../tls/node-ports";
import { XsRunner, xsEntry, xsnapWorkerPath } from "./harness";
import { underCi } from "../support/ci";

const binary = xsnapWorkerPath();
const CI = underCi();
if (CI && findOpenssl() === undefined) throw new Error("openssl not found: the XS TLS tests need it under CI");

describe.skipIf(binary === undefined || findOpenssl() === undefined)("XS engine (xsnap): the broker check", () => {
  let xs: XsRunner;
  let pki: AttackPki;
  beforeAll(async () => {
    xs = await XsRunner.start({ entry: xsEntry("tls-entry"), meteringLimit: 1e9 });
    pki = makeAttackPki("rsa");
  });
  afterAll(async () => {
    await xs?.close();
    pki?.dispose();
  });

  it("reads the same X.509 fields on XS as on Node", async () => {
    for (const cert of [pki.broker, pki.ca, pki.otherHost, pki.intermediate]) {
      const ours = parseCertificate(cert.der);
      const { reply } = await xs.command({ op: "parse", hex: toHex(cert.der) });
      expect(reply).toEqual({ dnsNames: ours.dnsNames, ips: ours.ipAddresses.map((ip) => Array.from(ip).join(".")), isCa: ours.isCa, notBefore: ours.notBefore, notAfter: ours.notAfter, spki: toHex(ours.publicKeyInfo) });
    }
  });

  it("gives Node's verdicts for the genuine, forged, rogue, intermediate, wrong-host and pinned chains", async () => {
    const certs = [pki.ca, pki.broker, pki.attacker, pki.intermediate, pki.viaIntermediate, pki.rogueCa, pki.rogueLeaf, pki.otherHost, pki.selfSigned].map((c) => c.der);
    const signatures: string[] = [];
    for (let i = 0; i < certs.length; i++) {
      for (let j = 0; j < certs.length; j++) {
        if (new X509Certificate(Buffer.from(certs[j])).verify(new X509Certificate(Buffer.from(certs[i])).publicKey)) signatures.push(`${i}>${j}`);
      }
    }
    const digests: Record<string, string> = {};
    for (const der of certs) {
      const spki = parseCertificate(der).publicKeyInfo;
      digests[toHex(spki)] = createHash("sha256").update(spki).digest("hex");
    }
    const cases: { chain: number[]; anchors: number[]; host: string; pins: string; trusted: boolean }[] = [
      { chain: [1, 0], anchors: [0], host: "127.0.0.1", pins: "", trusted: true },
      { chain: [2, 1], anchors: [0], host: "127.0.0.1", pins: "", trusted: false }, // the forged chain of issue 10
      { chain: [1], anchors: [0], host: "localhost", pins: "", trusted: true }, // leaf only
      { chain: [6, 5], anchors: [0], host: "127.0.0.1", pins: "", trusted: false },
      { chain: [4, 3], anchors: [0], host: "127.0.0.1", pins: "", trusted: true },
      { chain: [7], anchors: [0], host: "127.0.0.1", pins: "", trusted: false },
      { chain: [8], anchors: [], host: "127.0.0.1", pins: pki.spkiSha256(pki.selfSigned), trusted: true },
      { chain: [2, 8], anchors: [], host: "127.0.0.1", pins: pki.spkiSha256(pki.selfSigned), trusted: false },
    ];
    const now = Date.now();
    for (const c of cases) {
      const pins = parsePins(c.pins) as Uint8Array[];
      const onNode = checkPeerChain(c.chain.map((i) => certs[i]), { host: c.host, pins, now }, nodePorts(c.anchors.map((i) => certs[i])));
      const { reply } = await xs.command({ op: "check", certs: certs.map(toHex), chain: c.chain, anchors: c.anchors, host: c.host, pins: c.pins, now, digests, signatures });
      expect(reply, JSON.stringify(c)).toEqual(onNode);
      expect((reply as { trusted: boolean }).trusted, JSON.stringify(c)).toBe(c.trusted);
    }
  });

  it("applies the SDK-session rules and hooks the chain check on an instance of a frozen class", async () => {
    const { reply } = await xs.command<Record<string, unknown>>({ op: "sessions" });
    expect(reply).toMatchObject({ installed: true, hooked: false, seen: 2, good: "open", frozenManager: false });
    expect(reply.closeNotify).toMatch(/^tls: .*close_notify/);
    expect(reply.oldHello).toMatch(/^tls: .*older than 1\.2/);
    expect(reply.noCipher).toMatch(/^tls: .*no cipher agreed/);
    expect(reply.unchecked).toMatch(/^certificate: .*never checked/);
    expect(reply.ecdhe).toMatch(/^tls: .*RSA key exchange only/);
  });
});
