// XS entry that freezes the built-in prototypes as Moddable does on a device, then builds every error class of ours.
// An error constructor that assigns `this.name` would throw here ("set name: not writable"), as it does on ESP32.
import { ConfigError, ConnectionRefusedError, ProtocolError, QueueFullError, StorageError } from "../../../src/errors";
import { ConfigErrors } from "../../../src/config/parse";
import { BoardError } from "../../../src/boards/validate";
import { PayloadError } from "../../../src/sampler/payload";
import { decodeUtf8 } from "../../../src/mqtt/utf8";
import { serveCommands } from "./xs-host";

for (const intrinsic of [Object, Function, Array, Error, TypeError, RangeError, String, Number, Uint8Array]) {
  Object.freeze(intrinsic.prototype);
}

serveCommands((command) => {
  const op = (command as { op: string }).op;
  if (op === "errors") {
    const built: Error[] = [
      new ProtocolError("PUBLISH", "bad", "[MQTT-3.3.2-2]"),
      new ConfigError("mqtt_port", "bad"),
      new StorageError("bad", "o/1"),
      new ConnectionRefusedError(4, "bad", false),
      new QueueFullError("bad"),
      new ConfigErrors([new ConfigError("ssid", "bad")]),
      new BoardError("boards/lin.json", [{ field: "pins.led", message: "bad" }]),
      new PayloadError("bad"),
    ];
    return built.map((error) => ({ name: error.name, message: error.message, isError: error instanceof Error }));
  }
  if (op === "long-ascii") {
    // A long ASCII run decoded at once: the device's stack allows a few hundred arguments per call, not thousands.
    const bytes = new Uint8Array(5000).fill(0x61);
    return decodeUtf8(bytes).length;
  }
  throw new Error(`unknown op ${op}`);
});
