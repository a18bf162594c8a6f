// The broker check on the device: src/tls/peer-check.ts with the SDK's SHA-256, its X.509 decoder and signature
// code, and the trusted CAs from resources (our mqtt-ca.der, or the SDK's certificate store).
import { Digest } from "crypt";
import Modules from "modules";
import Resource from "Resource";
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
interface X509Module {
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

function resourceBytes(name: string): Uint8Array | undefined {
  return Resource.exists(name) ? new Uint8Array(new Resource(name).slice(0)) : undefined;
}

/** The CA in the SDK's store whose subject key id is `keyId` (the AKI of the certificate it signed). */
function storeAnchor(keyId: Uint8Array | undefined): Uint8Array | undefined {
  if (keyId === undefined || keyId.length !== SKI_BYTES || !Resource.exists(STORE_INDEX)) return undefined;
  const index = new Uint8Array(new Resource(STORE_INDEX).slice(0));
  for (let at = 0; at + SKI_BYTES <= index.length; at += SKI_BYTES) {
    let same = true;
    for (let i = 0; i < SKI_BYTES && same; i++) same = index[at + i] === keyId[i];
    if (same) return resourceBytes(`ca${at / SKI_BYTES}.der`);
  }
  return undefined;
}

function sha256(bytes: Uint8Array): Uint8Array {
  const digest = new Digest("SHA256");
  digest.write(bytes.slice().buffer);
  return new Uint8Array(digest.close());
}

export function createDevicePeerCheck(options: DevicePeerCheckOptions): PeerCheck {
  return (chain, session) => {
    const now = options.now();
    if (now === undefined) {
      // The SDK also refuses certificates while the clock reads 1970 (ssl_cert.js register): wait for SNTP.
      return new TransportError("certificate", "the device does not know the time yet (SNTP), so the broker's certificate dates cannot be checked; retrying", false);
    }
    const checker = (session as { certificateManager?: unknown } | undefined)?.certificateManager as SignatureChecker | undefined;
    const x509 = Modules.has("x509") ? Modules.importNow("x509") as X509Module : undefined;
    if (x509 === undefined || typeof checker?._verify !== "function") {
      return new TransportError("certificate", "this build has no X.509 signature check (SDK x509 module or CertificateManager._verify missing)", true);
    }
    const ca = resourceBytes(BROKER_CA_RESOURCE);
    const ports: PeerCheckPorts = {
      sha256,
      verifySignature(issuer, subject) {
        try {
          return checker._verify(x509.decodeSPKI(issuer), x509.decode(subject)) === true;
        } catch {
          return false; // an algorithm the SDK cannot check verifies nothing
        }
      },
      trustAnchorsFor(cert: Certificate) {
        if (ca !== undefined) return [ca];
        const anchor = storeAnchor(cert.authorityKeyId);
        return anchor === undefined ? [] : [anchor];
      },
    };
    const verdict = checkPeerChain(chain, { host: options.host, pins: options.pins, now }, ports);
    return verdict.trusted ? undefined : new TransportError("certificate", `TLS to ${options.host} refused: ${verdict.reason}`, true);
  };
}
