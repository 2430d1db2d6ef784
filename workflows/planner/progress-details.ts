/** The markdown the Web UI shows as the planner's current details: the plan and where each subtask stands. Pure. */
import { describeOutcome } from '../../common/check-lines';
import type { GoalProgress, SubtaskProgress } from '../../common/types';
import { priorDenialLine } from '../../common/denials';
import { forkedFromLine } from '../../common/fork';

/** The server caps current details at 20 kB; long plans are cut with a note rather than failing the task. */
const DETAILS_LIMIT = 16_000;

/**
 * The Web UI renders markdown tables with no cell padding ("statusstepstokens"), and trims ordinary spaces from cells;
 * non-breaking spaces survive, so each cell carries one before and two after its text as the gap between columns.
 */
const NBSP = '\u00a0';

function cell(text: string | number): string {
  return `${NBSP}${String(text).replace(/\|/g, '\\|')}${NBSP}${NBSP}`;
}

function row(cells: Array<string | number>): string {
  return `| ${cells.map(cell).join(' | ')} |`;
}

function amount(used: number, left: number | undefined): string {
  return left === undefined ? `${Math.round(used)}` : `${Math.round(used)} (left ${Math.round(left)})`;
}

function milestone(subtask: SubtaskProgress): string {
  if (!subtask.verdict) return '';
  return subtask.verdict.met ? 'met' : 'missed';
}

/** The calls waiting for a person, with the commands that decide them. */
function approvalLines(progress: GoalProgress): string[] {
  const pending = progress.pendingApprovals ?? [];
  if (pending.length === 0) return [];
  return [
    '',
    `**Waiting for approval** (${pending.length}): \`tandem approve <goal> <call>\` or \`tandem deny <goal> <call>\``,
    '',
    '| call | subtask | tool | arguments | since |',
    '| --- | --- | --- | --- | --- |',
    ...pending.map(
      (approval) =>
        `| ${approval.callId} | ${approval.subtaskId} | ${approval.tool} | ` +
        `${approval.arguments.slice(0, 200).replace(/\|/g, '\\|')} | ${approval.requestedAt}` +
        `${approval.deniedBefore ? ` (${priorDenialLine(approval.deniedBefore).replace(/\|/g, '\\|')})` : ''} |`,
    ),
  ];
}

/**
 * The plan a goal runs, in one line: `plan v<N>: <reason>`, or that it has none yet. A goal that failed while planning
 * has no version to name, and "plan v0" would read as one.
 */
export function planHeadline(progress: Pick<GoalProgress, 'planVersion' | 'planReason'>): string {
  if (progress.planVersion === 0) return 'no plan yet (the goal has not adopted one)';
  return `plan v${progress.planVersion}: ${progress.planReason.split('\n')[0]}`;
}

/**
 * Renders `progress` as markdown: a summary line, the budget, a table, missed milestones, check outcomes and the calls
 * waiting for approval.
 */
export function progressMarkdown(progress: GoalProgress): string {
  const { used, left } = progress.budget;
  const lines = [
    `**${progress.status}** · ${planHeadline(progress)}`,
    '',
    `tokens ${amount(used.tokens, left.tokens)} · steps ${amount(used.steps, left.steps)} · ` +
      `seconds ${amount(used.seconds, left.seconds)} · replans ${progress.replans}`,
    ...(progress.forkedFrom ? ['', forkedFromLine(progress.forkedFrom)] : []),
  ];
  if (progress.subtasks.length > 0) {
    lines.push(
      '',
      row(['subtask', 'status', 'steps', 'tokens', 'milestone']),
      '| :--- | :--- | ---: | ---: | :--- |',
      ...progress.subtasks.map((subtask) =>
        row([`${subtask.id} · ${subtask.title}`, subtask.status, subtask.steps, subtask.tokens, milestone(subtask)]),
      ),
    );
    const missed = progress.subtasks.filter((subtask) => subtask.verdict && !subtask.verdict.met);
    if (missed.length > 0) {
      lines.push('', ...missed.map((subtask) => `- ${subtask.id} missed its milestone: ${subtask.verdict!.reason}`));
    }
    const checks = progress.subtasks.flatMap((subtask) =>
      (subtask.verdict?.checks ?? []).map((outcome) => `- ${subtask.id} check: ${describeOutcome(outcome)}`),
    );
    if (checks.length > 0) lines.push('', ...checks);
    lines.push('', `Each subtask runs as the child workflow \`<goal id>.v<plan version>.<subtask>\` (Relationships).`);
  }
  lines.push(...approvalLines(progress));
  return lines.join('\n');
}

/**
 * The whole current details: once the goal has closed, `ending` (its ending and why, `**Ended:** failed: callModel
 * failed: ...`) comes first, since the first line is what a reader of the Web UI sees at a glance and a bare status
 * ("failed") would leave them looking for the reason at the bottom. Cut to the server's limit with a note.
 */
export function detailsMarkdown(progress: GoalProgress, ending?: string): string {
  const details = progressMarkdown(progress);
  const text = ending === undefined ? details : `${ending}\n\n${details}`;
  return text.length > DETAILS_LIMIT ? `${text.slice(0, DETAILS_LIMIT)}\n\n(cut)` : text;
}
