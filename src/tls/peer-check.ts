// Decides whether the certificate chain a broker presented may be trusted: public-key pin or our own chain walk, and the host name on the leaf.
// Crypto (SHA-256, signature checks) and the trusted CAs come in through PeerCheckPorts, so the same decision runs on Node, XS and the device.
import { CertificateFormatError, commonName, equalBytes, parseCertificate, toHex, type Certificate } from "./x509";

/** What the platform supplies: hashing, one signature check, and the CAs it trusts. */
export interface PeerCheckPorts {
  sha256(bytes: Uint8Array): Uint8Array;
  /** True when `issuer`'s public key verifies the signature on `subject` (both DER certificates). */
  verifySignature(issuer: Uint8Array, subject: Uint8Array): boolean;
  /** DER certificates trusted as roots that may have issued `cert` (by name or authority key id); may return more than needed. */
  trustAnchorsFor(cert: Certificate): readonly Uint8Array[];
}

export interface PeerPolicy {
  /** The host the device dialled: the leaf must name it (subjectAltName; a bracketed IPv6 literal is accepted). */
  readonly host: string;
  /** SHA-256 digests of accepted SubjectPublicKeyInfo. Non-empty: the leaf's key must be one of them and no CA is consulted. */
  readonly pins: readonly Uint8Array[];
  /** Wall-clock ms, or undefined while the device does not know the time (validity then cannot be checked). */
  readonly now: number | undefined;
}

export type PeerVerdict = { readonly trusted: true; readonly how: string } | { readonly trusted: false; readonly reason: string };

/** Intermediates we follow at most between the leaf and a trusted root. */
const MAX_CHAIN_DEPTH = 4;

function refuse(reason: string): PeerVerdict {
  return { trusted: false, reason };
}

function describeName(name: Uint8Array): string {
  const cn = commonName(name);
  return cn === undefined ? "(no CN)" : `CN=${cn}`;
}

/**
 * The whole check, run on the chain exactly as the broker sent it (leaf first). The leaf is what the TLS handshake
 * then proves possession of (its key signs the key exchange), so every decision here is about chain[0].
 */
export function checkPeerChain(chain: readonly Uint8Array[], policy: PeerPolicy, ports: PeerCheckPorts): PeerVerdict {
  if (chain.length === 0) return refuse("the broker sent no certificate");
  let parsed: Certificate[];
  try {
    parsed = chain.map((der) => parseCertificate(der));
  } catch (error) {
    if (error instanceof CertificateFormatError) return refuse(error.message);
    throw error;
  }
  const leaf = parsed[0];
  const dated = checkDates(leaf, policy.now, "the broker's certificate");
  if (dated !== undefined) return dated;
  if (leaf.unhandledCritical.length > 0) return refuse(`the broker's certificate has critical extensions this device cannot check (${leaf.unhandledCritical.join(", ")})`);
  if (!hostMatches(leaf, policy.host)) {
    return refuse(`the broker's certificate does not name "${policy.host}" (it names ${describeNames(leaf)}): mqtt_host must be a name or address in its subjectAltName`);
  }
  if (policy.pins.length > 0) {
    const digest = ports.sha256(leaf.publicKeyInfo);
    if (policy.pins.some((pin) => equalBytes(pin, digest))) return { trusted: true, how: "public key matches mqtt_pin_sha256" };
    return refuse(`the broker's public key is not the pinned one (mqtt_pin_sha256); its SHA-256 is ${toHex(digest)}`);
  }
  return walkChain(parsed, policy, ports);
}

