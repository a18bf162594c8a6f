// The one answer to "are we under CI?" for every suite, the vitest config and .ci/run's reporter: a suite that needs
// mosquitto, openssl, XS or a browser fails under CI when the tool is missing, and skips loudly only outside it.

/**
 * True when the CI variable is set to anything but an explicit "no": CI=true (GitHub, GitLab, .ci/run), CI=1 (some
 * runners and people), CI=yes all count; unset, empty, "0", "false" and "no" (any case) do not.
 */
export function underCi(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const value = env.CI;
  if (value === undefined) return false;
  const normalized = value.trim().toLowerCase();
  return normalized !== "" && normalized !== "0" && normalized !== "false" && normalized !== "no";
}
