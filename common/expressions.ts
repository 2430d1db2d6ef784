/**
 * Arithmetic written in a goal ("Compute 17 * 23 + 4", "１７ × ２３ を計算して"), found by its shape so a check can
 * take its expected value from the goal's own words instead of from the planner's mental arithmetic (docs/checks.md).
 * Only finding and normalising is here (pure, sandbox-safe); the calculator's engine evaluates what is found, in the
 * `checkMilestone` activity.
 */

/** NFKC (full-width digits and operators become ASCII) and the multiplication, division and minus signs as mathjs writes them. */
export function normalizeArithmetic(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[×✕✖⋅·]/gu, '*')
    .replace(/[÷∕]/gu, '/')
    .replace(/[−–]/gu, '-');
}

const NUMBER = String.raw`\d+(?:\.\d+)?`;
const OPERAND = String.raw`(?:\(\s*)*-?${NUMBER}(?:\s*\))*`;
/** Two or more numbers joined by + - * / ^ %, with optional parentheses and spaces. */
const EXPRESSION = new RegExp(String.raw`${OPERAND}(?:\s*[-+*/^%]\s*${OPERAND})+`, 'gu');

/**
 * The arithmetic expressions of `text`, normalised (`17*23+4` for "17 × 23 + 4"), each once. Runs of digits joined only
 * by `-`, `/` or `.` with no space (a date 2026-12-02, a version 1.2.3, a path 10/20) are not arithmetic and are left
 * out, and so is an expression embedded in a word or a file name (`v1-2.txt`).
 */
export function expressionsIn(text: string): string[] {
  const found: string[] = [];
  const normal = normalizeArithmetic(text);
  for (const match of normal.matchAll(EXPRESSION)) {
    const at = match.index ?? 0;
    const expression = match[0].trim();
    const before = normal.slice(Math.max(0, at - 1), at);
    const after = normal.slice(at + match[0].length, at + match[0].length + 2);
    if (/[A-Za-z_.]/u.test(before) || /^(?:[A-Za-z_]|\.[A-Za-z])/u.test(after)) continue;
    if (/^[\d./-]+$/u.test(expression) && !/\s/u.test(expression)) continue;
    const compact = compactExpression(expression);
    if (!found.includes(compact)) found.push(compact);
  }
  return found;
}

/** An expression without spaces, so two spellings of it compare equal. */
export function compactExpression(expression: string): string {
  return normalizeArithmetic(expression).replace(/\s+/gu, '');
}

/** Whether `value` (a planner's expected text) occurs in the goal's own words, after the same normalisation. */
export function inGoalWords(value: string, goal: string): boolean {
  const squash = (text: string) => normalizeArithmetic(text).toLowerCase().replace(/\s+/gu, ' ').trim();
  return squash(goal).includes(squash(value));
}
