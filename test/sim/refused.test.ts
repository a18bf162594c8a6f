// The simulator against a broker that refuses every CONNECT with return code 5: the deadline line names the refusal.
import net from "node:net";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { removeDir, runSim, tempDir } from "./harness";

const dir = tempDir("refused");
afterAll(() => removeDir(dir));

/** Answers every connection's first bytes with CONNACK return code 5 (not authorized), as a broker whose ACL refuses us. */
function refusingBroker(): Promise<{ port: number; connects: () => number; close: () => void }> {
  let connects = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.once("data", () => {
      connects++;
      socket.write(Uint8Array.of(0x20, 0x02, 0x00, 0x05));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        connects: () => connects,
        close: () => {
          for (const socket of sockets) socket.destroy();
          server.close();
        },
      });
    });
  });
}

describe("xs-mqtt-sim against a broker that refuses (return code 5)", () => {
  it("keeps sampling, does not retry in a loop, and the deadline line names the refusal", async () => {
    const broker = await refusingBroker();
    try {
      const { code, sim } = await runSim(
        ["--broker", `mqtt://127.0.0.1:${broker.port}`, "--samples", "3", "--interval-ms", "100", "--deadline-ms", "4000", "--data-dir", path.join(dir, "d")],
        60_000,
      );
      expect(code).toBe(1);
      expect(sim.stdout + sim.stderr).toMatch(
        /deadline: 1 of 1 device\(s\) not done after 4000 ms .*taken 3\/3, .*not connected \(connection refused: broker says this client is not authorized \(return code 5\): check the broker's ACL for this client id\)/,
      );
      expect(broker.connects()).toBe(1); // the next attempt is minutes away, not a loop
    } finally {
      broker.close();
    }
  });
});
