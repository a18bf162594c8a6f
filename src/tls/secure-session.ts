// When a Moddable SDK TLS session may be called open, and how to make it hand us the broker's chain: read from the SDK's
// own code (modules/crypt/ssl, SDK 8.2.3; docs/tls-sdk-flaws.md), with no SDK import so Node and XS test it.
//
// The SDK's handshake() returns "done" in three cases: Finished received (a real handshake), or any `alert` recorded
// on the session: a close_notify from the server, or the protocol_version alert it records itself when the server
// hello is older than `protocolVersion`. SecureSocket then reports "connected" in all three, and its records go
// out with no cipher when none was agreed. So "open" here means: no alert, both directions' ciphers set up, the
// Finished step passed (it deletes `certificateManager`), the broker's chain passed OUR check, and the key
// exchange was RSA key transport. The SDK's (EC)DHE key exchange skips the server's signature when the broker
// says its hash or signature algorithm is "none"/"anonymous" (ssl_handshake.js serverKeyExchange), so with it
// anyone holding the broker's public certificate could complete the handshake; with RSA the premaster secret is
// encrypted to the leaf's key and only its holder can finish.
import { TransportError } from "../errors";

/** The fields of the SDK's SSLSession (session_original.js) this module reads; all optional because it is foreign. */
interface SessionFields {
  alert?: unknown;
  clientCipher?: unknown;
  serverCipher?: unknown;
  certificateManager?: unknown;
  connectionEnd?: unknown;
  chosenCipher?: unknown;
}

/** ssl_constants.js `RSA`: the keyExchangeAlgorithm of the suites whose premaster secret is encrypted to the leaf's key. */
export const SDK_KEY_EXCHANGE_RSA = 0;

export type HandshakeVerdict = { readonly open: true } | { readonly open: false; readonly error: TransportError };

/** TLS alert descriptions (RFC 5246 7.2) a broker is likely to send, for messages. */
const ALERT_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: "close_notify",
  10: "unexpected_message",
  20: "bad_record_mac",
  40: "handshake_failure",
  42: "bad_certificate",
  43: "unsupported_certificate",
  45: "certificate_expired",
  46: "certificate_unknown",
  47: "illegal_parameter",
  48: "unknown_ca",
  50: "decode_error",
  51: "decrypt_error",
  70: "protocol_version",
  71: "insufficient_security",
  80: "internal_error",
  112: "unrecognized_name",
});

function fields(session: unknown): SessionFields | undefined {
  return typeof session === "object" && session !== null ? (session as SessionFields) : undefined;
}

function alertDescription(alert: unknown): number | undefined {
  if (typeof alert !== "object" || alert === null) return undefined;
  const description = (alert as { description?: unknown }).description;
  return typeof description === "number" ? description : undefined;
}

/** Names an alert the way a user can act on it. */
export function describeAlert(alert: unknown): string {
  const code = alertDescription(alert);
  if (code === 0) return "the broker closed the TLS handshake (close_notify alert) before any cipher was agreed: is this port really TLS?";
  if (code === 70) return "the broker offered a TLS version older than 1.2 (protocol_version alert); the device requires TLS 1.2";
  if (code === 40) return "the broker and the device share no cipher suite (handshake_failure alert)";
  const name = code === undefined ? "unknown" : ALERT_NAMES[code] ?? `description ${code}`;
  return `the TLS handshake ended with alert ${name}`;
}

/**
 * May the link be called open now that SecureSocket reported "connected"? `chainAccepted` is whether our own
 * chain check (interceptChainCheck) ran on this session and accepted the broker. Every refusal is permanent:
 * a handshake that completes without a cipher or with an old version does so again on every retry.
 */
