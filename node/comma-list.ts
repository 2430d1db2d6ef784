/** Comma-separated settings (`TANDEM_APPROVE_TOOLS`, `--approve`), in a module light enough for the CLI's parsers. */

/** A comma-separated list, trimmed, without empty entries. */
export function commaList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}
