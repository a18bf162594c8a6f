// XS entry: the broker check (src/tls) on the real XS engine. Crypto answers come from Node with the command (XS in
// xsnap has no SHA-256 or signature code): `digests` maps hex input to hex SHA-256, `signatures` lists the
// "issuer>subject" index pairs (into `certs`) whose signature verifies. The decisions themselves run here.
import { checkPeerChain } from "../../../src/tls/peer-check";
import { parsePins } from "../../../src/tls/pins";
import { handshakeVerdict, interceptChainCheck } from "../../../src/tls/secure-session";
import { parseCertificate, toHex } from "../../../src/tls/x509";
import { serveCommands } from "./xs-host";

interface CheckCommand {
  op: "check";
  certs: string[];
  chain: number[];
  anchors: number[];
  host: string;
  pins: string;
  now: number | null;
  digests: Record<string, string>;
  signatures: string[];
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function check(c: CheckCommand): unknown {
  const certs = c.certs.map(fromHex);
  const indexOf = (der: Uint8Array) => c.certs.indexOf(toHex(der));
  const pins = parsePins(c.pins);
  if (typeof pins === "string") return { error: pins };
  return checkPeerChain(c.chain.map((i) => certs[i]), { host: c.host, pins, now: c.now ?? undefined }, {
    sha256: (bytes) => fromHex(c.digests[toHex(bytes)] ?? ""),
    verifySignature: (issuer, subject) => c.signatures.indexOf(`${indexOf(issuer)}>${indexOf(subject)}`) !== -1,
    trustAnchorsFor: () => c.anchors.map((i) => certs[i]),
  });
}

function parse(hex: string): unknown {
  const cert = parseCertificate(fromHex(hex));
  return { dnsNames: cert.dnsNames, ips: cert.ipAddresses.map((ip) => Array.from(ip).join(".")), isCa: cert.isCa, notBefore: cert.notBefore, notAfter: cert.notAfter, spki: toHex(cert.publicKeyInfo) };
}

/** The SDK's session shapes (session_original.js) and the chain hook on an instance of a frozen class, as on the device. */
function sessions(): unknown {
  class CertificateManager {
    verify(): boolean {
      return true;
    }
  }
  Object.freeze(CertificateManager.prototype);
  Object.freeze(CertificateManager);
  const session: Record<string, unknown> = { alert: undefined, clientCipher: null, serverCipher: null, certificateManager: new CertificateManager() };
  let seen = 0;
  const installed = interceptChainCheck(session, (chain) => {
    seen = chain.length;
    return false;
  });
  const manager = session.certificateManager as { verify(certs: unknown, options: unknown): boolean };
  const hooked = manager.verify([new Uint8Array([1]), new Uint8Array([2])], {});
  const verdict = (s: Record<string, unknown>, accepted: boolean) => {
    const v = handshakeVerdict(s, accepted, "host:8883");
    return v.open ? "open" : `${v.error.failure}: ${v.error.message}`;
  };
  return {
    installed,
    hooked,
    seen,
    closeNotify: verdict({ alert: { level: 1, description: 0 }, clientCipher: null, serverCipher: null, certificateManager: {} }, false),
    oldHello: verdict({ alert: { level: 2, description: 70 }, clientCipher: null, serverCipher: null, certificateManager: {} }, false),
    noCipher: verdict({ alert: undefined, clientCipher: null, serverCipher: null }, true),
    unchecked: verdict({ alert: undefined, clientCipher: {}, serverCipher: {}, chosenCipher: { keyExchangeAlgorithm: 0 } }, false),
    ecdhe: verdict({ alert: undefined, clientCipher: {}, serverCipher: {}, chosenCipher: { keyExchangeAlgorithm: 6 } }, true),
    good: verdict({ alert: undefined, clientCipher: {}, serverCipher: {}, chosenCipher: { keyExchangeAlgorithm: 0 } }, true),
    frozenManager: interceptChainCheck({ certificateManager: Object.freeze(new CertificateManager()) }, () => true),
  };
}

serveCommands((command) => {
  const c = command as { op: string };
  if (c.op === "check") return check(command as CheckCommand);
  if (c.op === "parse") return parse((command as { hex: string }).hex);
  if (c.op === "sessions") return sessions();
  throw new Error(`unknown op ${c.op}`);
});
