/** Human-readable renderings for the CLI (the --json forms print the objects as they are). */
import { describeOutcome } from '../common/checks';
import type { GoalProgress, GoalResult, PlanVersion, RejectedDraft, SubtaskProgress, Verdict } from '../common/types';
import { tokensOf, type TokenUsage } from '../common/usage';
import type { GoalSummary } from './goal-list';
import type { ScheduleSummaryRow } from './schedules';

function verdictOf(subtask: SubtaskProgress): string {
  if (!subtask.verdict) return '';
  return subtask.verdict.met ? '  [milestone met]' : `  [milestone missed: ${subtask.verdict.reason}]`;
}

/** One indented line per machine check of a verdict, e.g. `✗ file notes.txt exists: no such file in the workspace`. */
function checkLines(verdict: Verdict | undefined, indent: string): string[] {
  return (verdict?.checks ?? []).map((outcome) => `${indent}${describeOutcome(outcome)}`);
}

function tokens(usage: TokenUsage): string {
  return `${tokensOf(usage)} tokens`;
}

function steps(count: number): string {
  return `${count} ${count === 1 ? 'step' : 'steps'}`;
}

/**
 * The goal as a tree: plan version → subtasks → steps and tokens. `status` prints it once and `watch` redraws it,
 * so both show the same picture.
 */
export function formatProgress(id: string, progress: GoalProgress): string {
  const lines = [`${id}  ${progress.status}  ${tokens(progress.usage)}`, `goal: ${progress.goal}`];
  if (progress.subtasks.length === 0) return [...lines, 'plan: (drafting)'].join('\n');
  lines.push(`plan v${progress.planVersion}: ${progress.planReason.split('\n')[0]}`);
  progress.subtasks.forEach((subtask, index) => {
    const branch = index === progress.subtasks.length - 1 ? '└─' : '├─';
    lines.push(
      `${branch} ${subtask.id.padEnd(8)} ${subtask.status.padEnd(9)} ${steps(subtask.steps).padStart(9)}  ` +
        `${tokens(subtask.usage).padEnd(12)} ${subtask.title}${verdictOf(subtask)}`,
      ...checkLines(subtask.verdict, index === progress.subtasks.length - 1 ? '     ' : '│    '),
    );
  });
  return lines.join('\n');
}

export function formatResult(id: string, result: GoalResult): string {
  const ending = result.reason ? ` (${result.reason})` : '';
  const lines = [
    `${id}  ${result.ok ? 'completed' : 'failed'}${ending}  ${tokens(result.usage)}`,
    '',
    result.report,
    '',
  ];
  for (const { id: subtaskId, title, status, verdict, result: subtask } of result.subtasks) {
    lines.push(
      `  ${subtaskId} ${status === 'done' ? '✓' : '✗'} ${title}: ${subtask?.answer ?? subtask?.reason ?? status}`,
      ...checkLines(verdict, '      '),
    );
  }
  return lines.join('\n');
}

/** One plan version: its number, when and why, its subtasks, and what validation repaired in the model's draft. */
export function formatPlanVersion(plan: PlanVersion): string {
  const header = `plan v${plan.version}  ${plan.createdAt}  ${plan.reason}`;
  return [
    header,
    ...plan.subtasks.map((subtask) => `  ${subtask.id.padEnd(8)} ${subtask.title}`),
    ...(plan.repairs ?? []).map((repair) => `  repaired: ${repair}`),
  ].join('\n');
}

/** A draft validation refused: which version and attempt, and why. */
function formatRejectedDraft(draft: RejectedDraft): string {
  const what = draft.cutOff ? 'cut off' : 'refused';
  return `draft for plan v${draft.version}, attempt ${draft.attempt}, ${what}: ${draft.errors.join('; ')}`;
}

/** Every plan version, oldest first, how many replans produced them, and the drafts refused on the way. */
export function formatHistory(id: string, plans: PlanVersion[], rejectedDrafts: RejectedDraft[] = []): string {
  const replans = Math.max(plans.length - 1, 0);
  return [
    `${id}  ${plans.length} plan version(s), ${replans} replan(s)`,
    ...plans.map(formatPlanVersion),
    ...rejectedDrafts.map(formatRejectedDraft),
  ].join('\n');
}

export function formatGoalList(goals: GoalSummary[]): string {
  if (goals.length === 0) return 'no goals';
  return goals
    .map(
      (goal) =>
        `${goal.id.padEnd(28)} ${goal.status.padEnd(9)} ${goal.startTime}  ${String(goal.tokens ?? '-').padStart(7)} ` +
        `tokens  ${goal.goal ?? ''}`,
    )
    .join('\n');
}

export function formatScheduleList(schedules: ScheduleSummaryRow[]): string {
  if (schedules.length === 0) return 'no schedules';
  return schedules
    .map(
      (schedule) =>
        `${schedule.id.padEnd(20)} ${(schedule.cron ?? '').padEnd(16)} next ${schedule.nextRun ?? '-'}  ` +
        `${schedule.key ? `key ${schedule.key}  ` : ''}${schedule.goal ?? ''}`,
    )
    .join('\n');
}
