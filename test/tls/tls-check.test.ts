// The device's broker check (src/platform/moddable/tls-check.ts) with the SDK given as Node-backed fakes: the
// mqtt-ca.der resource, the SDK certificate store (ca.ski + caN.der), pins, the clock not set, no x509 module.
import { createHash, X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TransportError } from "../../src/errors";
import { createDevicePeerCheck, type DeviceTlsSdk } from "../../src/platform/moddable/tls-check";
import { parsePins } from "../../src/tls/pins";
import { parseCertificate } from "../../src/tls/x509";
import { makeAttackPki, type AttackPki } from "./attack-pki";
import { findOpenssl } from "./certs";
import { underCi } from "../support/ci";

const CI = underCi();
const skip = !CI && findOpenssl() === undefined;

/** Stands in for what ssl_cert.js `_verify(spki, x509)` gets from `X509.decodeSPKI(issuer)` / `X509.decode(subject)`. */
interface Decoded {
  readonly der: Uint8Array;
}

function fakeSdk(resources: Record<string, Uint8Array>, withX509 = true): DeviceTlsSdk {
  return {
    sha256: (bytes) => new Uint8Array(createHash("sha256").update(bytes).digest()),
    x509: () => (withX509 ? { decode: (der) => ({ der }), decodeSPKI: (der) => ({ der }) } : undefined),
    resource: (name) => resources[name],
  };
}

/** The SDK session as the check sees it: its certificateManager's `_verify` does the signature check. */
function session(): unknown {
  return {
    certificateManager: {
      _verify: (spki: Decoded, x509: Decoded) => new X509Certificate(Buffer.from(x509.der)).verify(new X509Certificate(Buffer.from(spki.der)).publicKey),
    },
  };
}

describe.skipIf(skip)("device broker check over the SDK's crypto and resources (fakes)", () => {
  let pki: AttackPki;
  beforeAll(() => {
    pki = makeAttackPki("rsa");
  });
  afterAll(() => pki?.dispose());
  const options = (over: { pins?: Uint8Array[]; now?: number | undefined } = {}) =>
    ({ host: "127.0.0.1", pins: over.pins ?? [], now: () => ("now" in over ? over.now : Date.now()) });

  it("trusts the chain to mqtt-ca.der and refuses the forged chain, naming why", () => {
    const check = createDevicePeerCheck(options(), fakeSdk({ "mqtt-ca.der": pki.ca.der }));
    expect(check([pki.broker.der, pki.ca.der], session())).toBeUndefined();
    const refusal = check([pki.attacker.der, pki.broker.der], session());
    expect(refusal).toBeInstanceOf(TransportError);
    expect(refusal).toMatchObject({ failure: "certificate", permanent: true, message: expect.stringMatching(/does not lead to a trusted CA/) });
  });

  it("finds the CA in the SDK's store by the leaf's authority key id when there is no mqtt-ca.der", () => {
    // The store's index is 20-byte subject key ids; ours is entry 1.
    const keyId = parseCertificate(pki.broker.der).authorityKeyId;
    if (keyId === undefined) throw new Error("the test leaf has no authorityKeyIdentifier");
    const index = new Uint8Array(40);
    index.set(new Uint8Array(20).fill(7), 0);
    index.set(keyId, 20);
    const check = createDevicePeerCheck(options(), fakeSdk({ "ca.ski": index, "ca1.der": pki.ca.der }));
    expect(check([pki.broker.der], session())).toBeUndefined();
    const elsewhere = createDevicePeerCheck(options(), fakeSdk({ "ca.ski": index.slice(0, 20), "ca0.der": pki.rogueCa.der }));
    expect(elsewhere([pki.broker.der], session())?.message).toMatch(/does not lead to a trusted CA/);
  });

  it("with a pin ignores the CAs and compares the leaf's key, printing the one it saw", () => {
    const pins = parsePins(pki.spkiSha256(pki.selfSigned)) as Uint8Array[];
    const check = createDevicePeerCheck(options({ pins }), fakeSdk({}));
    expect(check([pki.selfSigned.der], session())).toBeUndefined();
    expect(check([pki.attacker.der, pki.selfSigned.der], session())?.message).toContain(pki.spkiSha256(pki.attacker));
  });

  it("refuses for now (not permanently) while the clock is not set, and permanently without an x509 module", () => {
    const early = createDevicePeerCheck(options({ now: undefined }), fakeSdk({ "mqtt-ca.der": pki.ca.der }));
    expect(early([pki.broker.der], session())).toMatchObject({ failure: "certificate", permanent: false, message: expect.stringMatching(/SNTP/) });
    const bare = createDevicePeerCheck(options(), fakeSdk({ "mqtt-ca.der": pki.ca.der }, false));
    expect(bare([pki.broker.der], session())).toMatchObject({ failure: "certificate", permanent: true });
    const noManager = createDevicePeerCheck(options(), fakeSdk({ "mqtt-ca.der": pki.ca.der }));
    expect(noManager([pki.broker.der], {})).toMatchObject({ permanent: true, message: expect.stringMatching(/_verify/) });
  });

  it("treats a signature check that throws (an algorithm the SDK lacks) as not verified", () => {
    const check = createDevicePeerCheck(options(), fakeSdk({ "mqtt-ca.der": pki.ca.der }));
    const throwing = { certificateManager: { _verify: () => { throw new Error("Cert: unsupported algorithm"); } } };
    expect(check([pki.broker.der], throwing)?.message).toMatch(/does not lead to a trusted CA/);
  });
});
