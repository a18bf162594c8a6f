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

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts aedes (in-memory persistence: sessions live as long as this process). QoS 2 from a client is
 * de-duplicated by packet id, so `onMessage` sees each QoS 2 message once.
 */
export async function startEmbeddedBroker(onMessage: (message: BrokerMessage) => void, port = 0): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker();
  aedes.on("publish", (packet, client) => {
    if (packet.topic.startsWith("$SYS/")) return;
    const payload = typeof packet.payload === "string" ? new TextEncoder().encode(packet.payload) : new Uint8Array(packet.payload);
    onMessage({ client: client ? client.id : null, topic: packet.topic, qos: packet.qos, retain: packet.retain, payload });
  });
  const server = net.createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => aedes.close(() => resolve()));
      }),
  };
}
