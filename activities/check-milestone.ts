/**
 * The `checkMilestone` activity: evaluates a subtask's machine checks (common/checks.ts) in the goal's workspace,
 * before the judge reads the result. A check that cannot be evaluated (a path leaving the workspace, an unreadable
 * file) fails with a detail saying why: a milestone nobody could verify is not met.
 */
import { promises as fs } from 'node:fs';
import type { CheckMilestoneInput, CheckOutcome, FileCheck, MilestoneCheck, ValueCheck } from '../common/checks';
import { normalizeArithmetic } from '../common/expressions';
import { sliceChars } from '../common/limits';
import type { ActivityDeps } from './deps';
import { evaluateArithmetic } from './tools/calculator';
import { openInWorkspace, resolveInWorkspace } from './tools/workspace';
import { readWorkspace } from './workspace-sync';

/** Longest excerpt of a file quoted in a failed `contains` check's detail. */
const EXCERPT_LIMIT = 120;

/**
 * Bytes read at a time when a check searches a file: an executor may write a file of any size, and reading it whole
 * would fail (a string over ~512 MB cannot exist) or exhaust the worker, every attempt.
 */
const CHUNK_BYTES = 1 << 20;

/**
 * Whether the file holds `text`, read a chunk at a time (a match across two chunks is found), and its start. Opened as
 * `read_file` opens it: a link at the leaf or a hard link is refused (the error says why).
 */
async function searchFile(root: string, relative: string, text: string): Promise<{ found: boolean; head: string }> {
  const needle = Buffer.from(text, 'utf8');
  const buffer = Buffer.alloc(CHUNK_BYTES);
  const handle = await openInWorkspace(root, relative);
  try {
    let head: string | undefined;
    let carry = Buffer.alloc(0);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) return { found: false, head: head ?? '' };
      const window = Buffer.concat([carry, buffer.subarray(0, bytesRead)]);
      head ??= window.subarray(0, EXCERPT_LIMIT * 4).toString('utf8');
      if (window.includes(needle)) return { found: true, head };
      carry = window.subarray(Math.max(0, window.length - needle.length + 1));
    }
  } finally {
    await handle.close();
  }
}

async function checkFile(root: string, check: FileCheck): Promise<CheckOutcome> {
  const outcome = (ok: boolean, detail: string): CheckOutcome => ({ ...check, ok, detail });
  let file: string;
  try {
    file = await resolveInWorkspace(root, check.file);
  } catch (err) {
    return outcome(false, (err as Error).message);
  }
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat) return outcome(false, 'no such file in the workspace');
  if (!stat.isFile()) return outcome(false, 'it is a folder, not a file');
  if (check.contains === undefined) return outcome(true, `exists (${stat.size} bytes)`);
  let search: { found: boolean; head: string };
  try {
    search = await searchFile(root, check.file, check.contains);
  } catch (err) {
    return outcome(false, (err as Error).message);
  }
  if (search.found) return outcome(true, `${stat.size} bytes, contains ${JSON.stringify(check.contains)}`);
  const excerpt = search.head.length > EXCERPT_LIMIT ? `${sliceChars(search.head, EXCERPT_LIMIT)}…` : search.head;
  return outcome(
    false,
    `${stat.size} bytes, does not contain ${JSON.stringify(check.contains)}: ${JSON.stringify(excerpt)}`,
  );
}

/** Bytes of a file a value check reads: a value is a short text, and a file past this is not "the result". */
const VALUE_FILE_BYTES = 64 * 1024;

/** The numbers written in `text` (full-width digits, `5,468` and `5 468` thousands, a decimal comma read as a point). */
function numbersIn(text: string): number[] {
  const normal = normalizeArithmetic(text);
  return [...normal.matchAll(/-?\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?|-?\d+(?:[.,]\d+)?/gu)].map((m) =>
    Number(/^-?\d{1,3}(?:[, ]\d{3})+/u.test(m[0]) ? m[0].replace(/[, ]/gu, '') : m[0].replace(',', '.')),
  );
}

