/**
 * How wide the text a verb prints may be. A terminal reports its columns; a pipe, a file or a terminal that reports 0
 * columns (some CI runners, `script`, a detached tmux pane) does not, and then a fixed width is used instead of
 * cutting every line to nothing.
 */

/** Columns assumed when the output reports none (or 0). */
export const DEFAULT_COLUMNS = 120;

/** `columns` when it is a usable width (a positive integer), else {@link DEFAULT_COLUMNS}. */
export function terminalWidth(columns: number | undefined): number {
  return columns !== undefined && Number.isInteger(columns) && columns > 0 ? columns : DEFAULT_COLUMNS;
}

/** `text` cut to at most `width` characters (code points), ending in "…" when something was cut. */
export function cutToWidth(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  return width <= 1 ? chars.slice(0, Math.max(width, 0)).join('') : `${chars.slice(0, width - 1).join('')}…`;
}

/** Text on one line: every run of whitespace (newlines, tabs) becomes one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
