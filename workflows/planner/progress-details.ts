/** The markdown the Web UI shows as the planner's current details: the plan and where each subtask stands. Pure. */
import type { GoalProgress } from '../../common/types';

/** The server caps current details at 20 kB; long plans are cut with a note rather than failing the task. */
const DETAILS_LIMIT = 16_000;

function amount(used: number, left: number | undefined): string {
  return left === undefined ? `${Math.round(used)}` : `${Math.round(used)} (left ${Math.round(left)})`;
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
        `${approval.arguments.slice(0, 200).replace(/\|/g, '\\|')} | ${approval.requestedAt} |`,
    ),
  ];
}

/** Renders `progress` as markdown for `setCurrentDetails`. */
export function progressMarkdown(progress: GoalProgress): string {
  const { used, left } = progress.budget;
  const lines = [
    `**${progress.status}** · plan v${progress.planVersion}: ${progress.planReason.split('\n')[0]}`,
    '',
    `tokens ${amount(used.tokens, left.tokens)} · steps ${amount(used.steps, left.steps)} · ` +
      `seconds ${amount(used.seconds, left.seconds)} · replans ${progress.replans}`,
    '',
    '| subtask | status | steps | tokens | milestone | child |',
    '| --- | --- | --- | --- | --- | --- |',
    ...progress.subtasks.map(
      (subtask) =>
        `| ${subtask.id} · ${subtask.title} | ${subtask.status} | ${subtask.steps} | ${subtask.tokens} | ` +
        `${subtask.verdict ? `${subtask.verdict.met ? 'met' : 'missed'}: ${subtask.verdict.reason}` : ''} | ` +
        `${subtask.workflowId} |`,
    ),
    ...approvalLines(progress),
  ];
  const text = lines.join('\n');
  return text.length > DETAILS_LIMIT ? `${text.slice(0, DETAILS_LIMIT)}\n\n(cut)` : text;
}
