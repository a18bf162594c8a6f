// Calls of Map.prototype.has while `run` runs: the session's drop policy asks its message map once per queue entry it
// visits, so this counts how far a drop walked (a cost no result shows).
export function mapLookups(run: () => void): number {
  const has = Map.prototype.has;
  let calls = 0;
  Map.prototype.has = function (this: Map<unknown, unknown>, key: unknown) {
    calls++;
    return has.call(this, key);
  };
  try {
    run();
  } finally {
    Map.prototype.has = has;
  }
  return calls;
}
