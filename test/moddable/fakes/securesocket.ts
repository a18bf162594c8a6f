// Fake of the SDK's `securesocket` (typings/securesocket.d.ts; modules/crypt/securesocket/securesocket.js, SDK 8.2.3):
// the SecureSocket and SSLSession fakes of test/tls/fake-securesocket.ts (written from the SDK's code: the session is
// `new Session({tls_server_name: dict.host, ...dict.secure})`, callback 1 only after handshake() says done, any
// exception -> callback -2 then close), made the module's default export and recorded in the fakes' state.
// - SecureSocket first makes its TCP Socket (`dict.sock ?? new Socket(dict)`), so the TCP fake's constructor error
//   (network down, DNS queue full) is thrown here too.
// - The session's CertificateManager `_verify(spki, x509)` (ssl_cert.js: does the issuer's key sign the certificate?)
//   is Node's X.509 verify over what the `x509` fake (./x509.ts) decoded, so a chain to a CA is checked for real.
import { X509Certificate } from "node:crypto";
import { FakeSecureSocket } from "../../tls/fake-securesocket";
import { sdk } from "./sdk";
import { decodedDer } from "./x509";

export default class SecureSocket extends FakeSecureSocket {
  /** The dictionary the adapter passed (host, port, secure). */
  readonly dictionary: { host: string; port: number; secure: Record<string, unknown> };

  constructor(dictionary: { host: string; port: number; secure: Record<string, unknown> }) {
    const error = sdk().socketConstructorError;
    if (error !== undefined) throw new Error(error);
    super(dictionary);
    this.dictionary = dictionary;
    const manager = this.session.certificateManager;
    if (manager !== undefined) {
      // The fake manager's prototype is frozen, as the SDK's preloaded class is: an own property, defined.
      Object.defineProperty(manager, "_verify", {
        value: (spki: unknown, x509: unknown): boolean => {
          const issuer = decodedDer(spki);
          const subject = decodedDer(x509);
          if (issuer === undefined || subject === undefined) throw new Error("_verify: not what x509 decoded");
          return new X509Certificate(Buffer.from(subject)).verify(new X509Certificate(Buffer.from(issuer)).publicKey);
        },
      });
    }
    sdk().secureSockets.push(this);
  }
}
