// Fake of the SDK's `mc/config`: the manifest's config (tests fill sdk().config before importing main.ts).
import { sdk } from "./sdk";

const config: Readonly<Record<string, unknown>> = new Proxy({}, {
  get: (_target, key) => sdk().config[key as string],
  ownKeys: () => Reflect.ownKeys(sdk().config),
  getOwnPropertyDescriptor: (_target, key) => {
    const value = sdk().config[key as string];
    return key in sdk().config ? { value, enumerable: true, configurable: true, writable: false } : undefined;
  },
  has: (_target, key) => key in sdk().config,
});
export default config;
