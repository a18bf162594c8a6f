// Fake of the SDK's `modules` (typings/modules.d.ts): which modules this build includes, and importNow.
import { sdk } from "./sdk";

export default class Modules {
  static has(specifier: string): boolean {
    return sdk().modules.has(specifier);
  }
  static importNow(specifier: string): unknown {
    if (!sdk().modules.has(specifier)) throw new Error(`module "${specifier}" not found`);
    return sdk().modules.get(specifier);
  }
}
