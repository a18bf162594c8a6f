// A Moddable Preference over ESP32 NVS that runs out of space as NVS does (engine-neutral: used on Node and in xsnap).
import { NVS_ENTRIES_PER_PAGE, NVS_ENTRY_BYTES, NVS_PAGE_BYTES } from "../../src/store/preference-backend";
import { FakePreference } from "../store/fakes";

/**
 * ESP32 NVS as far as space goes: 126 entries of 32 bytes per 4 KB page, one page kept free for garbage collection;
 * a blob costs an index entry, a chunk header entry and its data in 32-byte entries. ESP-IDF's own Wi-Fi and PHY data
 * take `systemEntries`. A set that does not fit throws as nvs_set_blob's ESP_ERR_NVS_NOT_ENOUGH_SPACE does.
 */
export class NvsSpaceModel extends FakePreference {
  private readonly costs = new Map<string, number>();
  used: number;
  peak = 0;
  readonly limit: number;

  constructor(partitionBytes: number, systemEntries = 60) {
    super();
    this.limit = (Math.floor(partitionBytes / NVS_PAGE_BYTES) - 1) * NVS_ENTRIES_PER_PAGE;
    this.used = systemEntries;
  }

  override set(domain: string, key: string, value: string | boolean | number | ArrayBuffer): void {
    const id = `${domain}/${key}`;
    const size = value instanceof ArrayBuffer ? value.byteLength : typeof value === "string" ? value.length + 1 : 8;
    const cost = 2 + Math.ceil(size / NVS_ENTRY_BYTES);
    const old = this.costs.get(id) ?? 0;
    // Moddable's set() erases the old value first, so its entries are free again by the time the new one is written.
    if (this.used - old + cost > this.limit) throw new Error("nvs set fail");
    super.set(domain, key, value);
    this.used += cost - old;
    this.peak = Math.max(this.peak, this.used);
    this.costs.set(id, cost);
  }

  override delete(domain: string, key: string): void {
    super.delete(domain, key);
    const id = `${domain}/${key}`;
    this.used -= this.costs.get(id) ?? 0;
    this.costs.delete(id);
  }
}