function walkChain(parsed: readonly Certificate[], policy: PeerPolicy, ports: PeerCheckPorts): PeerVerdict {
  let current = parsed[0];
  const used = [0];
  for (let depth = 0; depth <= MAX_CHAIN_DEPTH; depth++) {
    for (const anchorDer of ports.trustAnchorsFor(current)) {
      // A broker certificate installed as the trusted one (self-signed brokers) is trusted as it is.
      if (equalBytes(anchorDer, current.der)) return { trusted: true, how: "certificate is a trusted one" };
      let anchor: Certificate;
      try {
        anchor = parseCertificate(anchorDer);
      } catch {
        continue; // a trusted resource we cannot read trusts nothing
      }
      if (!equalBytes(anchor.subject, current.issuer)) continue;
      if (checkDates(anchor, policy.now, "trusted CA") !== undefined) continue;
      if (ports.verifySignature(anchorDer, current.der)) return { trusted: true, how: `chain to trusted ${describeName(anchor.subject)}` };
    }
    // Not signed by a root we trust: follow an intermediate the broker sent, which must be a CA and must have signed it.
    let next: number | undefined;
    for (let i = 1; i < parsed.length && next === undefined; i++) {
      const candidate = parsed[i];
      if (used.indexOf(i) !== -1 || !candidate.isCa || !equalBytes(candidate.subject, current.issuer)) continue;
      if (checkDates(candidate, policy.now, "intermediate") !== undefined || candidate.unhandledCritical.length > 0) continue;
      if (ports.verifySignature(candidate.der, current.der)) next = i;
    }
    if (next === undefined) {
      return refuse(`the broker's certificate chain does not lead to a trusted CA (stuck at ${describeName(current.subject)}, issued by ${describeName(current.issuer)}): install the broker's CA as mqtt-ca.der or pin its key with mqtt_pin_sha256`);
    }
    used.push(next);
    current = parsed[next];
  }
  return refuse(`the broker's certificate chain is longer than ${MAX_CHAIN_DEPTH} intermediates`);
}

function checkDates(cert: Certificate, now: number | undefined, what: string): PeerVerdict | undefined {
  if (now === undefined) return undefined;
  if (now < cert.notBefore) return refuse(`${what} (${describeName(cert.subject)}) is not valid before ${new Date(cert.notBefore).toISOString()}; is the device clock right?`);
  if (now > cert.notAfter) return refuse(`${what} (${describeName(cert.subject)}) expired ${new Date(cert.notAfter).toISOString()}`);
  return undefined;
}

function describeNames(cert: Certificate): string {
  const names = cert.dnsNames.map((n) => `"${n.replace(/[^\x20-\x7e]/g, "?").slice(0, 64)}"`)
    .concat(cert.ipAddresses.map((ip) => formatIp(ip)));
  if (names.length === 0) return "no subjectAltName";
  return names.slice(0, 8).join(", ") + (names.length > 8 ? ", ..." : "");
}

function formatIp(ip: Uint8Array): string {
  if (ip.length === 4) return Array.from(ip).join(".");
  const groups: string[] = [];
  for (let i = 0; i + 1 < ip.length; i += 2) groups.push(((ip[i] << 8) | ip[i + 1]).toString(16));
  return groups.join(":");
}

/**
 * RFC 6125 matching on subjectAltName only (no fallback to the subject CN, as RFC 6125 6.4.4 recommends once a
 * SAN is present and as the SDK does): an IP literal matches an iPAddress entry, a name matches a dNSName entry
 * case-insensitively, with a wildcard only as the whole leftmost label ("*.example.com" matches one label).
 */
export function hostMatches(cert: Certificate, host: string): boolean {
  const bare = host.length > 1 && host[0] === "[" && host[host.length - 1] === "]" ? host.slice(1, -1) : host;
  const address = parseIpAddress(bare);
  if (address !== undefined) return cert.ipAddresses.some((ip) => equalBytes(ip, address));
  const name = bare.toLowerCase().replace(/\.$/, "");
  if (name.length === 0) return false;
  for (const candidate of cert.dnsNames) {
    const pattern = candidate.replace(/\.$/, "");
    if (pattern === name) return true;
    if (pattern.startsWith("*.") && pattern.indexOf("*", 1) === -1 && pattern.split(".").length >= 3) {
      const dot = name.indexOf(".");
      if (dot > 0 && name.slice(dot + 1) === pattern.slice(2)) return true;
    }
  }
  return false;
}

/** A dotted IPv4 or an IPv6 literal as bytes; undefined for anything else (then it is a host name). */
export function parseIpAddress(text: string): Uint8Array | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split(".").map(Number);
    return parts.every((p) => p <= 255) ? Uint8Array.from(parts) : undefined;
  }
  if (text.indexOf(":") === -1 || !/^[0-9A-Fa-f:]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const tail = halves.length === 2 && halves[1] !== "" ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = head.concat(new Array<string>(halves.length === 2 ? missing : 0).fill("0"), tail);
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(groups[i])) return undefined;
    const v = parseInt(groups[i], 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  }
  return out;
}
