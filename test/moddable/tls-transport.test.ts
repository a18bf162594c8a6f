// The TLS branch of the Moddable transport (src/platform/moddable/transport.ts) as the platform builds it from config
// (platform.ts): SecureSocket gets mqtt_host as the TLS server name, TLS 1.2 and no session cache; the broker's chain
// goes to our own check with the SDK's SHA-256 (`crypt`), its `x509` module and the mqtt-ca.der resource; a pinned key,
// a CA, a wrong pin, a forged chain, a build without x509 and a network that is down, each end to end through the
// SecureSocket fake (test/moddable/fakes/securesocket.ts, written from securesocket.js).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse";
import { CONFIG_DEFAULTS } from "../../src/config/defaults";
import { ConfigError, TransportError } from "../../src/errors";
import { createModdablePlatform, type ModdablePlatform } from "../../src/platform/moddable/platform";
import type { Logger, Transport } from "../../src/ports";
import { makeAttackPki, type AttackPki } from "../tls/attack-pki";
import { findOpenssl } from "../tls/certs";
import { underCi } from "../support/ci";
import type SecureSocket from "./fakes/securesocket";
import { addResource, advance, resetSdk, sdk } from "./fakes/sdk";
import { x509Module } from "./fakes/x509";

const skip = !underCi() && findOpenssl() === undefined;
const quiet: Logger = { info: () => undefined, warn: () => undefined };

interface Link {
  transport: Transport;
  socket: SecureSocket;
  events: string[];
  errors: Error[];
}

/** A platform from these config keys, with the wall clock set by SNTP (certificate dates need it). */
function platform(config: Record<string, unknown>): ModdablePlatform {
  const built = createModdablePlatform(parseConfig({ mqtt_tls: true, ...config }), {}, quiet);
  built.network.start();
  advance(0); // the static network comes up on the next turn; SNTP starts
  sdk().sntp[0]?.callback(1, Math.floor(Date.now() / 1000));
  return built;
}

function open(built: ModdablePlatform): Link {
  const events: string[] = [];
  const errors: Error[] = [];
  const transport = built.transport({
    onConnect: () => events.push("connect"),
    onData: (bytes) => events.push(`data ${bytes.length}`),
    onWritable: () => events.push("writable"),
    onClose: (error) => {
      events.push("close");
      if (error) errors.push(error);
    },
  });
  const socket = sdk().secureSockets.at(-1) as SecureSocket | undefined;
  if (socket === undefined) throw new Error("no SecureSocket was opened");
  return { transport, socket, events, errors };
}

