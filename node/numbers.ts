/**
 * Whole numbers from the command line and the environment, parsed one way for both. `Number()` alone takes "0x10",
 * "1e3" and " ", and rounds "99999999999999999999" to a value no schema accepts, so only decimal digits pass.
 */

/**
 * The longest delay a Node timer holds, 2^31-1 ms (about 24.8 days): a longer one fires after 1 ms with only a
 * warning, so a "huge" timeout setting would time every call out at once.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** `raw` as a whole number from 1 to `max` written in decimal digits, or undefined when it is anything else. */
export function parsePositiveInt(raw: string, max: number = Number.MAX_SAFE_INTEGER): number | undefined {
  const trimmed = raw.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return value >= 1 && value <= max ? value : undefined;
}
