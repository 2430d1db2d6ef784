/**
 * The `checkMilestone` activity: evaluates a subtask's machine checks (common/checks.ts) in the goal's workspace,
 * before the judge reads the result. A check that cannot be evaluated (a path leaving the workspace, an unreadable
 * file) fails with a detail saying why: a milestone nobody could verify is not met.
 */
import { promises as fs } from 'node:fs';
import type { CheckMilestoneInput, CheckOutcome, FileCheck, MilestoneCheck } from '../common/checks';
import { sliceChars } from '../common/limits';
import type { ActivityDeps } from './deps';
import { workspaceDir } from './run-tool';
import { readInWorkspace, resolveInWorkspace } from './tools/workspace';

/** Longest excerpt of a file quoted in a failed `contains` check's detail. */
const EXCERPT_LIMIT = 120;

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
  let text: string;
  try {
    // Read as read_file reads: a hard link refused, at most READ_MAX_BYTES of a huge file.
    ({ text } = await readInWorkspace(root, check.file));
  } catch (err) {
    return outcome(false, (err as Error).message);
  }
  if (text.includes(check.contains))
    return outcome(true, `${stat.size} bytes, contains ${JSON.stringify(check.contains)}`);
  const excerpt = text.length > EXCERPT_LIMIT ? `${sliceChars(text, EXCERPT_LIMIT)}…` : text;
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

/** Evaluates every check, in order; the outcomes travel into the verdict. */
export async function checkMilestone(deps: ActivityDeps, input: CheckMilestoneInput): Promise<CheckOutcome[]> {
  const root = workspaceDir(deps.config.workspaceRoot, input.workspace);
  const outcomes: CheckOutcome[] = [];
  for (const check of input.checks) outcomes.push(await evaluate(root, check));
  return outcomes;
}
