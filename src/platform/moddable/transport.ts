// TransportFactory on Moddable: the SDK's TCP `Socket` (which resolves the host name itself) or TLS `SecureSocket`,
// handed to socket-link.ts, and the SDK's crypto and resources for tls-check.ts; both hold the logic and are tested
// on Node with fakes.
import { Digest } from "crypt";
import Modules from "modules";
import Resource from "Resource";
import { Socket } from "socket";
import Timer from "timer";
import SecureSocket from "securesocket";
import type { TransportFactory } from "../../ports";
import { createSocketLinkFactory, type RawSocket, type SdkSockets, type SocketLinkOptions } from "./socket-link";
import type { DeviceTlsSdk, X509Module } from "./tls-check";

export type SocketTransportOptions = SocketLinkOptions;

const sdkSockets: SdkSockets = {
  openSocket: (dictionary) => new Socket(dictionary) as unknown as RawSocket,
  openSecureSocket: (dictionary) => new SecureSocket(dictionary) as unknown as RawSocket,
  later(callback) {
    const timer = Timer.set(callback, 0);
    return () => Timer.clear(timer);
  },
};

/** One factory per broker; each call opens one connection attempt. */
export function createSocketTransportFactory(options: SocketTransportOptions): TransportFactory {
  return createSocketLinkFactory(sdkSockets, options);
}

/** SHA-256, the x509 module and resources from the SDK, for the broker check (tls-check.ts). */
export const deviceTlsSdk: DeviceTlsSdk = {
  sha256(bytes) {
    const digest = new Digest("SHA256");
    digest.write(bytes.slice().buffer);
    return new Uint8Array(digest.close());
  },
  x509: () => (Modules.has("x509") ? (Modules.importNow("x509") as X509Module) : undefined),
  resource: (name) => (Resource.exists(name) ? new Uint8Array(new Resource(name).slice(0)) : undefined),
};
