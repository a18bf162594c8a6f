// SocketTransport (src/platform/moddable/transport.ts, TCP part) against the fake SDK Socket: connect, partial writes
// with write credits, reads, errors before and after connecting, a constructor that throws, a write that throws, and
// close() silencing everything. The TLS part (SecureSocket) is tested with the TLS work, not here.
import { beforeEach, describe, expect, it } from "vitest";
import { createSocketTransportFactory } from "../../src/platform/moddable/transport";
import type { TransportHandlers } from "../../src/ports";
import { advance, lastSocket, liveTimers, net, resetSdk, sdk } from "./fakes/sdk";

interface Seen {
  events: string[];
  data: number[];
  closes: Array<string | undefined>;
}

function open(): { transport: ReturnType<ReturnType<typeof createSocketTransportFactory>>; seen: Seen } {
  const seen: Seen = { events: [], data: [], closes: [] };
  const handlers: TransportHandlers = {
    onConnect: () => seen.events.push("connect"),
    onData: (bytes) => {
      seen.events.push(`data ${bytes.length}`);
      seen.data.push(...bytes);
    },
    onWritable: () => seen.events.push("writable"),
    onClose: (error) => {
      seen.events.push("close");
      seen.closes.push(error?.message);
    },
  };
  const transport = createSocketTransportFactory({ host: "broker.local", port: 1883 })(handlers);
  return { transport, seen };
}

const bytes = (n: number, from = 0) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

describe("Moddable socket transport (TCP)", () => {
  beforeEach(() => {
    resetSdk();
  });

  it("opens a TCP socket to host:port and reports the connection", () => {
    const { seen } = open();
    expect(lastSocket().options).toEqual({ host: "broker.local", port: 1883 });
    expect(seen.events).toEqual([]);
    net.connect(lastSocket());
    expect(seen.events).toEqual(["connect"]);
  });

  it("accepts nothing before the socket is connected", () => {
    const { transport } = open();
    expect(transport.write(bytes(10))).toBe(0);
    expect(lastSocket().sent).toEqual([]);
  });

  it("writes only what the socket has room for, then reports writable once room comes back", () => {
    const { transport, seen } = open();
    const socket = lastSocket();
    net.connect(socket);
    socket.room = 4;
    expect(transport.write(bytes(10))).toBe(4);
    expect(socket.sent).toEqual([0, 1, 2, 3]);
    // A writable message with no room yet is not passed on.
    socket.callback?.(3, 0);
    expect(seen.events).toEqual(["connect"]);
    net.drain(socket, 6);
    expect(seen.events).toEqual(["connect", "writable"]);
    expect(transport.write(bytes(6, 4))).toBe(6);
    expect(socket.sent).toEqual([...bytes(10)]);
    // Writable again without a short write in between: nobody asked, nothing is said.
    net.drain(socket, 100);
    expect(seen.events).toEqual(["connect", "writable"]);
  });

  it("with no room at all accepts 0 bytes and sends nothing (the SDK would throw on a write that does not fit)", () => {
    const { transport, seen } = open();
    const socket = lastSocket();
    net.connect(socket);
    socket.room = 0;
    expect(transport.write(bytes(3))).toBe(0);
    expect(socket.sent).toEqual([]);
    net.drain(socket, 3);
    expect(seen.events.at(-1)).toBe("writable");
  });

  it("passes every received byte on, and ignores an empty readable", () => {
    const { seen } = open();
    const socket = lastSocket();
    net.connect(socket);
    net.receive(socket, bytes(5));
    socket.callback?.(2, 0);
    net.receive(socket, bytes(3, 100));
    expect(seen.data).toEqual([0, 1, 2, 3, 4, 100, 101, 102]);
    expect(seen.events).toEqual(["connect", "data 5", "data 3"]);
  });

  it("a socket error before the connection is a failed attempt that says what to check", () => {
    const { seen } = open();
    net.error(lastSocket());
    expect(seen.closes).toEqual(["TCP connect to broker.local:1883 failed (socket error): check mqtt_host, mqtt_port and the network"]);
    // Closed on the next turn, never inside the SDK's callback (mcsim's lin Socket crashes on a GC in between).
    expect(lastSocket().closed).toBe(false);
    advance(0);
    expect(lastSocket().closed).toBe(true);
  });

  it("the peer going away after the connection is a lost link, reported once; the transport is then dead", () => {
    const { transport, seen } = open();
    const socket = lastSocket();
    net.connect(socket);
    net.disconnect(socket);
    expect(seen.closes).toEqual(["TCP link to broker.local:1883 lost (disconnected by the broker)"]);
    net.error(socket); // late callbacks of a closed socket are ignored
    net.receive(socket, bytes(2));
    expect(seen.closes).toHaveLength(1);
    expect(seen.data).toEqual([]);
    expect(transport.write(bytes(1))).toBe(0);
  });

  it("a write the SDK throws on is reported as a lost link on a later turn, never from inside write()", () => {
    const { transport, seen } = open();
    const socket = lastSocket();
    net.connect(socket);
    socket.failWrites = "write failed";
    expect(transport.write(bytes(4))).toBe(0);
    expect(seen.closes).toEqual([]);
    advance(0);
    expect(socket.closed).toBe(true);
    expect(seen.closes).toEqual(["TCP write failed: write failed"]);
    expect(transport.write(bytes(4))).toBe(0);
  });

  it("a constructor that throws (network down, DNS queue full) is a failed attempt reported on the next turn", () => {
    sdk().socketConstructorError = "DNS queue full";
    const { seen } = open();
    expect(seen.closes).toEqual([]);
    advance(0);
    expect(seen.closes).toEqual(["TCP connect to broker.local:1883 failed: DNS queue full"]);
  });

  it("close() closes the socket, cancels a pending failure report, and nothing is reported after it", () => {
    sdk().socketConstructorError = "network down";
    const failed = open();
    failed.transport.close();
    advance(10);
    expect(failed.seen.closes).toEqual([]);
    expect(liveTimers()).toEqual([]);

    sdk().socketConstructorError = undefined;
    const { transport, seen } = open();
    const socket = lastSocket();
    net.connect(socket);
    transport.close();
    advance(0);
    expect(socket.closed).toBe(true);
    net.disconnect(socket);
    expect(seen.closes).toEqual([]);
    expect(transport.write(bytes(1))).toBe(0);
  });
});
