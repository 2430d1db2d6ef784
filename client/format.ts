/** Human-readable renderings for the CLI, and the objects the `--json` forms print. */
import { planHeadline } from '../workflows/planner/progress-details';
import { cutToWidth, oneLine } from './terminal-width';
import type {
  ChatMessage,
  ExecutorProgress,
  GoalProgress,
  GoalResult,
  PlanVersion,
  RejectedDraft,
  SubtaskProgress,
  Verdict,
} from '../common/types';
import type { PendingApproval } from '../common/approvals';
import { describeOutcome } from '../common/check-lines';
import { priorDenialLine } from '../common/denials';
import { forkedFromLine } from '../common/fork';
import { endingOf, endingOfStatus } from '../common/ending-words';
import { tokensOf, type TokenUsage } from '../common/usage';
import { formatUsd } from '../common/cost';
import type { GoalSummary } from './goal-list';
import type { FailureSummary, GoalOutcome } from './goals';
import { describeFailingCall, describeStreamingCall } from './call-lines';
import type { ExecutorSnapshot, GoalSnapshot, RunEnd, Snapshot } from './inspect';
import type { ScheduleSummaryRow } from './schedules';
import { shellArg } from './shell-arg';

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

/**
 * What the calls cost, when the goal priced them (docs/cost.md): dollars, or unknown naming the unpriced models; never
 * `$0` for a model without a price. Undefined for a goal that did not price its calls.
 */
function cost(usage: TokenUsage): string | undefined {
  if (usage.costUsd === undefined) return undefined;
  if (usage.costUsd !== null) return formatUsd(usage.costUsd);
  const models = (usage.unpricedModels ?? []).map((model) => `"${model}"`).join(', ');
  return `cost unknown (no price for ${models || 'a model'})`;
}

function steps(count: number): string {
  return `${count} ${count === 1 ? 'step' : 'steps'}`;
}

function failureLine(failure: FailureSummary): string {
  return `${failure.message}${failure.type ? ` [${failure.type}]` : ''}`;
}

/**
 * The goal as a tree: plan version → subtasks → steps and tokens. `status` prints it once and `watch` redraws it,
 * so both show the same picture.
 */
export function formatProgress(id: string, progress: GoalProgress, status: string = progress.status): string {
  const lines = [`${id}  ${status}  ${tokens(progress.usage)}`, `goal: ${progress.goal}`];
  const spent = cost(progress.usage);
  const left = progress.budget.left.costUsd;
  if (spent)
    lines.push(
      `cost: ${spent}${left === undefined || left === null ? '' : ` (${formatUsd(left)} of the budget left)`}`,
    );
  if (progress.forkedFrom) lines.push(forkedFromLine(progress.forkedFrom));
  if (progress.subtasks.length === 0) {
    return [...lines, status === 'failed' ? 'plan: none, the goal failed while planning' : 'plan: (drafting)'].join(
      '\n',
    );
  }
  lines.push(planHeadline(progress));
  progress.subtasks.forEach((subtask, index) => {
    const branch = index === progress.subtasks.length - 1 ? '└─' : '├─';
    lines.push(
      `${branch} ${subtask.id.padEnd(8)} ${subtask.status.padEnd(9)} ${steps(subtask.steps).padStart(9)}  ` +
        `${[tokens(subtask.usage), cost(subtask.usage)].filter(Boolean).join(' ').padEnd(12)} ` +
        `${subtask.title}${verdictOf(subtask)}`,
      ...checkLines(subtask.verdict, index === progress.subtasks.length - 1 ? '     ' : '│    '),
    );
  });
  lines.push(...heldLines(id, progress.pendingApprovals ?? []), ...countedLines(progress));
  return lines.join('\n');
}

/**
 * The calls waiting for a person, one line each with since when and until when, and the commands that decide them:
 * while a call waits, its subtask's steps stand still and this is why.
 */
export function heldLines(id: string, held: readonly PendingApproval[]): string[] {
  return held.flatMap((call) => [
    `! subtask ${call.subtaskId} waits for approval since ${call.requestedAt}` +
      `${call.timeoutAt ? ` (denied at ${call.timeoutAt} if nobody decides)` : ''}: ${call.tool} ` +
      `${call.arguments.length > 80 ? `${call.arguments.slice(0, 80)}…` : call.arguments}; decide: tandem approve ` +
      `${shellArg(id)} ${shellArg(call.callId)} / tandem deny ${shellArg(id)} ${shellArg(call.callId)} --reason "..."`,
    ...(call.deniedBefore ? [`  ${priorDenialLine(call.deniedBefore)}`] : []),
  ]);
}

/**
 * What the goal counted instead of dropping: calls refused without asking (an identical call had been denied) and
 * interrupts no model was shown. `result` prints the same lines from the goal's result.
 */
