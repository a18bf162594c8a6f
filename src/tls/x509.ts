// The X.509 fields the broker check needs, read from DER with bounds checks: no crypto, no platform imports.
// Only what is needed to pin a key, match the host name and walk a chain is read; anything malformed throws.

/** A DER certificate could not be read; `message` says which part. */
export class CertificateFormatError extends Error {
  // A field, not `this.name = ...`: Moddable freezes Error.prototype, so assigning "name" throws there.
  override readonly name: string = "CertificateFormatError";
  constructor(message: string) {
    super(`malformed certificate: ${message}`);
  }
}

export interface Certificate {
  readonly der: Uint8Array;
  /** The TBSCertificate element, header included: the bytes the issuer signed. */
  readonly tbs: Uint8Array;
  /** Dotted OID of the signature algorithm (1.2.840.10045.4.3.2 is ECDSA with SHA-256). */
  readonly signatureAlgorithm: string;
  /** The issuer and subject Names as DER, compared byte for byte when walking a chain. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  /** Validity in ms since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** SubjectPublicKeyInfo as DER: what a public-key pin hashes (the same bytes as `openssl pkey -pubin -outform der`). */
  readonly publicKeyInfo: Uint8Array;
  /** subjectAltName dNSName entries, lower case, and iPAddress entries (4 or 16 bytes). */
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly Uint8Array[];
  /** basicConstraints cA. */
  readonly isCa: boolean;
  /** authorityKeyIdentifier keyIdentifier, when present: how the SDK's certificate store indexes CAs. */
  readonly authorityKeyId: Uint8Array | undefined;
  /** Critical extensions this module does not act on: a certificate that has any must be refused (RFC 5280 4.2). */
  readonly unhandledCritical: readonly string[];
}

interface Element {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly content: number;
  /** Offset just past the content. */
  readonly end: number;
}

const TAG = Object.freeze({
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  CONTEXT_0: 0xa0,
  CONTEXT_3: 0xa3,
  KEY_ID: 0x80,
  SAN_DNS: 0x82,
  SAN_IP: 0x87,
});

/** Extensions acted on here; any other critical one makes the certificate unusable. */
const EXT_SAN = "2.5.29.17";
const EXT_BASIC_CONSTRAINTS = "2.5.29.19";
const EXT_AKI = "2.5.29.35";
/** Critical extensions that only restrict what a key may do; a TLS server certificate with them is still usable for TLS. */
const EXT_TOLERATED = Object.freeze(["2.5.29.15" /* keyUsage */, "2.5.29.37" /* extKeyUsage */, "2.5.29.32" /* certificatePolicies */, "2.5.29.14" /* subjectKeyIdentifier */]);

/** Reads the element at `offset`, which must end by `limit`. DER lengths only: definite, at most 4 length bytes. */
function element(bytes: Uint8Array, offset: number, limit: number, what: string): Element {
  if (offset + 2 > limit) throw new CertificateFormatError(`${what}: truncated`);
  const tag = bytes[offset];
  let length = bytes[offset + 1];
  let content = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new CertificateFormatError(`${what}: unsupported length form`);
    if (content + count > limit) throw new CertificateFormatError(`${what}: truncated length`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[content + i];
    content += count;
  }
  const end = content + length;
  if (end > limit) throw new CertificateFormatError(`${what}: length ${length} runs past its container`);
  return { tag, start: offset, content, end };
}

