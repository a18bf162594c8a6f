// Fake of the SDK's `instrumentation` (typings/instrumentation.d.ts): map(name) gives an index, get(index) its value.
import { sdk } from "./sdk";

const Instrumentation = {
  map(name: string): number | undefined {
    return sdk().instrumentation.get(name)?.index;
  },
  get(what: number | undefined): number | undefined {
    for (const entry of sdk().instrumentation.values()) if (entry.index === what) return entry.value;
    return undefined;
  },
  name(what: number | undefined): string | undefined {
    for (const [name, entry] of sdk().instrumentation) if (entry.index === what) return name;
    return undefined;
  },
};
export default Instrumentation;
