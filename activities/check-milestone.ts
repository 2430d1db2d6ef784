/**
 * The `checkMilestone` activity: evaluates a subtask's machine checks (common/checks.ts) in the goal's workspace,
 * before the judge reads the result. A check that cannot be evaluated (a path leaving the workspace, an unreadable
 * file) fails with a detail saying why: a milestone nobody could verify is not met.
 */
import { promises as fs } from 'node:fs';
import type { CheckMilestoneInput, CheckOutcome, FileCheck, MilestoneCheck } from '../common/checks';
import { sliceChars } from '../common/limits';
import type { ActivityDeps } from './deps';
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

async function evaluate(root: string, check: MilestoneCheck): Promise<CheckOutcome> {
  switch (check.kind) {
    case 'file':
      return checkFile(root, check);
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
    for (const check of input.checks) outcomes.push(await evaluate(root, check));
    return outcomes;
  });
}
