// Report-on-change: per-channel deadband (absolute or percent) and the text form used by config and commands.

/** Absolute: report when |v - last| >= value (channel unit). Percent: when |v - last| >= value% of |last|. */
export type Deadband =
  | { readonly kind: "abs"; readonly value: number }
  | { readonly kind: "pct"; readonly value: number };

export const NO_DEADBAND: Deadband = Object.freeze({ kind: "abs", value: 0 });

/** Parses "0.2" (absolute) or "1.5%" (percent); returns an explanation string instead when the text is not one. */
export function parseDeadband(text: string): Deadband | string {
  const trimmed = text.trim();
  const percent = trimmed.endsWith("%");
  const body = percent ? trimmed.slice(0, -1).trim() : trimmed;
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(body)) {
    return `expected a non-negative number ("0.2", absolute in the channel's unit) or a percentage ("1%"), got "${text}"`;
  }
  const value = Number(body);
  if (percent && value > 100) return `a percentage deadband must be at most 100%, got "${text}"`;
  return percent ? { kind: "pct", value } : { kind: "abs", value };
}

export function formatDeadband(deadband: Deadband): string {
  return deadband.kind === "pct" ? `${deadband.value}%` : `${deadband.value}`;
}

/** True when `value` differs enough from the last reported one to be reported. A zero deadband reports every sample. */
export function passesDeadband(deadband: Deadband, last: number | undefined, value: number): boolean {
  if (last === undefined) return true;
  const change = Math.abs(value - last);
  if (deadband.value === 0) return true;
  const limit = deadband.kind === "abs" ? deadband.value : (Math.abs(last) * deadband.value) / 100;
  // A percent band around zero is zero wide: any change is reported rather than none.
  if (limit === 0) return change > 0;
  return change >= limit;
}
