// Fake of the SDK's `net` module (typings/net.d.ts): Net.get(property) from the fakes' state; throws for a property
// the platform does not have when the test says so.
import { sdk } from "./sdk";

const Net = {
  get(property: string): string | number | undefined {
    if (sdk().netThrows.has(property)) throw new Error(`Net.get: ${property} not supported`);
    return sdk().net[property];
  },
  resolve(host: string, callback: (name: string, address: string | undefined) => void): void {
    callback(host, undefined);
  },
};
export default Net;
