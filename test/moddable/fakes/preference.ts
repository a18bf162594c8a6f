// Fake of the SDK's `preference` module (typings/preference.d.ts; documentation/files/files.md, class Preference, on
// ESP32 NVS): domain and key names up to 15 characters, values up to 4000 bytes, set() of a missing domain creates it,
// get() of a missing key is undefined, keys() lists a domain. Values are copied in and out, as NVS stores bytes.
import { sdk } from "./sdk";

const NAME_LIMIT = 15;
const VALUE_LIMIT = 4000;

function domainOf(domain: string, create: boolean): Map<string, string | boolean | number | ArrayBuffer> | undefined {
  const prefs = sdk().preferences;
  let map = prefs.get(domain);
  if (map === undefined && create) prefs.set(domain, (map = new Map()));
  return map;
}

const Preference = {
  set(domain: string, key: string, value: string | boolean | number | ArrayBuffer): void {
    if (domain.length > NAME_LIMIT || key.length > NAME_LIMIT) throw new Error("preference: name too long");
    const size = value instanceof ArrayBuffer ? value.byteLength : typeof value === "string" ? value.length : 4;
    if (size > VALUE_LIMIT) throw new Error("preference: value too long");
    sdk().preferenceLog.push(`set ${domain} ${key}`);
    domainOf(domain, true)!.set(key, value instanceof ArrayBuffer ? value.slice(0) : value);
  },
  get(domain: string, key: string): string | boolean | number | ArrayBuffer | undefined {
    const value = domainOf(domain, false)?.get(key);
    return value instanceof ArrayBuffer ? value.slice(0) : value;
  },
  delete(domain: string, key: string): void {
    sdk().preferenceLog.push(`delete ${domain} ${key}`);
    domainOf(domain, false)?.delete(key);
  },
  keys(domain: string): string[] {
    return [...(domainOf(domain, false)?.keys() ?? [])];
  },
};
export default Preference;
