/** Human-readable renderings for the CLI (the --json forms print the objects as they are). */
import type { GoalProgress, GoalResult, PlanVersion, SubtaskProgress } from '../common/types';
import { tokensOf, type TokenUsage } from '../common/usage';
import type { GoalSummary } from './goal-list';
import type { ScheduleSummaryRow } from './schedules';

function verdictOf(subtask: SubtaskProgress): string {
  if (!subtask.verdict) return '';
  return subtask.verdict.met ? '  [milestone met]' : `  [milestone missed: ${subtask.verdict.reason}]`;
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
/**
 * `streaming`: tokens streamed so far by the model call in flight, keyed by subtask id (`''` for the planner's own
 * call), as `streamingCalls` (node/streamed-tokens.ts) reads them from the pending activities.
 */
export function formatProgress(id: string, progress: GoalProgress, streaming?: ReadonlyMap<string, number>): string {
  const live = (key: string) => {
    const count = streaming?.get(key);
    return count === undefined ? '' : `  (streaming: ${count} tokens)`;
  };
  const lines = [`${id}  ${progress.status}  ${tokens(progress.usage)}${live('')}`, `goal: ${progress.goal}`];
  if (progress.subtasks.length === 0) return [...lines, 'plan: (drafting)'].join('\n');
  lines.push(`plan v${progress.planVersion}: ${progress.planReason.split('\n')[0]}`);
  progress.subtasks.forEach((subtask, index) => {
    const branch = index === progress.subtasks.length - 1 ? '└─' : '├─';
    lines.push(
      `${branch} ${subtask.id.padEnd(8)} ${subtask.status.padEnd(9)} ${steps(subtask.steps).padStart(9)}  ` +
        `${tokens(subtask.usage).padEnd(12)} ${subtask.title}${verdictOf(subtask)}${live(subtask.id)}`,
    );
  });
  return lines.join('\n');
}

export function formatResult(id: string, result: GoalResult): string {
  const lines = [`${id}  ${result.ok ? 'completed' : 'failed'}  ${tokens(result.usage)}`, '', result.report, ''];
  for (const { id: subtaskId, title, status, result: subtask } of result.subtasks) {
    lines.push(
      `  ${subtaskId} ${status === 'done' ? '✓' : '✗'} ${title}: ${subtask?.answer ?? subtask?.reason ?? status}`,
    );
  }
  return lines.join('\n');
}

/** One plan version: its number, when and why, and its subtasks. */
export function formatPlanVersion(plan: PlanVersion): string {
  const header = `plan v${plan.version}  ${plan.createdAt}  ${plan.reason}`;
  return [header, ...plan.subtasks.map((subtask) => `  ${subtask.id.padEnd(8)} ${subtask.title}`)].join('\n');
}

/** Every plan version, oldest first, and how many replans produced them. */
export function formatHistory(id: string, plans: PlanVersion[]): string {
  const replans = Math.max(plans.length - 1, 0);
  return [`${id}  ${plans.length} plan version(s), ${replans} replan(s)`, ...plans.map(formatPlanVersion)].join('\n');
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
