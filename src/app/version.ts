// The firmware's version, shown on the status page and in GET /status.json; kept equal to package.json's (a test checks).
export const FIRMWARE_VERSION = "0.1.0";
