// Node adapter: the board's sensors on the desktop, where no bus exists: every sensor is the simulated one with its driver's sample() shape.
import type { BoardSensor } from "../../boards/schema";
import type { FirmwareConfig } from "../../config/defaults";
import type { Sensor } from "../../sensors/sensor";
import { createSimulatedSensor } from "../../sensors/simulated";

/**
 * DevicePlatform.createSensor for Node: a "sim" sensor and an I2C or analog one alike become the simulated
 * sensor of the same driver, seeded by config.sim_seed, the sensor id and the boot, so a board file for real
 * hardware also runs in the simulator with the same payload shape, and a reboot does not replay the last boot's values.
 */
export function createNodeSensor(spec: BoardSensor, _board: unknown, config: FirmwareConfig, boot: number): Sensor {
  return createSimulatedSensor(spec.driver, config.sim_seed, spec.id, boot);
}
