// The broker check on the device: src/tls/peer-check.ts with the SDK's SHA-256, its X.509 decoder and signature
// code, and the trusted CAs from resources (our mqtt-ca.der, or the SDK's certificate store). The SDK comes in as
// DeviceTlsSdk (transport.ts builds it from the real modules) so Node tests drive this with fakes.
import { TransportError } from "../../errors";
import { checkPeerChain, type PeerCheckPorts } from "../../tls/peer-check";
import type { Certificate } from "../../tls/x509";
import type { PeerCheck } from "./socket-link";

/** The broker's CA (or its own self-signed certificate), DER, when the build bundles one: docs/moddable.md, TLS. */
export const BROKER_CA_RESOURCE = "mqtt-ca.der";
/** The SDK's certificate store: `ca.ski` is 20-byte subject key ids, entry i is `ca<i>.der` (ssl_cert.js getIndex). */
const STORE_INDEX = "ca.ski";
const SKI_BYTES = 20;

/** The SDK's X.509 decoder (modules/crypt/etc/x509.js), preloaded by tls.json; no typing of it ships with the SDK. */
export interface X509Module {
  decode(der: Uint8Array): unknown;
  decodeSPKI(der: Uint8Array): unknown;
}

/** CertificateManager's signature check (ssl_cert.js `_verify(spki, x509)`), reached through the session. */
interface SignatureChecker {
  _verify(spki: unknown, x509: unknown): unknown;
}

export interface DevicePeerCheckOptions {
  host: string;
  pins: readonly Uint8Array[];
  /** Wall-clock ms, undefined until SNTP has set the clock. */
  now: () => number | undefined;
}

/** What the check needs from the SDK: SHA-256 (`crypt`), the `x509` module if the build has it, resources. */
export interface DeviceTlsSdk {
  sha256(bytes: Uint8Array): Uint8Array;
  x509(): X509Module | undefined;
  /** A bundled resource's bytes (copied to RAM), or undefined when the build has none of that name. */
  resource(name: string): Uint8Array | undefined;
}

/** The CA in the SDK's store whose subject key id is `keyId` (the AKI of the certificate it signed). */
function storeAnchor(sdk: DeviceTlsSdk, keyId: Uint8Array | undefined): Uint8Array | undefined {
  if (keyId === undefined || keyId.length !== SKI_BYTES) return undefined;
  const index = sdk.resource(STORE_INDEX);
  if (index === undefined) return undefined;
  for (let at = 0; at + SKI_BYTES <= index.length; at += SKI_BYTES) {
    let same = true;
    for (let i = 0; i < SKI_BYTES && same; i++) same = index[at + i] === keyId[i];
    if (same) return sdk.resource(`ca${at / SKI_BYTES}.der`);
  }
  return undefined;
}

export function createDevicePeerCheck(options: DevicePeerCheckOptions, sdk: DeviceTlsSdk): PeerCheck {
  return (chain, session) => {
    const now = options.now();
    if (now === undefined) {
      // The SDK also refuses certificates while the clock reads 1970 (ssl_cert.js register): wait for SNTP.
      return new TransportError("certificate", "the device does not know the time yet (SNTP), so the broker's certificate dates cannot be checked; retrying", false);
    }
    const checker = (session as { certificateManager?: unknown } | undefined)?.certificateManager as SignatureChecker | undefined;
    const x509 = sdk.x509();
    if (x509 === undefined || typeof checker?._verify !== "function") {
      return new TransportError("certificate", "this build has no X.509 signature check (SDK x509 module or CertificateManager._verify missing)", true);
    }
    const ca = sdk.resource(BROKER_CA_RESOURCE);
    const ports: PeerCheckPorts = {
      sha256: (bytes) => sdk.sha256(bytes),
      verifySignature(issuer, subject) {
        try {
          return checker._verify(x509.decodeSPKI(issuer), x509.decode(subject)) === true;
        } catch {
          return false; // an algorithm the SDK cannot check verifies nothing
        }
      },
      trustAnchorsFor(cert: Certificate) {
        if (ca !== undefined) return [ca];
        const anchor = storeAnchor(sdk, cert.authorityKeyId);
        return anchor === undefined ? [] : [anchor];
      },
    };
    const verdict = checkPeerChain(chain, { host: options.host, pins: options.pins, now }, ports);
    return verdict.trusted ? undefined : new TransportError("certificate", `TLS to ${options.host} refused: ${verdict.reason}`, true);
  };
}
