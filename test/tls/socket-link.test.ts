// The Moddable transport's TLS rule (src/platform/moddable/socket-link.ts) driven through fakes of the SDK's
// SecureSocket written from its code (fake-securesocket.ts): a link is open only after a real handshake whose
// chain our check accepted. Each attack of issue 10 is replayed: early close_notify, old server hello, forged chain.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TransportError } from "../../src/errors";
import { createSocketLinkFactory, type PeerCheck } from "../../src/platform/moddable/socket-link";
import type { Transport } from "../../src/ports";
import { checkPeerChain } from "../../src/tls/peer-check";
import { makeAttackPki, type AttackPki } from "./attack-pki";
import { findOpenssl } from "./certs";
import { FakePlainSocket, FakeSecureSocket, fakeSdk } from "./fake-securesocket";
import { nodePorts } from "./node-ports";
import { underCi } from "../support/ci";

const CI = underCi();
const skip = !CI && findOpenssl() === undefined;

interface Seen {
  connects: number;
  data: Uint8Array[];
  closes: (Error | undefined)[];
}

function open(sdk: ReturnType<typeof fakeSdk>, peerCheck: PeerCheck | undefined, tls = true): { transport: Transport; seen: Seen; socket: () => FakeSecureSocket } {
  const seen: Seen = { connects: 0, data: [], closes: [] };
  const factory = createSocketLinkFactory(sdk, { host: "127.0.0.1", port: 8883, tls, secure: { protocolVersion: 0x303 }, peerCheck });
  const transport = factory({
    onConnect: () => seen.connects++,
    onData: (bytes) => seen.data.push(bytes),
    onWritable: () => undefined,
    onClose: (error) => seen.closes.push(error),
  });
  return { transport, seen, socket: () => FakeSecureSocket.instances[FakeSecureSocket.instances.length - 1] };
}

const CONNECT = new Uint8Array([0x10, 0x0c, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, 0, 60, 0, 0]);

