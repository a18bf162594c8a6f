// The flash store's health for the status page: its sectors, their erase counts, and how many years the erases left
// in them last at the rate this boot has erased so far. Pure arithmetic on the flash log's figures (FlashLogStats).
//
// Definitions (README, "Status page"):
//   live sectors  every sector of the partition but the retired ones (a failed erase, verify or program)
//   budget        the sum over live sectors of max(0, ENDURANCE - erase count): the erases they have left
//   rate          erases since boot (the boot scan's included: they wear the flash too) / uptime
//   years left    budget / rate. The log writes its blocks in a ring, so erases spread evenly over the live sectors
//                 and the budget is spent as one. No erase since boot: null ("not enough data"), never Infinity; no
//                 budget left: 0, whatever the rate.
// The rate is this boot's alone: a boot only minutes old after a burst of reclaims says little, so the page shows the
// erases and the rate the figure rests on beside it (and the uptime above it).

/** Rated erase cycles of an ESP32's NOR flash sector (the ~100k of the data sheets), the figure the budget spends. */
export const ENDURANCE_CYCLES = 100_000;

const MS_PER_YEAR = 365.25 * 24 * 3600 * 1000;
const MS_PER_DAY = 24 * 3600 * 1000;

/** What the health is computed from: the part of FlashLogStats it reads. */
export interface WearFigures {
  /** Sectors (erase blocks) in the partition, and how many are free, used, retired. */
  blocks: number;
  free: number;
  used: number;
  retired: number;
  /** Indices of the retired sectors: their erase counts are left out. */
  retiredBlocks: readonly number[];
  /** Erase count of each sector, by index. */
  eraseCounts: readonly number[];
  /** Since the store was opened (this boot). */
  erases: number;
  programmedBytes: number;
}

export interface StoreHealth {
  /** `worn`: live sectors at or past ENDURANCE_CYCLES (still working, past their rating). */
  sectors: { total: number; used: number; free: number; retired: number; worn: number };
  /** Erase counts of the live sectors (0 when none is live); `sinceBoot` and `perDay` (to 3 digits): this boot's erases and their rate. */
  erases: { min: number; max: number; mean: number; sinceBoot: number; perDay: number };
  /** Bytes programmed since boot (headers, frames, values copied forward by reclaim). */
  programmedBytes: number;
  /** The cycle rating the budget is counted against. */
  endurance: number;
  /** Erases the live sectors have left before every one reaches `endurance`. */
  budget: number;
  /** Years until `budget` is spent at this boot's rate, to 3 digits (a worn device's days stay visible); null: no erase since boot, not enough data. */
  yearsLeft: number | null;
}

/** The health of a flash store from its figures, `uptimeMs` after boot. */
export function storeHealth(figures: WearFigures, uptimeMs: number, endurance = ENDURANCE_CYCLES): StoreHealth {
  const retired = new Set(figures.retiredBlocks);
  let live = 0;
  let min = Infinity;
  let max = 0;
  let sum = 0;
  let worn = 0;
  let budget = 0;
  for (let block = 0; block < figures.blocks; block++) {
    if (retired.has(block)) continue;
    const count = figures.eraseCounts[block] ?? 0;
    live++;
    min = Math.min(min, count);
    max = Math.max(max, count);
    sum += count;
    if (count >= endurance) worn++;
    else budget += endurance - count;
  }
  const perMs = uptimeMs > 0 ? figures.erases / uptimeMs : 0;
  let yearsLeft: number | null;
  if (budget === 0) yearsLeft = 0;
  else if (perMs === 0) yearsLeft = null;
  else yearsLeft = digits3(budget / perMs / MS_PER_YEAR);
  return {
    sectors: { total: figures.blocks, used: figures.used, free: figures.free, retired: figures.retired, worn },
    erases: {
      min: live === 0 ? 0 : min,
      max,
      mean: live === 0 ? 0 : round(sum / live, 1),
      sinceBoot: figures.erases,
      perDay: digits3(perMs * MS_PER_DAY),
    },
    programmedBytes: figures.programmedBytes,
    endurance,
    budget,
    yearsLeft,
  };
}

/** To 3 significant digits: a rate or a span that may be tiny or huge keeps its meaning either way. */
function digits3(value: number): number {
  return Number(value.toPrecision(3));
}

function round(value: number, decimals: number): number {
  const f = Math.pow(10, decimals);
  return Math.round(value * f) / f;
}