export function handshakeVerdict(session: unknown, chainAccepted: boolean, endpoint: string): HandshakeVerdict {
  const s = fields(session);
  const refuse = (failure: "tls" | "certificate", reason: string): HandshakeVerdict =>
    ({ open: false, error: new TransportError(failure, `TLS to ${endpoint} refused: ${reason}`, true) });
  if (s === undefined) return refuse("tls", "the SDK's SecureSocket exposes no session to check (SDK changed?); refusing rather than trusting it");
  if (s.alert !== undefined) return refuse("tls", describeAlert(s.alert));
  if (typeof s.clientCipher !== "object" || s.clientCipher === null || typeof s.serverCipher !== "object" || s.serverCipher === null) {
    return refuse("tls", "the handshake ended with no cipher agreed; nothing would be encrypted");
  }
  if ("certificateManager" in s) return refuse("tls", "the handshake ended before the broker's Finished message was checked");
  const exchange = typeof s.chosenCipher === "object" && s.chosenCipher !== null ? (s.chosenCipher as { keyExchangeAlgorithm?: unknown }).keyExchangeAlgorithm : undefined;
  if (exchange !== SDK_KEY_EXCHANGE_RSA) {
    return refuse("tls", "the broker chose an ephemeral (EC)DHE key exchange, whose signature the SDK does not reliably check; the build must offer RSA key exchange only (manifest config tls.ECDHE_RSA and tls.DHE_RSA false, see docs/tls.md)");
  }
  if (!chainAccepted) return refuse("certificate", "the broker's certificate chain was never checked by the device");
  return { open: true };
}

/**
 * What went wrong when SecureSocket reported an error or a disconnect before "connected". `refusal` is what our
 * chain check said, if it refused. Otherwise the session tells whether TCP got through (`connectionEnd` is set
 * when the SDK starts the handshake) and whether the broker sent an alert.
 */
export function handshakeFailure(session: unknown, refusal: TransportError | undefined, endpoint: string, disconnected: boolean): TransportError {
  if (refusal !== undefined) return refusal;
  const s = fields(session);
  if (s?.alert !== undefined) return new TransportError("tls", `TLS to ${endpoint} refused: ${describeAlert(s.alert)}`, true);
  if (s?.connectionEnd === true) {
    return disconnected
      ? new TransportError("tls", `TLS to ${endpoint}: the broker closed the connection during the handshake`, false)
      : new TransportError("tls", `TLS handshake with ${endpoint} failed (the SDK's TLS rejected something the broker sent: cipher, signature or message)`, true);
  }
  return new TransportError("tcp", `TCP connect to ${endpoint} failed (${disconnected ? "disconnected" : "socket error"}): check mqtt_host, mqtt_port and the network`, false);
}

/** The chain as the SDK hands it to CertificateManager.verify: an array of Uint8Array (or ArrayBuffer) DER certificates. */
function toChain(certs: unknown): Uint8Array[] | undefined {
  if (!Array.isArray(certs)) return undefined;
  const out: Uint8Array[] = [];
  for (const cert of certs as unknown[]) {
    if (cert instanceof Uint8Array) out.push(cert.slice());
    else if (cert instanceof ArrayBuffer) out.push(new Uint8Array(cert.slice(0)));
    else return undefined;
  }
  return out;
}

/**
 * Replaces the SDK's chain check on this one session with `check`, which gets the chain as the broker sent it
 * (leaf first) and returns true to accept. The SDK calls `session.certificateManager.verify(certs, options)` when
 * the Certificate message arrives, before the key exchange whose signature proves the broker holds the leaf's
 * key; a false return makes the SDK throw and SecureSocket report an error. Own property, defined (not assigned):
 * the SDK class is preloaded and frozen, so assigning would hit the override mistake. Returns false when the
 * session does not have that shape: the caller must then refuse to use the link.
 */
export function interceptChainCheck(session: unknown, check: (chain: Uint8Array[]) => boolean): boolean {
  const s = fields(session);
  const manager = s?.certificateManager;
  if (typeof manager !== "object" || manager === null) return false;
  if (typeof (manager as { verify?: unknown }).verify !== "function") return false;
  const verify = (certs: unknown): boolean => {
    const chain = toChain(certs);
    return chain !== undefined && check(chain);
  };
  try {
    Object.defineProperty(manager, "verify", { value: verify, writable: false, configurable: false, enumerable: false });
  } catch {
    return false; // a non-extensible manager: we cannot see the chain, so the link must not be used
  }
  return (manager as { verify?: unknown }).verify === verify;
}
