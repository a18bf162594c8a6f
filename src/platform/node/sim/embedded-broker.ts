// The broker a first run needs nothing installed for: aedes in this process on a free 127.0.0.1 port, reporting each message it carries.
import net from "node:net";
import { Aedes } from "aedes";

export interface BrokerMessage {
  /** Client id of the publisher; null for messages the broker publishes itself (wills). */
  client: string | null;
  topic: string;
  qos: number;
  retain: boolean;
  payload: Uint8Array;
}

/** How long close() waits for clients to go on their own. */
const CLOSE_GRACE_MS = 500;

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts aedes (in-memory persistence: sessions live as long as this process). QoS 2 from a client is
 * de-duplicated by packet id, so `onMessage` sees each QoS 2 message once. `port` is tried first; when it is
 * taken (another broker, another simulator), any free port is used instead.
 */
export async function startEmbeddedBroker(onMessage: (message: BrokerMessage) => void, port = 0): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker();
  aedes.on("publish", (packet, client) => {
    if (packet.topic.startsWith("$SYS/")) return;
    const payload = typeof packet.payload === "string" ? new TextEncoder().encode(packet.payload) : new Uint8Array(packet.payload);
    onMessage({ client: client ? client.id : null, topic: packet.topic, qos: packet.qos, retain: packet.retain, payload });
  });
  const server = net.createServer(aedes.handle);
  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      const failed = (error: Error) => reject(error);
      server.once("error", failed);
      server.listen(p, "127.0.0.1", () => {
        server.off("error", failed);
        resolve();
      });
    });
  try {
    await listen(port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (port === 0 || (code !== "EADDRINUSE" && code !== "EACCES")) throw error;
    await listen(0);
  }
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("embedded broker: no listening address");
  const sockets = new Set<net.Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return {
    host: "127.0.0.1",
    port: address.port,
    url: `mqtt://127.0.0.1:${address.port}`,
    // Clients that sent DISCONNECT are given a moment to be seen going cleanly (no will is published for them);
    // what is still open after that is cut.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => aedes.close(() => resolve()));
        const deadline = Date.now() + CLOSE_GRACE_MS;
        const cut = () => {
          if (sockets.size > 0 && Date.now() < deadline) {
            setTimeout(cut, 10);
            return;
          }
          for (const socket of sockets) socket.destroy();
        };
        cut();
      }),
  };
}