export function countedLines(counts: { refusedRepeatCalls?: number; undeliveredInterrupts?: number }): string[] {
  const lines: string[] = [];
  if (counts.refusedRepeatCalls) {
    lines.push(
      `! ${counts.refusedRepeatCalls} call(s) refused without asking: an identical call was denied earlier in this ` +
        'goal (the model was told; tandem transcript shows it)',
    );
  }
  if (counts.undeliveredInterrupts) {
    lines.push(
      `! ${counts.undeliveredInterrupts} interrupt(s) not delivered: their subtask had ended before a model saw them`,
    );
  }
  return lines;
}

/** The status a run shows in its header: its progress while it runs, its ending (docs/endings.md) once closed. */
function headerStatus(snap: Snapshot): string {
  return snap.ending ?? snap.progress.status;
}

/** Why a closed run ended without an ok result, as one line; nothing for an ok one. */
function endLine(snap: Snapshot, end: RunEnd | null): string[] {
  if (!end || end.ok) return [];
  if (end.failure) return [`${endingOfStatus(snap.executionStatus)}: ${failureLine(end.failure)}`];
  const resultOf =
    snap.kind === 'goal' ? `tandem result ${shellArg(snap.id)}` : `tandem status ${shellArg(snap.id)} --json`;
  return [`ended without an ok result: ${end.reason} (see ${resultOf})`];
}

function formatGoalSnapshot(snap: GoalSnapshot): string {
  return [
    formatProgress(snap.id, snap.progress, headerStatus(snap)),
    ...snap.failingCalls.map((call) => `! ${describeFailingCall(call)}`),
    ...snap.streamingCalls.map((call) => `~ ${describeStreamingCall(call)}`),
    ...endLine(snap, snap.end),
  ].join('\n');
}

function budgetLine(budget: ExecutorProgress['budget']): string {
  const of = (left: number | null, max: number | null, unit: string) =>
    max === null || left === null ? `${unit} unlimited` : `${Math.max(0, Math.round(left))} of ${max} ${unit}`;
  return (
    `budget left: ${of(budget.stepsLeft, budget.maxSteps, 'steps')} · ${of(budget.tokensLeft, budget.maxTokens, 'tokens')}` +
    ` · ${of(budget.secondsLeft, budget.maxSeconds, 'seconds')}`
  );
}

function formatExecutorSnapshot(snap: ExecutorSnapshot): string {
  const { progress } = snap;
  const phase = snap.executionStatus === 'RUNNING' ? `, ${progress.phase.replace('_', ' ')}` : '';
  const lines = [
    `${snap.id}  ${headerStatus(snap)}  step ${progress.step}${phase}  ${tokens(progress.usage)}`,
    `subtask ${progress.subtaskId}${snap.goalId ? ` of goal ${snap.goalId}` : ''}`,
    budgetLine(progress.budget),
  ];
  if (progress.paused) lines.push('paused: continue it with tandem resume on its goal');
  if (progress.lastToolCalls.length > 0) {
    lines.push(`last tool calls (step ${progress.lastToolCalls[0].step}):`);
    for (const call of progress.lastToolCalls) lines.push(`  ${call.ok ? '✓' : '✗'} ${call.name} ${call.arguments}`);
  }
  for (const message of progress.pendingInterrupts) lines.push(`interrupt waiting for the next step: ${message}`);
  lines.push(
    ...snap.failingCalls.map((call) => `! ${describeFailingCall(call)}`),
    ...snap.streamingCalls.map((call) => `~ ${describeStreamingCall(call)}`),
    ...endLine(snap, snap.end),
  );
  if (progress.transcript) {
    lines.push(
      `conversation: tandem transcript ${snap.goalId ? `${shellArg(snap.goalId)} ${shellArg(progress.subtaskId)}` : shellArg(snap.id)}`,
    );
  }
  return lines.join('\n');
}

/** What `status` prints and `watch` redraws, for a goal or an executor. */
export function formatSnapshot(snap: Snapshot): string {
  return snap.kind === 'goal' ? formatGoalSnapshot(snap) : formatExecutorSnapshot(snap);
}

/**
 * `status --json` and each line of `watch --json`: the `progress` query's fields as they are (so scripts written for
 * the query keep working), plus the workflow id, its kind, Temporal's execution status, how it ended and what is failing.
 */
export function snapshotJson(snap: Snapshot): Record<string, unknown> {
  const { progress, ...rest } = snap;
  return { ...progress, ...rest };
}

