// TransportFactory on Moddable: the SDK's TCP `Socket` (which resolves the host name itself) or TLS `SecureSocket`,
// handed to socket-link.ts, which holds the logic (and is tested on Node with fakes of both).
import { Socket } from "socket";
import Timer from "timer";
import SecureSocket from "securesocket";
import type { TransportFactory } from "../../ports";
import { createSocketLinkFactory, type RawSocket, type SdkSockets, type SocketLinkOptions } from "./socket-link";

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
