import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { BoardError, validateBoard } from "../../src/boards/validate";
import { SOCS } from "../../src/boards/soc";
import { DRIVERS } from "../../src/sensors/drivers";

const ROOT = join(__dirname, "..", "..");
const BOARDS_DIR = join(ROOT, "boards");

function boardFiles(dir = BOARDS_DIR): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...boardFiles(path));
    else if (name.endsWith(".json")) out.push(relative(ROOT, path).replace(/\\/g, "/"));
  }
  return out.sort();
}

function load(file: string): Record<string, any> {
  return JSON.parse(readFileSync(join(ROOT, file), "utf8"));
}

function problemsOf(data: unknown, file: string): { field: string; message: string }[] {
  try {
    validateBoard(data, file);
  } catch (error) {
    expect(error).toBeInstanceOf(BoardError);
    expect((error as Error).message).toContain(file);
    return [...(error as BoardError).problems];
  }
  throw new Error("validateBoard accepted a broken board");
}

const NODEMCU = "boards/esp32/nodemcu.json";

describe("boards/*.json", () => {
  it("has the required subplatforms", () => {
    const files = boardFiles();
    for (const required of ["esp32/nodemcu", "esp32/m5stack", "esp32/m5atom_lite", "esp32/esp32c3", "esp32/esp32s3", "lin"]) {
      expect(files).toContain(`boards/${required}.json`);
    }
  });

  for (const file of boardFiles()) {
    it(`${file} passes validation and names its pin source`, () => {
      const board = validateBoard(load(file), file);
      expect(board.source).toMatch(/Moddable SDK [0-9a-f]{8}/);
      expect(board.sensors.length).toBeGreaterThan(0);
      for (const sensor of board.sensors) expect(Object.keys(DRIVERS)).toContain(sensor.driver);
    });
  }
});

describe("validateBoard", () => {
  it("converts hex addresses to numbers", () => {
    const board = validateBoard(load(NODEMCU), NODEMCU);
    expect(board.sensors[0].address).toBe(parseInt(load(NODEMCU).sensors[0].address.slice(2), 16));
  });

  it("names a pin conflict", () => {
    const data = load(NODEMCU);
    data.pins.led = data.pins.i2c_sda;
    expect(problemsOf(data, NODEMCU)).toEqual([{ field: "pins.led", message: expect.stringContaining("pin conflict") }]);
  });

  it("names a pin the SoC does not have, and an output on an input-only pad", () => {
    const data = load(NODEMCU);
    data.pins.button = SOCS.esp32.gpioCount;
    data.pins.led = SOCS.esp32.inputOnly[0];
    const problems = problemsOf(data, NODEMCU);
    expect(problems.map((p) => p.field).sort()).toEqual(["pins.button", "pins.led"]);
    expect(problems.find((p) => p.field === "pins.led")!.message).toContain("input-only");
  });

  it("names an unknown sensor driver", () => {
    const data = load(NODEMCU);
    data.sensors[0].driver = "dht22";
    const problems = problemsOf(data, NODEMCU);
    expect(problems[0]).toEqual({ field: "sensors[0].driver", message: expect.stringContaining('unknown sensor driver "dht22"') });
  });

  it("names a bad bus and a bad address", () => {
    const bus = load(NODEMCU);
    bus.sensors[0].bus = "spi";
    expect(problemsOf(bus, NODEMCU).map((p) => p.field)).toContain("sensors[0].bus");
    const address = load(NODEMCU);
    address.sensors[0].address = "0x10";
    expect(problemsOf(address, NODEMCU)).toEqual([{ field: "sensors[0].address", message: expect.stringContaining("answers only at") }]);
    const reserved = load(NODEMCU);
    reserved.sensors[0].address = "0x7f";
    expect(problemsOf(reserved, NODEMCU)[0].field).toBe("sensors[0].address");
  });

  it("names two sensors on one I2C address", () => {
    const file = "boards/esp32/m5stack.json";
    const data = load(file);
    data.sensors[1].driver = data.sensors[0].driver;
    data.sensors[1].address = data.sensors[0].address;
    data.sensors[1].channels = [{ ...data.sensors[0].channels[0], id: "t2" }];
    expect(problemsOf(data, file)).toEqual([{ field: "sensors[1].address", message: expect.stringContaining("address conflict") }]);
  });

  it("names a channel field the driver's sample() lacks, and a wrong unit", () => {
    const data = load(NODEMCU);
    data.sensors[0].channels[0].field = "thermometer.temp";
    data.sensors[0].channels[1].unit = "g/m3";
    expect(problemsOf(data, NODEMCU).map((p) => p.field)).toEqual(["sensors[0].channels[0].field", "sensors[0].channels[1].unit"]);
  });

  it("names duplicate channel ids, bad decimals and deadband, and unknown fields", () => {
    const data = load(NODEMCU);
    data.sensors[0].channels[1].id = data.sensors[0].channels[0].id;
    data.sensors[0].channels[2].decimals = 9;
    data.sensors[0].channels[2].deadband = "lots";
    data.sensors[0].colour = "red";
    expect(problemsOf(data, NODEMCU).map((p) => p.field).sort()).toEqual(
      ["sensors[0].channels[1].id", "sensors[0].channels[2].deadband", "sensors[0].channels[2].decimals", "sensors[0].colour"].sort(),
    );
  });

  it("requires the file name to match the subplatform", () => {
    expect(problemsOf(load(NODEMCU), "boards/esp32/m5stack.json")).toEqual([{ field: "subplatform", message: expect.stringContaining("file name") }]);
  });

  it("keeps simulated sensors on the desktop and real buses off it", () => {
    const lin = load("boards/lin.json");
    lin.sensors[0].bus = "i2c";
    lin.sensors[0].address = "0x77";
    expect(problemsOf(lin, "boards/lin.json")[0].field).toBe("sensors[0].bus");
    const esp = load(NODEMCU);
    esp.sensors[0].bus = "sim";
    delete esp.sensors[0].address;
    expect(problemsOf(esp, NODEMCU)[0]).toEqual({ field: "sensors[0].bus", message: expect.stringContaining("desktop") });
  });

  it("names missing top-level fields", () => {
    expect(problemsOf({ subplatform: "lin", pins: {}, sensors: [] }, "boards/lin.json").map((p) => p.field)).toEqual(["name", "source", "soc"]);
  });
});
