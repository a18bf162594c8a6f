// Test helper: Node's crypto as the platform of the broker check (src/tls/peer-check.ts).
import { createHash, X509Certificate } from "node:crypto";
import type { PeerCheckPorts } from "../../src/tls/peer-check";

/** Node's crypto as the platform; `anchors` are the trusted DER certificates. */
export function nodePorts(anchors: readonly Uint8Array[]): PeerCheckPorts & { signatureChecks: number } {
  const ports = {
    signatureChecks: 0,
    sha256: (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest()),
    verifySignature(issuer: Uint8Array, subject: Uint8Array) {
      ports.signatureChecks++;
      return new X509Certificate(subject).verify(new X509Certificate(issuer).publicKey);
    },
    trustAnchorsFor: () => anchors,
  };
  return ports;
}

