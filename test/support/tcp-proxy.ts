// Test helper: a loopback TCP proxy between a client and a broker that a test can cut, pause and fragment.
//
//   const proxy = await startTcpProxy({ targetPort: broker.port });
//   proxy.url            // "mqtt://127.0.0.1:<port>": give this to the client
//   proxy.cutAll();      // destroy every open connection (both sides), as a dropped link would
//   proxy.pause();       // stop forwarding bytes (they are held) until resume(); links stay open
//   proxy.fragment(1);   // forward in pieces of at most 1 byte, one piece per event-loop turn; fragment(0) = off
//   proxy.refuse(true);  // new connections are accepted and closed at once
//   await proxy.close();
import net from "node:net";

export interface TcpProxyOptions {
  targetPort: number;
  targetHost?: string;
  /** Port to listen on (default: any free one). */
  port?: number;
}

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Connections currently open through the proxy. */
  readonly openConnections: number;
  /** Connections accepted since start. */
  readonly acceptedConnections: number;
  cutAll(): void;
  pause(): void;
  resume(): void;
  fragment(maxBytes: number): void;
  refuse(on: boolean): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  broker: net.Socket;
}

/** Starts a proxy on 127.0.0.1 forwarding to targetHost:targetPort. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const targetHost = options.targetHost ?? "127.0.0.1";
  const pairs = new Set<Pair>();
  let paused = false;
  let refusing = false;
  let pieceSize = 0;
  let accepted = 0;
  const held: Array<() => void> = [];

  const forward = (from: net.Socket, to: net.Socket) => {
    // Writes are chained so fragmented pieces keep their order across event-loop turns.
    let chain = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      const send = () => {
        chain = chain.then(async () => {
          if (pieceSize <= 0) {
            if (!to.destroyed) to.write(chunk);
            return;
          }
          for (let offset = 0; offset < chunk.length; offset += pieceSize) {
            if (to.destroyed) return;
            to.write(chunk.subarray(offset, offset + pieceSize));
            await new Promise((r) => setImmediate(r));
          }
        });
      };
      if (paused) held.push(send);
      else send();
    });
  };

  const server = net.createServer((client) => {
    accepted++;
    if (refusing) {
      client.destroy();
      return;
    }
    const broker = net.connect({ host: targetHost, port: options.targetPort });
    const pair = { client, broker };
    pairs.add(pair);
    client.setNoDelay(true);
    broker.setNoDelay(true);
    forward(client, broker);
    forward(broker, client);
    const end = () => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      broker.destroy();
    };
    for (const socket of [client, broker]) {
      socket.on("error", end);
      socket.on("close", end);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("tcp proxy: no listening address");
  const port = address.port;

  const cutAll = () => {
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      pair.client.destroy();
      pair.broker.destroy();
    }
    held.length = 0;
  };

  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    get openConnections() {
      return pairs.size;
    },
    get acceptedConnections() {
      return accepted;
    },
    cutAll,
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      for (const send of held.splice(0)) send();
    },
    fragment(maxBytes: number) {
      pieceSize = Math.max(0, Math.floor(maxBytes));
    },
    refuse(on: boolean) {
      refusing = on;
    },
    close() {
      cutAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
