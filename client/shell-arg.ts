/**
 * An id as it must be typed in a shell, for the hints that name a next command ("follow it: tandem watch ID"): left
 * alone when no shell treats any of its characters specially, else in single quotes. Temporal ids may hold spaces,
 * quotes, `$` and any unicode, and a hint that breaks when pasted is worse than none.
 */
export function shellArg(value: string): string {
  if (/^[A-Za-z0-9_.:@%+=,/-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
