// Fake of the SDK's `x509` module (modules/crypt/etc/x509.js; no typing ships with the SDK): decode(der) and
// decodeSPKI(der) return opaque objects that only the session's `_verify` reads (./securesocket.ts). Here they keep the
// DER, so that check runs on Node's X.509. A test puts it in the build with sdk().modules.set("x509", x509Module).
const DER = Symbol("der");

interface Decoded {
  readonly [DER]: Uint8Array;
}

export const x509Module = Object.freeze({
  decode: (der: Uint8Array): Decoded => ({ [DER]: der.slice() }),
  decodeSPKI: (der: Uint8Array): Decoded => ({ [DER]: der.slice() }),
});

export function decodedDer(value: unknown): Uint8Array | undefined {
  return typeof value === "object" && value !== null && DER in value ? (value as Decoded)[DER] : undefined;
}