describe.skipIf(skip)("Moddable TLS transport built from config (SecureSocket, crypt, x509, resources: fakes)", () => {
  let pki: AttackPki;
  beforeAll(() => {
    pki = makeAttackPki("rsa");
  });
  afterAll(() => pki?.dispose());
  beforeEach(() => {
    resetSdk();
    sdk().modules.set("x509", x509Module);
  });

  it("SecureSocket gets mqtt_host as the server name, port 8883 by default, TLS 1.2 and no session cache", () => {
    const link = open(platform({ mqtt_host: "localhost", mqtt_pin_sha256: pki.spkiSha256(pki.selfSigned) }));
    expect(link.socket.dictionary).toEqual({ host: "localhost", port: 8883, secure: { protocolVersion: 0x303, cache: false } });
    expect(link.socket.session.options).toEqual({ tls_server_name: "localhost", protocolVersion: 0x303, cache: false });
    expect(sdk().sockets).toEqual([]); // no plain TCP socket beside it
    const other = open(platform({ mqtt_host: "127.0.0.1", mqtt_port: 9999 }));
    expect(other.socket.dictionary).toMatchObject({ host: "127.0.0.1", port: 9999 });
  });

  it("a pinned broker: the chain goes to our check (the SDK's own is never asked), the link opens, bytes go out", () => {
    const link = open(platform({ mqtt_host: "localhost", mqtt_pin_sha256: pki.spkiSha256(pki.selfSigned) }));
    link.socket.tcpConnected();
    link.socket.certificate([pki.selfSigned.der]);
    expect(link.socket.session.sdkVerifyCalls).toBe(0);
    link.socket.finish();
    expect(link.events).toEqual(["connect"]);
    expect(link.transport.write(new Uint8Array([0x10, 0x00]))).toBe(2);
    expect(link.socket.written).toEqual([new Uint8Array([0x10, 0x00])]);
  });

  it("a key that is not the pinned one is refused, permanently, naming the key it saw", () => {
    const link = open(platform({ mqtt_host: "localhost", mqtt_pin_sha256: pki.spkiSha256(pki.attacker) }));
    link.socket.tcpConnected();
    link.socket.certificate([pki.selfSigned.der]);
    expect(link.events).toEqual(["close"]);
    expect(link.errors[0]).toBeInstanceOf(TransportError);
    expect(link.errors[0]).toMatchObject({ failure: "certificate", permanent: true });
    expect(link.errors[0].message).toContain(pki.spkiSha256(pki.selfSigned));
    expect(link.socket.written).toEqual([]);
  });

  it("without a pin, the chain must lead to the mqtt-ca.der resource (SDK signature check): the genuine one opens, the forged one is refused", () => {
    addResource("mqtt-ca.der", pki.ca.der);
    const built = platform({ mqtt_host: "127.0.0.1" });
    const genuine = open(built);
    genuine.socket.tcpConnected();
    genuine.socket.certificate([pki.broker.der, pki.ca.der]);
    genuine.socket.finish();
    expect(genuine.events).toEqual(["connect"]);
    // The attacker's self-signed leaf followed by the genuine broker certificate (which every client receives).
    const forged = open(built);
    forged.socket.tcpConnected();
    forged.socket.certificate([pki.attacker.der, pki.broker.der]);
    expect(forged.events).toEqual(["close"]);
    expect(forged.errors[0].message).toMatch(/does not lead to a trusted CA/);
  });

  it("the certificate must name mqtt_host", () => {
    addResource("mqtt-ca.der", pki.ca.der);
    const link = open(platform({ mqtt_host: "broker.example" }));
    link.socket.tcpConnected();
    link.socket.certificate([pki.broker.der, pki.ca.der]);
    expect(link.events).toEqual(["close"]);
    expect(link.errors[0].message).toMatch(/does not name "broker\.example"/);
  });

  it("a build without the x509 module refuses every chain rather than trusting it", () => {
    sdk().modules.delete("x509");
    const link = open(platform({ mqtt_host: "localhost", mqtt_pin_sha256: pki.spkiSha256(pki.selfSigned) }));
    link.socket.tcpConnected();
    link.socket.certificate([pki.selfSigned.der]);
    expect(link.errors[0]).toMatchObject({ failure: "certificate", permanent: true, message: expect.stringMatching(/no X\.509 signature check/) });
  });

  it("a SecureSocket that cannot be made (network down) is a failed attempt reported on the next turn", () => {
    const built = platform({ mqtt_host: "localhost" });
    sdk().socketConstructorError = "DNS queue full";
    const link = { events: [] as string[], errors: [] as Error[] };
    built.transport({
      onConnect: () => link.events.push("connect"),
      onData: () => undefined,
      onWritable: () => undefined,
      onClose: (error) => {
        link.events.push("close");
        if (error) link.errors.push(error);
      },
    });
    expect(link.events).toEqual([]);
    advance(0);
    expect(link.events).toEqual(["close"]);
    expect(link.errors[0]).toMatchObject({ failure: "tcp", permanent: false });
    expect(link.errors[0].message).toBe("TLS connect to localhost:8883 failed: DNS queue full");
  });

  it("a pin that is not a SHA-256 digest never falls back to the CA: the platform refuses to build", () => {
    expect(() => createModdablePlatform({ ...CONFIG_DEFAULTS, mqtt_tls: true, mqtt_pin_sha256: "not-a-digest" }, {}, quiet)).toThrow(ConfigError);
  });
});
