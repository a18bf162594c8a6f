// What the validator knows about each chip a board may carry: GPIO numbering, and which pads cannot drive an output.
// Source: Espressif datasheets (ESP32 §2.2: GPIO 34-39 are input-only; ESP32-C3 has GPIO 0-21; ESP32-S3 has GPIO 0-48).

export interface SocInfo {
  /** GPIO numbers run from 0 to gpioCount - 1. */
  readonly gpioCount: number;
  /** Pads that are input-only (no output driver): fine for a button or analog input, not for a LED or I2C. */
  readonly inputOnly: readonly number[];
}

/** "host" is the desktop (mcsim, Node simulator): no GPIO at all. */
export const SOCS: { readonly [soc: string]: SocInfo } = Object.freeze({
  esp32: { gpioCount: 40, inputOnly: [34, 35, 36, 37, 38, 39] },
  esp32c3: { gpioCount: 22, inputOnly: [] },
  esp32s3: { gpioCount: 49, inputOnly: [] },
  host: { gpioCount: 0, inputOnly: [] },
});