/** The report of a goal that ended with a result, its subtasks, and the folder its files are in. */
export function formatResult(id: string, result: GoalResult, workspace?: string): string {
  const lines = [`${id}  ${endingOf(result)}  ${tokens(result.usage)}`, '', result.report, ''];
  for (const { id: subtaskId, title, status, verdict, result: subtask } of result.subtasks) {
    lines.push(
      `  ${subtaskId} ${status === 'done' ? '✓' : '✗'} ${title}: ${subtask ? (subtask.ok ? subtask.answer : subtask.reason) : status}`,
      ...checkLines(verdict, '      '),
    );
  }
  const spent = cost(result.usage);
  if (spent) lines.push('', `cost: ${spent}`);
  if (!result.ok) {
    const budget = result.reason === 'budget_exhausted' && result.budget ? ` (${result.budget})` : '';
    lines.push('', `ended without an ok result: ${result.reason}${budget}`);
  }
  const counted = countedLines(result);
  if (counted.length) lines.push('', ...counted);
  if (workspace) lines.push('', `workspace: ${workspace}`);
  return lines.join('\n');
}

/** `result` and `start --wait`: the report, or why the goal's workflow failed. */
export function formatOutcome(id: string, outcome: GoalOutcome, workspace: string): string {
  if ('result' in outcome) return formatResult(id, outcome.result, workspace);
  const status = endingOfStatus(outcome.executionStatus);
  return [`${id}  ${status}`, '', `${status}: ${failureLine(outcome.failure)}`, '', `workspace: ${workspace}`].join(
    '\n',
  );
}

/** `result --json`: the workflow's result with the workspace, or `{ok: false, executionStatus, failure, workspace}`. */
export function outcomeJson(outcome: GoalOutcome, workspace: string): Record<string, unknown> {
  if ('result' in outcome) return { ...outcome.result, workspace };
  return { ok: false, executionStatus: outcome.executionStatus, failure: outcome.failure, workspace };
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

/**
 * What `tandem fork` can name in a goal (docs/fork.md): each subtask's steps, each plan version, and the goal's own
 * origin when it is a fork.
 */
export function formatForkPoints(id: string, progress: GoalProgress): string {
  const goal = shellArg(id);
  const lines = ['', 'fork points:'];
  for (const subtask of progress.subtasks) {
    lines.push(
      subtask.steps > 0
        ? `  ${subtask.id}: steps 1-${subtask.steps}: tandem fork ${goal} --subtask ${subtask.id} --step N`
        : `  ${subtask.id}: no step yet`,
    );
  }
  if (progress.planVersion > 0) {
    lines.push(`  plan versions 1-${progress.planVersion}: tandem fork ${goal} --plan-version V`);
  }
  if (progress.forkedFrom) lines.push(`  this goal was ${forkedFromLine(progress.forkedFrom)}`);
  return lines.join('\n');
}

/** Rows padded to the widest cell of their column, the last column left ragged, as `temporal workflow list` does. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The fewest characters of the goal `list` shows, however narrow the terminal: the id alone rarely says what it is. */
const MIN_GOAL_COLUMN = 20;

/**
 * `list`: a header row, then one line per goal, in the order given (newest first). The goal is put on one line and
 * cut so the row fits in `width` columns (the whole text is in `--json`).
 */
export function formatGoalList(goals: GoalSummary[], width: number): string {
  if (goals.length === 0) return 'no goals';
  const rows = goals.map((goal) => [
    goal.id,
    goal.blocked ? 'blocked' : goal.status,
    goal.startTime,
    String(goal.tokens ?? '-'),
  ]);
  const header = ['ID', 'STATUS', 'STARTED', 'TOKENS'];
  const used = header
    .map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)) + 2)
    .reduce((sum, columnWidth) => sum + columnWidth, 0);
  const goalWidth = Math.max(MIN_GOAL_COLUMN, width - 1 - used);
  return table(
    [...header, 'GOAL'],
    goals.map((goal, index) => [...rows[index]!, cutToWidth(oneLine(goal.goal ?? ''), goalWidth)]),
  );
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

/** A conversation for a terminal: one headed block per message, tool calls as `→ name(arguments)`. */
export function formatTranscript(title: string, messages: ChatMessage[]): string {
  const blocks = [title];
  let step = 0;
  for (const message of messages) {
    if (message.role === 'assistant') {
      step += 1;
      const body = [
        ...(message.content?.trim() ? [message.content.trim()] : []),
        ...(message.toolCalls ?? []).map((call) => `→ ${call.name}(${call.arguments})  [${call.id}]`),
      ];
      blocks.push(`── assistant · step ${step} ──\n${body.join('\n') || '(empty reply)'}`);
    } else if (message.role === 'tool') {
      blocks.push(`── tool result [${message.toolCallId}] ──\n${message.content}`);
    } else {
      blocks.push(`── ${message.role} ──\n${message.content}`);
    }
  }
  return blocks.join('\n\n');
}