function onlyClose(seen: Seen): TransportError {
  expect(seen.closes).toHaveLength(1);
  const error = seen.closes[0];
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

describe.skipIf(skip)("Moddable TLS link over the SDK's SecureSocket (fakes written from SDK 8.2.3)", () => {
  let pki: AttackPki;
  let peerCheck: PeerCheck;
  beforeAll(() => {
    pki = makeAttackPki("ec");
    // The device's check with Node's crypto standing in for the SDK's: our mqtt-ca.der is the broker CA.
    peerCheck = (chain) => {
      const verdict = checkPeerChain(chain, { host: "127.0.0.1", pins: [], now: Date.now() }, nodePorts([pki.ca.der]));
      return verdict.trusted ? undefined : new TransportError("certificate", `TLS to 127.0.0.1 refused: ${verdict.reason}`, true);
    };
  });
  afterAll(() => pki?.dispose());
  beforeEach(() => {
    FakeSecureSocket.instances = [];
  });

  it("opens after a real handshake with the genuine chain, and carries data both ways", () => {
    const sdk = fakeSdk();
    const { transport, seen, socket } = open(sdk, peerCheck);
    expect(socket().session.options).toMatchObject({ tls_server_name: "127.0.0.1", protocolVersion: 0x303, cache: false });
    socket().tcpConnected();
    socket().certificate([pki.broker.der, pki.ca.der]);
    expect(socket().session.sdkVerifyCalls).toBe(0); // ours replaced the SDK's check
    socket().finish();
    expect(seen.connects).toBe(1);
    expect(transport.write(CONNECT)).toBe(CONNECT.length);
    expect(socket().written).toHaveLength(1);
    socket().data(new Uint8Array([0x20, 2, 0, 0]));
    expect(seen.data.map((d) => Array.from(d))).toEqual([[0x20, 2, 0, 0]]);
    expect(seen.closes).toEqual([]);
  });

  it("refuses a handshake the broker ends with a plain close_notify alert: nothing is written, the error names the cause", () => {
    const sdk = fakeSdk();
    const { transport, seen, socket } = open(sdk, peerCheck);
    socket().tcpConnected();
    socket().closeNotify(); // SecureSocket reports "connected" here
    expect(seen.connects).toBe(0);
    expect(transport.write(CONNECT)).toBe(0);
    expect(socket().written).toEqual([]);
    // Closed on the next turn, not inside the SDK's callback (the lin Socket crashes on a GC in between).
    expect(socket().closed).toBe(false);
    sdk.runLater();
    expect(socket().closed).toBe(true);
    const error = onlyClose(seen);
    expect(error).toMatchObject({ failure: "tls", permanent: true });
    expect(error.message).toMatch(/close_notify.*before any cipher was agreed/);
  });

  it("refuses a TLS 1.0 server hello (the SDK's protocol_version alert it never throws)", () => {
    const sdk = fakeSdk();
    const { seen, socket } = open(sdk, peerCheck);
    socket().tcpConnected();
    socket().oldServerHello();
    expect(seen.connects).toBe(0);
    const error = onlyClose(seen);
    expect(error).toMatchObject({ failure: "tls", permanent: true });
    expect(error.message).toMatch(/older than 1\.2/);
  });

  it("refuses the forged chain the SDK's own check accepts: attacker's self-signed leaf + genuine broker certificate", () => {
    const sdk = fakeSdk();
    const { transport, seen, socket } = open(sdk, peerCheck);
    socket().session.sdkVerifyAnswer = true; // what ssl_cert.js answered for this chain
    socket().tcpConnected();
    socket().certificate([pki.attacker.der, pki.broker.der]);
    expect(seen.connects).toBe(0);
    expect(transport.write(CONNECT)).toBe(0);
    const error = onlyClose(seen);
    expect(error).toMatchObject({ failure: "certificate", permanent: true });
    expect(error.message).toMatch(/does not lead to a trusted CA/);
    expect(error.message).not.toMatch(/mqtt_host, mqtt_port/);
  });

  it("refuses a handshake that completes without our check having seen a chain (resumed or skipped)", () => {
    const sdk = fakeSdk();
    const { seen, socket } = open(sdk, peerCheck);
    socket().tcpConnected();
    socket().finish();
    const error = onlyClose(seen);
    expect(error).toMatchObject({ failure: "certificate", permanent: true });
    expect(error.message).toMatch(/never checked/);
  });

  it("refuses a handshake that reports done with no cipher agreed", () => {
    const sdk = fakeSdk();
    const { seen, socket } = open(sdk, peerCheck);
    socket().tcpConnected();
    socket().certificate([pki.broker.der]);
    socket().finish({ ciphers: false });
    expect(seen.connects).toBe(0);
    expect(onlyClose(seen).message).toMatch(/no cipher agreed/);
  });

  it("refuses an (EC)DHE key exchange, whose signature the SDK may skip: anyone with the public certificate could finish it", () => {
    for (const keyExchange of [6, 2]) {
      const sdk = fakeSdk();
      const { transport, seen, socket } = open(sdk, peerCheck);
      socket().tcpConnected();
      socket().certificate([pki.broker.der, pki.ca.der]); // the genuine chain: public, so it proves nothing alone
      socket().finish({ keyExchange });
      expect(seen.connects).toBe(0);
      expect(transport.write(CONNECT)).toBe(0);
      expect(onlyClose(seen)).toMatchObject({ failure: "tls", permanent: true, message: expect.stringMatching(/RSA key exchange only/) });
    }
  });

  it("names a fatal alert from the broker, and a TCP failure before the handshake as TCP", () => {
    const sdk = fakeSdk();
    const alerted = open(sdk, peerCheck);
    alerted.socket().tcpConnected();
    alerted.socket().fatalAlert(40);
    expect(onlyClose(alerted.seen)).toMatchObject({ failure: "tls", permanent: true, message: expect.stringMatching(/no cipher suite/) });

    const refused = open(sdk, peerCheck);
    refused.socket().socketMessage(-2);
    expect(onlyClose(refused.seen)).toMatchObject({ failure: "tcp", permanent: false, message: expect.stringMatching(/TCP connect to 127\.0\.0\.1:8883 failed/) });

    const dropped = open(sdk, peerCheck);
    dropped.socket().tcpConnected();
    dropped.socket().socketMessage(-1);
    expect(onlyClose(dropped.seen)).toMatchObject({ failure: "tls", permanent: false, message: expect.stringMatching(/closed the connection during the handshake/) });
  });

  it("refuses TLS outright when there is no chain check to install (no peerCheck, or a session of another shape)", () => {
    const sdk = fakeSdk();
    const noCheck = open(sdk, undefined);
    expect(noCheck.seen.closes).toEqual([]); // reported on a later turn, never from inside the factory call
    sdk.runLater();
    expect(noCheck.socket().closed).toBe(true);
    expect(onlyClose(noCheck.seen)).toMatchObject({ failure: "tls", permanent: true });

    const sdk2 = fakeSdk();
    const original = sdk2.openSecureSocket;
    sdk2.openSecureSocket = (dictionary) => {
      const socket = original(dictionary) as FakeSecureSocket;
      delete socket.session.certificateManager;
      return socket;
    };
    const shapeless = open(sdk2, peerCheck);
    sdk2.runLater();
    expect(onlyClose(shapeless.seen).message).toMatch(/cannot check the broker's certificate/);
  });

  it("never closes the SDK socket from inside one of its callbacks (mcsim's lin Socket crashed on the forged chain)", () => {
    const sdk = fakeSdk();
    const runs = [
      (s: FakeSecureSocket) => s.closeNotify(),
      (s: FakeSecureSocket) => s.oldServerHello(),
      (s: FakeSecureSocket) => s.certificate([pki.attacker.der, pki.broker.der]),
      (s: FakeSecureSocket) => s.socketMessage(-1),
    ];
    for (const run of runs) {
      const { seen, socket } = open(sdk, peerCheck);
      socket().tcpConnected();
      run(socket());
      expect(seen.closes).toHaveLength(1);
      sdk.runLater();
      expect(socket().closed).toBe(true);
      expect(socket().closedInsideCallback).toBe(false);
    }
  });

  it("reports a lost link after opening as transient, and nothing after its own close()", () => {
    const sdk = fakeSdk();
    const { transport, seen, socket } = open(sdk, peerCheck);
    socket().tcpConnected();
    socket().certificate([pki.broker.der]);
    socket().finish();
    socket().socketMessage(-1);
    expect(onlyClose(seen)).toMatchObject({ failure: "tls", permanent: false });

    const second = open(sdk, peerCheck);
    second.socket().tcpConnected();
    second.transport.close();
    second.socket().socketMessage(-2);
    expect(second.seen.closes).toEqual([]);
    void transport;
  });

  it("reports a plain TCP connect failure as a TransportError naming the endpoint", () => {
    const sdk = fakeSdk();
    const { seen } = open(sdk, undefined, false);
    const socket = FakePlainSocket.instances[FakePlainSocket.instances.length - 1];
    socket.callback(-2);
    expect(onlyClose(seen)).toMatchObject({ failure: "tcp", permanent: false, message: expect.stringMatching(/127\.0\.0\.1:8883/) });
  });
});