/** Whether `found` is `expected`, allowing a rounded decimal (0.333 for 1/3) and float noise. */
function sameValue(found: number, expected: number): boolean {
  if (Math.abs(found - expected) <= 1e-9 * Math.max(1, Math.abs(expected))) return true;
  const decimals = String(found).split('.')[1]?.length ?? 0;
  return decimals >= 2 && Number(expected.toFixed(decimals)) === found;
}

async function checkValue(root: string, check: ValueCheck): Promise<CheckOutcome> {
  const outcome = (ok: boolean, detail: string): CheckOutcome => ({ ...check, ok, detail });
  let expected: number;
  try {
    expected = evaluateArithmetic(normalizeArithmetic(check.expression));
  } catch (err) {
    return outcome(false, `the expression cannot be evaluated: ${(err as Error).message}`);
  }
  let text: string;
  try {
    const handle = await openInWorkspace(root, check.file);
    try {
      const buffer = Buffer.alloc(VALUE_FILE_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, VALUE_FILE_BYTES, 0);
      text = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return outcome(false, missing ? 'no such file in the workspace' : (err as Error).message);
  }
  const excerpt = JSON.stringify(text.length > EXCERPT_LIMIT ? `${sliceChars(text, EXCERPT_LIMIT)}…` : text);
  if (numbersIn(text).some((found) => sameValue(found, expected))) {
    return outcome(true, `holds ${expected} (${check.expression} = ${expected}, computed by tandem)`);
  }
  return outcome(false, `${check.expression} = ${expected} (computed by tandem), but the file holds ${excerpt}`);
}

/** What the executor's calculator said, as a line for a failed check's detail: `17*23+4 = 395`. */
function calculationsLine(calculations: string[]): string | undefined {
  const lines = calculations.flatMap((expression) => {
    try {
      return [`${expression} = ${evaluateArithmetic(normalizeArithmetic(expression))}`];
    } catch {
      return [];
    }
  });
  return lines.length ? lines.join(', ') : undefined;
}

/**
 * A failed `contains` check whose expected text is a number the executor's own calculator results do not include,
 * while one of them is in the file: the planner's value and the tool's disagree, and which is wrong is for the judge.
 */
async function disputed(root: string, outcome: CheckOutcome, calculations: string[]): Promise<CheckOutcome> {
  if (outcome.ok || outcome.kind !== 'file' || outcome.contains === undefined) return outcome;
  const planned = Number(outcome.contains.trim());
  if (!Number.isFinite(planned) || calculations.length === 0) return outcome;
  const results = calculations.flatMap((expression) => {
    try {
      return [evaluateArithmetic(normalizeArithmetic(expression))];
    } catch {
      return [];
    }
  });
  if (results.length === 0 || results.some((value) => sameValue(planned, value))) return outcome;
  const inFile = await Promise.all(
    results.map(
      async (value) => (await checkFile(root, { kind: 'file', file: outcome.file, contains: String(value) })).ok,
    ),
  );
  if (!inFile.some(Boolean)) return outcome;
  return {
    ...outcome,
    disputed: true,
    detail: `${outcome.detail}; the executor's calculator computed ${calculationsLine(calculations)}, which the file holds: the plan's expected value ${outcome.contains} disagrees with the tool's result`,
  };
}

async function evaluate(root: string, check: MilestoneCheck, calculations: string[]): Promise<CheckOutcome> {
  switch (check.kind) {
    case 'file':
      return disputed(root, await checkFile(root, check), calculations);
    case 'value': {
      const outcome = await checkValue(root, check);
      const line = outcome.ok ? undefined : calculationsLine(calculations);
      return line ? { ...outcome, detail: `${outcome.detail}; the executor's calculator computed ${line}` } : outcome;
    }
  }
}

/**
 * Evaluates every check, in order, on the workspace's newest stored files (whichever worker wrote them); the outcomes
 * travel into the verdict.
 */
export function checkMilestone(deps: ActivityDeps, input: CheckMilestoneInput): Promise<CheckOutcome[]> {
  const target = { store: deps.store, workspaceRoot: deps.config.workspaceRoot, workspace: input.workspace };
  return readWorkspace(target, async (root) => {
    const outcomes: CheckOutcome[] = [];
    for (const check of input.checks) outcomes.push(await evaluate(root, check, input.calculations ?? []));
    return outcomes;
  });
}
