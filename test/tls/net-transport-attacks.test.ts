// The Node transport (src/platform/node/net-transport.ts) against the fake servers of issue 10: each refusal is a
// TransportError naming the real cause (no "mqtt_ca"), permanent where retrying cannot help, and no MQTT byte leaves.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TransportError } from "../../src/errors";
import { netTransport, type NetTransportOptions } from "../../src/platform/node/net-transport";
import { parsePins } from "../../src/tls/pins";
import { makeAttackPki, type AttackPki } from "./attack-pki";
import { findOpenssl } from "./certs";
import { CLOSE_NOTIFY_RECORD, startChainServer, startRawAnswerServer, tls10ServerHello, type FakeTlsServer } from "./fake-tls-servers";
import { underCi } from "../support/ci";

const CI = underCi();
const skip = !CI && findOpenssl() === undefined;

const CONNECT = new Uint8Array([0x10, 0x0c, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 60, 0, 0]);

/** Opens one link; writes CONNECT if it opens; resolves with how it ended. */
function attempt(options: NetTransportOptions): Promise<{ opened: boolean; error: Error | undefined }> {
  return new Promise((resolve) => {
    let opened = false;
    const transport = netTransport(options)({
      onConnect: () => {
        opened = true;
        transport.write(CONNECT);
        setTimeout(() => {
          transport.close(); // no onClose follows our own close()
          resolve({ opened, error: undefined });
        }, 300);
      },
      onData: () => undefined,
      onWritable: () => undefined,
      onClose: (error) => resolve({ opened, error }),
    });
    setTimeout(() => {
      transport.close();
      resolve({ opened, error: new Error("timed out") });
    }, 10_000);
  });
}

describe.skipIf(skip)("Node transport against the fake TLS servers", () => {
  let pki: AttackPki;
  const servers: FakeTlsServer[] = [];
  beforeAll(() => {
    pki = makeAttackPki("ec");
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    pki?.dispose();
  });

  it("an early close_notify alert: refused as TLS, nothing sent after it", async () => {
    const server = await startRawAnswerServer(CLOSE_NOTIFY_RECORD);
    servers.push(server);
    const { opened, error } = await attempt({ host: "127.0.0.1", port: server.port, tls: true, ca: pki.ca.pem });
    expect(opened).toBe(false);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ failure: "tls" });
    expect(error?.message).not.toMatch(/mqtt_ca/);
    expect(server.received.flat()).toEqual([]);
  });

  it("a TLS 1.0 server hello: refused as TLS, permanent, naming the version", async () => {
    const server = await startRawAnswerServer(tls10ServerHello());
    servers.push(server);
    const { opened, error } = await attempt({ host: "127.0.0.1", port: server.port, tls: true, ca: pki.ca.pem });
    expect(opened).toBe(false);
    expect(error).toMatchObject({ failure: "tls", permanent: true });
    expect(error?.message).toMatch(/older than 1\.2|TLS handshake/);
    expect(server.received.flat().some((chunk) => chunk.includes(0x10) && chunk.includes("MQTT"))).toBe(false);
  });

  it("the forged chain: refused as a certificate failure, permanent, CONNECT never sent", async () => {
    const server = await startChainServer(pki.attacker.pem + pki.broker.pem, pki.attacker.keyPem);
    servers.push(server);
    const { opened, error } = await attempt({ host: "127.0.0.1", port: server.port, tls: true, ca: pki.ca.pem });
    expect(opened).toBe(false);
    expect(error).toMatchObject({ failure: "certificate", permanent: true });
    expect(error?.message).toMatch(/self-signed|not signed by a CA/);
    expect(error?.message).not.toMatch(/mqtt_ca/);
    expect(server.received.flat()).toEqual([]);
  });

  it("the forged chain against a pin of the genuine broker key: refused by our check, naming the key it saw", async () => {
    const server = await startChainServer(pki.attacker.pem + pki.broker.pem, pki.attacker.keyPem);
    servers.push(server);
    const pins = parsePins(pki.spkiSha256(pki.broker)) as Uint8Array[];
    const { opened, error } = await attempt({ host: "127.0.0.1", port: server.port, tls: true, pins });
    expect(opened).toBe(false);
    expect(error).toMatchObject({ failure: "certificate", permanent: true });
    expect(error?.message).toContain(pki.spkiSha256(pki.attacker));
    expect(server.received.flat()).toEqual([]);
  });

  it("a self-signed broker whose key is pinned: opens, and CONNECT arrives encrypted at the broker as sent", async () => {
    const server = await startChainServer(pki.selfSigned.pem, pki.selfSigned.keyPem);
    servers.push(server);
    const pins = parsePins(pki.spkiSha256(pki.selfSigned)) as Uint8Array[];
    const { opened } = await attempt({ host: "127.0.0.1", port: server.port, tls: true, pins });
    expect(opened).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(Buffer.concat(server.received.flat())).toEqual(Buffer.from(CONNECT));
  });

  it("a broker whose pinned key is right but whose certificate does not name the host dialled: refused", async () => {
    const server = await startChainServer(pki.otherHost.pem, pki.otherHost.keyPem);
    servers.push(server);
    const pins = parsePins(pki.spkiSha256(pki.otherHost)) as Uint8Array[];
    const { opened, error } = await attempt({ host: "127.0.0.1", port: server.port, tls: true, pins });
    expect(opened).toBe(false);
    expect(error).toMatchObject({ failure: "certificate", permanent: true, message: expect.stringMatching(/does not name "127\.0\.0\.1"/) });
  });

  it("a plain TCP refusal is a transient tcp failure", async () => {
    const server = await startRawAnswerServer(CLOSE_NOTIFY_RECORD);
    const port = server.port;
    await server.close();
    const { error } = await attempt({ host: "127.0.0.1", port });
    expect(error).toMatchObject({ failure: "tcp", permanent: false });
  });
});