function expect(bytes: Uint8Array, offset: number, limit: number, tag: number, what: string): Element {
  const e = element(bytes, offset, limit, what);
  if (e.tag !== tag) throw new CertificateFormatError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${e.tag.toString(16)}`);
  return e;
}

/** The children of a constructed element. */
function children(bytes: Uint8Array, parent: Element, what: string): Element[] {
  const out: Element[] = [];
  for (let offset = parent.content; offset < parent.end;) {
    const child = element(bytes, offset, parent.end, what);
    out.push(child);
    offset = child.end;
  }
  return out;
}

function oid(bytes: Uint8Array, e: Element): string {
  if (e.content >= e.end) throw new CertificateFormatError("empty OID");
  const first = bytes[e.content];
  const parts = [first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80];
  let value = 0;
  for (let i = e.content + 1; i < e.end; i++) {
    value = value * 128 + (bytes[i] & 0x7f);
    if ((bytes[i] & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

function digits(bytes: Uint8Array, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = bytes[i] - 0x30;
    if (d < 0 || d > 9) throw new CertificateFormatError("time: not a digit");
    n = n * 10 + d;
  }
  return n;
}

/** UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ (the only forms RFC 5280 4.1.2.5 allows). */
function time(bytes: Uint8Array, e: Element): number {
  const length = e.end - e.content;
  let at = e.content;
  let year: number;
  if (e.tag === TAG.UTC_TIME && length === 13) {
    year = digits(bytes, at, 2);
    year += year < 50 ? 2000 : 1900;
    at += 2;
  } else if (e.tag === TAG.GENERALIZED_TIME && length === 15) {
    year = digits(bytes, at, 4);
    at += 4;
  } else {
    throw new CertificateFormatError("validity: not a UTCTime or GeneralizedTime in Z form");
  }
  if (bytes[e.end - 1] !== 0x5a) throw new CertificateFormatError("validity: time does not end in Z");
  return Date.UTC(year, digits(bytes, at, 2) - 1, digits(bytes, at + 2, 2), digits(bytes, at + 4, 2), digits(bytes, at + 6, 2), digits(bytes, at + 8, 2));
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** Parses one DER certificate. Throws CertificateFormatError when a field the check needs is missing or malformed. */
export function parseCertificate(der: Uint8Array): Certificate {
  const cert = expect(der, 0, der.length, TAG.SEQUENCE, "Certificate");
  if (cert.end !== der.length) throw new CertificateFormatError("bytes after the Certificate");
  const [tbsElement, algorithm, signature] = children(der, cert, "Certificate");
  if (tbsElement?.tag !== TAG.SEQUENCE || algorithm?.tag !== TAG.SEQUENCE || signature?.tag !== TAG.BIT_STRING) {
    throw new CertificateFormatError("Certificate is not tbsCertificate, signatureAlgorithm, signatureValue");
  }
  const algorithmOid = expect(der, algorithm.content, algorithm.end, TAG.OID, "signatureAlgorithm");

  const fields = children(der, tbsElement, "tbsCertificate");
  let i = 0;
  if (fields[i]?.tag === TAG.CONTEXT_0) i++; // version
  if (fields[i]?.tag !== TAG.INTEGER) throw new CertificateFormatError("tbsCertificate: no serialNumber");
  i++;
  if (fields[i]?.tag !== TAG.SEQUENCE) throw new CertificateFormatError("tbsCertificate: no signature algorithm");
  i++;
  const issuer = fields[i++];
  const validity = fields[i++];
  const subject = fields[i++];
  const spki = fields[i++];
  if (issuer?.tag !== TAG.SEQUENCE || validity?.tag !== TAG.SEQUENCE || subject?.tag !== TAG.SEQUENCE || spki?.tag !== TAG.SEQUENCE) {
    throw new CertificateFormatError("tbsCertificate: issuer, validity, subject or subjectPublicKeyInfo missing");
  }
  const [notBefore, notAfter] = children(der, validity, "validity");
  if (notBefore === undefined || notAfter === undefined) throw new CertificateFormatError("validity: two times expected");

  const dnsNames: string[] = [];
  const ipAddresses: Uint8Array[] = [];
  const unhandledCritical: string[] = [];
  let isCa = false;
  let authorityKeyId: Uint8Array | undefined;
  for (; i < fields.length; i++) {
    if (fields[i].tag !== TAG.CONTEXT_3) continue; // issuer/subject unique ids
    const list = expect(der, fields[i].content, fields[i].end, TAG.SEQUENCE, "extensions");
    for (const extension of children(der, list, "extension")) {
      const parts = children(der, extension, "extension");
      const id = oid(der, parts[0]);
      const critical = parts.length === 3 && parts[1].tag === TAG.BOOLEAN && der[parts[1].content] !== 0;
      const value = parts[parts.length - 1];
      if (value?.tag !== TAG.OCTET_STRING) throw new CertificateFormatError(`extension ${id}: no value`);
      if (id === EXT_SAN) {
        const names = expect(der, value.content, value.end, TAG.SEQUENCE, "subjectAltName");
        for (const name of children(der, names, "subjectAltName")) {
          if (name.tag === TAG.SAN_DNS) dnsNames.push(ascii(der, name.content, name.end).toLowerCase());
          else if (name.tag === TAG.SAN_IP) ipAddresses.push(der.slice(name.content, name.end));
        }
      } else if (id === EXT_BASIC_CONSTRAINTS) {
        const constraints = expect(der, value.content, value.end, TAG.SEQUENCE, "basicConstraints");
        const first = children(der, constraints, "basicConstraints")[0];
        isCa = first?.tag === TAG.BOOLEAN && der[first.content] !== 0;
      } else if (id === EXT_AKI) {
        const aki = expect(der, value.content, value.end, TAG.SEQUENCE, "authorityKeyIdentifier");
        const keyId = children(der, aki, "authorityKeyIdentifier").find((e) => e.tag === TAG.KEY_ID);
        if (keyId !== undefined) authorityKeyId = der.slice(keyId.content, keyId.end);
      } else if (critical && EXT_TOLERATED.indexOf(id) === -1) {
        unhandledCritical.push(id);
      }
    }
  }
  return {
    der,
    tbs: der.subarray(tbsElement.start, tbsElement.end),
    signatureAlgorithm: oid(der, algorithmOid),
    issuer: der.subarray(issuer.start, issuer.end),
    subject: der.subarray(subject.start, subject.end),
    notBefore: time(der, notBefore),
    notAfter: time(der, notAfter),
    publicKeyInfo: der.subarray(spki.start, spki.end),
    dnsNames,
    ipAddresses,
    isCa,
    authorityKeyId,
    unhandledCritical,
  };
}

/** The first commonName of a DER Name, printable ASCII only and at most 64 characters: for messages, never for decisions. */
export function commonName(name: Uint8Array): string | undefined {
  try {
    const top = expect(name, 0, name.length, TAG.SEQUENCE, "Name");
    for (const set of children(name, top, "Name")) {
      for (const pair of children(name, set, "RDN")) {
        const [type, value] = children(name, pair, "attribute");
        if (type?.tag === TAG.OID && value !== undefined && oid(name, type) === "2.5.4.3") {
          return ascii(name, value.content, Math.min(value.end, value.content + 64)).replace(/[^\x20-\x7e]/g, "?");
        }
      }
    }
  } catch {
    // A Name we cannot read has no name to show; the decision never depends on this.
  }
  return undefined;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  return s;
}
