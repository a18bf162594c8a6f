// Home Assistant discovery messages whole (the mutation run of src/sampler found the device's manufacturer, the
// sensor test of the value template and the channels without a device class unchecked by the firmware tests).
import { describe, expect, it } from "vitest";
import type { Board } from "../../src/boards/schema";
import { deviceTopics } from "../../src/config/device-topics";
import { discoveryMessages } from "../../src/sampler/discovery";

const board: Board = {
  subplatform: "esp32/test",
  name: "Test board",
  soc: "esp32",
  source: "test",
  pins: { i2c_sda: 21, i2c_scl: 22 },
  sensors: [
    {
      id: "imu",
      driver: "mpu6886",
      bus: "i2c",
      address: 0x68,
      channels: [
        { id: "ax", field: "accelerometer.x", unit: "g", decimals: 3 },
        { id: "t", field: "thermometer.temperature", unit: "°C", decimals: 1, name: "Chip temperature" },
      ],
    },
  ],
};

describe("discoveryMessages", () => {
  // Built inside each test, not while the file is collected: a mutation run switches a mutant on per test.
  const build = () => discoveryMessages(board, "desk", deviceTopics("xsms", "desk"), "ha");

  it("names one config topic per channel under the discovery prefix", () => {
    expect(build().map((m) => m.topic)).toEqual(["ha/sensor/desk_ax/config", "ha/sensor/desk_t/config"]);
  });

  it("writes the whole config of a channel without a device class", () => {
    expect(JSON.parse(build()[0].payload)).toEqual({
      name: "ax",
      unique_id: "desk_ax",
      state_topic: "xsms/desk/telemetry",
      value_template:
        "{% if value_json.n == 'imu' %}{{ ((value_json.c.ax[1:] | sum) / 10 ** value_json.c.ax[0]) | round(3) }}" +
        "{% elif is_number(this.state) %}{{ this.state }}{% else %}None{% endif %}",
      unit_of_measurement: "g",
      suggested_display_precision: 3,
      state_class: "measurement",
      availability_topic: "xsms/desk/status",
      payload_available: "online",
      payload_not_available: "offline",
      device: { identifiers: ["xsms_desk"], name: "desk", model: "Test board", manufacturer: "xs-mqtt-sensor" },
    });
  });

  it("adds the driver's device class where the field has one", () => {
    const config = JSON.parse(build()[1].payload) as Record<string, unknown>;
    expect(config.device_class).toBe("temperature");
    expect(config.name).toBe("Chip temperature");
  });
});
