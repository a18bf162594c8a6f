// Fake TLS servers of issue 10's attacks, on Node `net`/`tls`: each records every byte a client sends after the
// attack, so a test (or a person running the firmware in mcsim) can see whether MQTT went out in clear.
//   close-notify: answers the ClientHello with a plain close_notify alert record, then listens.
//   tls10-hello:  answers with a ServerHello claiming TLS 1.0 (0x0301), then listens.
//   forged-chain: a real TLS server presenting [attacker's self-signed leaf naming the host, genuine broker cert].
import net from "node:net";
import tls from "node:tls";

export interface FakeTlsServer {
  readonly port: number;
  /** Bytes each connection sent after the server's answer (for forged-chain: decrypted application data). */
  readonly received: Buffer[][];
  /** Connections accepted. */
  connections(): number;
  close(): Promise<void>;
}

/** close_notify: record type 21 (alert), TLS 1.2, length 2, level 1 (warning), description 0. */
export const CLOSE_NOTIFY_RECORD = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00]);

/** A minimal ServerHello (RFC 2246 7.4.1.3) with server_version 3.1, TLS_RSA_WITH_AES_128_CBC_SHA, no extensions. */
export function tls10ServerHello(): Buffer {
  const body = Buffer.concat([Buffer.from([0x03, 0x01]), Buffer.alloc(32, 0x5a), Buffer.from([0x00, 0x00, 0x2f, 0x00])]);
  const handshake = Buffer.concat([Buffer.from([0x02, 0x00, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, (handshake.length >> 8) & 0xff, handshake.length & 0xff]), handshake]);
}

/** Listens on 127.0.0.1:`port` (0: any free one) and hands back the server's recordings and a close that ends its connections. */
async function serve(server: net.Server, port: number, received: Buffer[][], sockets: Set<net.Socket>): Promise<FakeTlsServer> {
  const bound = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
  return {
    port: bound,
    received,
    connections: () => received.length,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A raw server that waits for the first bytes (the ClientHello), sends `answer`, and records the rest. */
export async function startRawAnswerServer(answer: Buffer, port = 0, log?: (line: string) => void): Promise<FakeTlsServer> {
  const received: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const after: Buffer[] = [];
    received.push(after);
    let answered = false;
    socket.on("data", (chunk) => {
      if (!answered) {
        answered = true;
        log?.(`client hello, ${chunk.length} bytes; answering ${answer.length} bytes`);
        socket.write(answer);
        return;
      }
      after.push(chunk);
      log?.(`after the answer: ${chunk.length} bytes: ${JSON.stringify(chunk.toString("latin1"))}`);
    });
    socket.on("error", () => undefined);
  });
  return serve(server, port, received, sockets);
}

/** A TLS server presenting `certChainPem` (leaf first) with `keyPem`; records decrypted application data. */
export async function startChainServer(certChainPem: string, keyPem: string, port = 0, log?: (line: string) => void): Promise<FakeTlsServer> {
  const received: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ cert: certChainPem, key: keyPem, minVersion: "TLSv1.2" }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const data: Buffer[] = [];
    received.push(data);
    log?.(`handshake completed (${socket.getCipher().name})`);
    socket.on("data", (chunk) => {
      data.push(chunk);
      log?.(`application data: ${chunk.length} bytes: ${JSON.stringify(chunk.toString("latin1"))}`);
    });
    socket.on("error", () => undefined);
  });
  server.on("tlsClientError", (error) => log?.(`handshake failed: ${error.message}`));
  return serve(server, port, received, sockets);
}
