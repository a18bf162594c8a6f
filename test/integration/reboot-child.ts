// Child process for the reboot test: our client on a file store, publishing (mode "publish") or only finishing
// what the store holds (mode "finish"). Prints "p <index>" once publish() of that index returned (committed),
// "depth <n>" at start and "done" once everything was acknowledged.
import { MqttClient } from "../../src/mqtt/client";
import { openFlashFileStore } from "../../src/platform/node/flash-file";
import { netTransport } from "../../src/platform/node/net-transport";
import { gatedClock, SENTINEL } from "./harness";

if (process.argv[1]?.endsWith("reboot-child.ts")) {
  const [dir, port, clientId, topic, mode, count] = process.argv.slice(2);
  let finish: (() => void) | undefined;
  const client = new MqttClient(
    { clientId, keepAliveSeconds: 10, backoffBaseMs: 20, backoffCapMs: 200, queueMaxMessages: 5_000, queueMaxBytes: 1024 * 1024 },
    { transport: netTransport({ host: "127.0.0.1", port: Number(port) }), clock: gatedClock(), store: openFlashFileStore(dir, { fsync: false, imageBytes: 1024 * 1024 }), random: Math.random },
    {
      onError: (error) => process.stderr.write(`${error.message}\n`),
      onDelivered: () => finish?.(),
      onConnect: () => finish?.(),
    },
  );
  process.stdout.write(`depth ${client.queueStats().depth}\n`);
  client.start();
  if (mode === "publish") {
    // Odd indexes at QoS 2, even at QoS 1; a burst, then a steady trickle, so a kill finds messages queued and in flight.
    let next = 0;
    const publish = (n: number) => {
      for (let k = 0; k < n && next < Number(count); k++, next++) {
        client.publish(topic, `r:${next}`, { qos: next % 2 === 1 ? 2 : 1 });
        process.stdout.write(`p ${next}\n`);
      }
    };
    publish(100);
    const timer = setInterval(() => {
      publish(2);
      if (next >= Number(count)) clearInterval(timer);
    }, 2);
  } else {
    finish = () => {
      if (client.queueStats().depth > 0) return;
      finish = undefined;
      // After everything else completed, so the witness sees it last.
      client.publish(topic, SENTINEL, { qos: 2 });
      client.end(() => {
        process.stdout.write("done\n");
        process.exit(0);
      });
    };
  }
}
