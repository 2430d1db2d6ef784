/**
 * Durations as people type them (`90s`, `15m`, `2h`, `1d`). A module of its own, free of zod, so the CLI's option
 * parsers can use it without loading any schema library (`tandem --version` and `--help` stay instant).
 */

/** Milliseconds for a duration such as `90s`, `15m`, `2h` or `1d` (a bare number is seconds); else undefined. */
export function parseDuration(text: string): number | undefined {
  const found = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!found) return undefined;
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[found[2] ?? 's']!;
  const ms = Number(found[1]) * unit;
  return ms > 0 ? Math.round(ms) : undefined;
}
