// Report-on-change: per-channel deadband (absolute or percent) and the text form used by config and commands.

/** Absolute: report when |v - last| >= value (channel unit). Percent: when |v - last| >= value% of |last|. */
export type Deadband =
  | { readonly kind: "abs"; readonly value: number }
  | { readonly kind: "pct"; readonly value: number };

export const NO_DEADBAND: Deadband = Object.freeze({ kind: "abs", value: 0 });

/** Parses "0.2" (absolute) or "1.5%" (percent); returns an explanation string instead when the text is not one. */
/** Longest deadband text accepted: "12345.678%" and the like. Checked before anything else looks at the text. */
const DEADBAND_TEXT_MAX = 24;

export function parseDeadband(text: string): Deadband | string {
  if (text.length > DEADBAND_TEXT_MAX) return `expected a deadband such as "0.2" or "1%" (at most ${DEADBAND_TEXT_MAX} characters), got ${text.length} characters`;
  const trimmed = text.trim();
  const percent = trimmed.endsWith("%");
  const body = percent ? trimmed.slice(0, -1).trim() : trimmed;
  // By hand, not RegExp: this runs on stored settings at every sample (see sampler/persist on stored data and XS RegExp).
  if (!isDecimal(body)) {
    return `expected a non-negative number ("0.2", absolute in the channel's unit) or a percentage ("1%"), got "${text}"`;
  }
  const value = Number(body);
  if (percent && value > 100) return `a percentage deadband must be at most 100%, got "${text}"`;
  return percent ? { kind: "pct", value } : { kind: "abs", value };
}

/** digits, digits "." digits*, or "." digits: a non-negative decimal without sign or exponent. */
function isDecimal(body: string): boolean {
  let digits = 0;
  let dot = -1;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0x2e && dot === -1) dot = i;
    else if (c >= 0x30 && c <= 0x39) digits++;
    else return false;
  }
  return digits > 0; // "5", "5.", ".5", "0.25"; not "" or "."
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
