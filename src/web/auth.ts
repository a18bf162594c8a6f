// HTTP Basic authentication for the status page's settings, with a lockout after repeated wrong passwords.
//
// Rule: a wrong password counts; a missing one does not (a browser's first try carries none); while locked out every
// attempt is refused unchecked, the right password too, so guessing is capped at maxFailures per lockout whatever the
// attacker sends. The lockout is global, not per address: the device cannot afford a table of clients, and a LAN
// neighbour who locks the owner out for a while is the lesser evil against one who guesses without limit.
import { encodeUtf8 } from "../mqtt/utf8";
import { decodeBase64 } from "./base64";

export interface LockoutPolicy {
  /** Wrong passwords in a row that start a lockout. */
  readonly maxFailures: number;
  /** The first lockout; each further one (without a success between) doubles, up to maxLockoutMs. */
  readonly lockoutMs: number;
  readonly maxLockoutMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = Object.freeze({ maxFailures: 5, lockoutMs: 30_000, maxLockoutMs: 15 * 60_000 });

export type AuthResult =
  | { readonly ok: true }
  /** No password is configured: changes are off, whatever is sent. */
  | { readonly ok: false; readonly reason: "disabled" }
  | { readonly ok: false; readonly reason: "missing" | "wrong" }
  | { readonly ok: false; readonly reason: "locked"; readonly retryAfterMs: number };

export class BasicAuth {
  private readonly password: Uint8Array;
  private readonly enabled: boolean;
  private failures = 0;
  private lockouts = 0;
  private lockedUntil = -Infinity;

  /** `password` "" disables changes. `now` is a monotonic ms clock. */
  constructor(password: string, private readonly now: () => number, private readonly policy: LockoutPolicy = DEFAULT_LOCKOUT) {
    this.enabled = password !== "";
    // Browsers send Basic credentials as UTF-8 (Chromium, Firefox): compare bytes of the same encoding.
    this.password = encodeUtf8(password);
  }

  /** Checks an Authorization header value ("Basic <base64 of user:password>"); any user name is accepted. */
  check(header: string | undefined): AuthResult {
    if (!this.enabled) return { ok: false, reason: "disabled" };
    const now = this.now();
    if (now < this.lockedUntil) return { ok: false, reason: "locked", retryAfterMs: this.lockedUntil - now };
    if (header === undefined || header.trim() === "") return { ok: false, reason: "missing" };
    const given = basicPassword(header);
    if (given !== undefined && sameBytes(given, this.password)) {
      this.failures = 0;
      this.lockouts = 0;
      return { ok: true };
    }
    this.failures++;
    if (this.failures >= this.policy.maxFailures) {
      this.failures = 0;
      const ms = Math.min(this.policy.maxLockoutMs, this.policy.lockoutMs * Math.pow(2, this.lockouts));
      this.lockouts++;
      this.lockedUntil = now + ms;
      return { ok: false, reason: "locked", retryAfterMs: ms };
    }
    return { ok: false, reason: "wrong" };
  }
}

/** The password bytes of a Basic credential, or undefined when the header is not one. */
function basicPassword(header: string): Uint8Array | undefined {
  const match = /^\s*Basic\s+([A-Za-z0-9+/=]{1,400})\s*$/i.exec(header);
  if (match === null) return undefined;
  const bytes = decodeBase64(match[1]);
  if (bytes === undefined) return undefined;
  const colon = bytes.indexOf(0x3a);
  if (colon === -1) return undefined;
  return bytes.subarray(colon + 1);
}

/** Compares in time that depends on the lengths only, not on where the first difference is. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i % Math.max(1, a.length)] ?? 0) ^ b[i];
  return diff === 0;
}
