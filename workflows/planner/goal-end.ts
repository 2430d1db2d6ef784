/**
 * How work comes back and how the goal ends: judging the runs that returned, deciding whether the goal must end, and
 * ending it (cancel what runs, wait for it, report).
 */
import { condition } from '@temporalio/workflow';
import { beforeDeadline, DEADLINE_PASSED } from '../executor/deadline';
import { endingOf } from '../../common/ending-words';
import {
  type ExecutorStopped,
  type GoalEnding,
  type GoalFailureReason,
  type GoalResult,
  outcomeText,
  type SubtaskStatus,
} from '../../common/types';
import { missingToolsLine, reportFromResults, reportRequest } from '../prompts';
import { compactResult, evidenceOf, fitGoalResult, resultOfFailedRun } from './evidence';
import { exhaustedCap } from './goal-budget';
import { formatUsd } from '../../common/cost';
import { cancelRun, recordResult, sendCancels } from './goal-children';
import { recordReplan } from './goal-plans';
import { holdWhilePaused, publish, type Goal } from './goal-publish';
import { allDone, type ChildRun, goalBudget, goalUsage, ownMeter, runOf, runSettled } from './goal-state';
import { interruptsClosed } from './interrupts';
import { checkAndJudge, MAX_PLAN_ATTEMPTS, writeReport, type DraftOutcome } from './model-calls';

/** How long a cancelled goal waits for its children's partial results before it reports without them. */
const CANCEL_WAIT_MS = 60_000;

/**
 * How long after its deadline a goal's judge and report calls may take, together: then a verdict not given is "not
 * met" and the report is built from the subtasks' results. A slow server's calls (tens of seconds each on a busy
 * 2-core machine, issue 24) must not hold a goal long past the time its user gave it: a judge call of a subtask that
 * returned at the deadline, then a report, each with the model's 5-minute timeout, would hold it past the eval's cap.
 */
export const REPORT_AFTER_DEADLINE_MS = 20_000;

/**
 * The time left until {@link REPORT_AFTER_DEADLINE_MS} after the goal's deadline (at least 1 ms, the shortest timer),
 * measured from the deadline, not from now, so a judge and a report after it share the one window; undefined (no
 * bound) without a deadline.
 */
function afterDeadlineMs(deadlineMs: number | undefined): number | undefined {
  return deadlineMs === undefined ? undefined : Math.max(1, deadlineMs + REPORT_AFTER_DEADLINE_MS - Date.now());
}

/** Judges every run that returned since the last turn; a shortfall queues a replan. */
export async function settleReturned(goal: Goal): Promise<void> {
  for (const run of goal.state.runs.filter((candidate) => candidate.phase === 'returned')) {
    const shortfall = await settle(goal, run as ChildRun & { phase: 'returned' });
    runSettled(run);
    if (shortfall) recordReplan(goal, shortfall.evidence, shortfall.automatic);
  }
}

/** Judges a returned run and updates its subtask; returns evidence for a replan when it fell short. */
async function settle(
  goal: Goal,
  run: ChildRun & { phase: 'returned' },
): Promise<{ evidence: string; automatic: boolean } | null> {
  const { state, settings } = goal;
  const entry = state.entries.find((candidate) => candidate.runWorkflowId === run.workflowId);
  const { result } = run;
  if (!entry) {
    // Cancelled by reconciliation: the new plan is already in place; its partial result is kept as evidence.
    state.evidenceForNextReplan.push(
      `subtask ${run.subtaskId} was cancelled (${run.cancelReason}); partial result: ${outcomeText(result)}`,
    );
    return null;
  }
  entry.result = result;
  if (result.ok) await holdWhilePaused(goal);
  if (result.ok) {
    // The last subtask of the plan to finish answers for the goal's files too (./honest-verdict.ts).
    const last = state.entries.every((other) => other === entry || other.status === 'done');
    const doneToolCalls = state.entries.flatMap((other) =>
      other !== entry && other.status === 'done' && other.result ? other.result.toolCalls : [],
    );
    const scope = { goal: settings.goal, last, doneToolCalls };
    const judged = await beforeDeadline(afterDeadlineMs(settings.limits.deadlineMs), () =>
      checkAndJudge(entry.subtask, result, settings.goalId, scope, ownMeter(state)),
    );
    entry.verdict =
      judged === DEADLINE_PASSED
        ? {
            met: false,
            reason: `the verdict was not given within ${REPORT_AFTER_DEADLINE_MS / 1000} s of the goal's deadline`,
          }
        : judged;
    for (const tool of entry.verdict.missingTools ?? [])
      if (!state.missingTools.includes(tool)) state.missingTools.push(tool);
  }
  entry.status = result.ok ? (entry.verdict?.met ? 'done' : 'failed') : stoppedStatus(result);
  const evidence = evidenceOf(entry.subtask, result, entry.verdict);
  if (evidence === null) return null;
  // A subtask someone cancelled is their decision, not the plan's failure: that replan does not count.
  return {
    evidence: run.cancelReason ? `${evidence} (cancelled: ${run.cancelReason})` : evidence,
    automatic: !run.cancelReason,
  };
}

/** The status of a subtask whose run stopped without an answer. */
function stoppedStatus(result: ExecutorStopped): SubtaskStatus {
  return result.reason === 'cancelled' ? 'cancelled' : 'failed';
}

/** Why the goal must end now instead of going on, if it must. */
export function endingReason({ state, settings }: Goal): GoalFailureReason | 'done' | null {
  if (exhaustedCap(goalBudget(state, settings, Date.now())) !== null) return 'budget_exhausted';
  if (state.replanInbox.some((request) => request.automatic) && state.automaticReplans + 1 > settings.maxReplans) {
    return 'replans_exhausted';
  }
  if (state.replanInbox.length === 0 && allDone(state)) return 'done';
  return null;
}

/**
 * Ends the goal on a used-up budget, naming which (`budget` in the result), as an executor's result names its own.
 * A spent cost says how much in the Web UI details and the report's prompt: a dollar figure is not in the plan.
 */
export function finishOverBudget(goal: Goal): Promise<GoalResult> {
  const budget = goalBudget(goal.state, goal.settings, Date.now());
  const cap = exhaustedCap(budget) ?? 'time';
  const { maxCostUsd } = goal.settings.limits;
  const detail =
    cap === 'cost'
      ? `the goal's cost budget of ${formatUsd(maxCostUsd ?? 0)} is spent (${budget.used.costUsd === null || budget.used.costUsd === undefined ? 'an unknown cost' : formatUsd(budget.used.costUsd)})`
      : undefined;
  return finish(goal, { ok: false, reason: 'budget_exhausted', budget: cap }, detail);
}

/** Ends the goal: cancels what still runs, waits for it, writes the report and returns the result. */
export async function finish(goal: Goal, ending: GoalEnding, detail?: string): Promise<GoalResult> {
  const { state, settings } = goal;
  const reason = ending.ok ? undefined : ending.reason;
  for (const entry of state.entries.filter((candidate) => candidate.status === 'running')) {
    const run = runOf(state, entry.runWorkflowId);
    if (run) cancelRun(run, `the goal is ending (${reason ?? 'done'})`);
  }
  await sendCancels(goal);
  const unreturned = () => state.runs.filter((run) => run.phase === 'starting' || run.phase === 'running');
  // A cancelled goal waits a bounded time: a child that never answers must not hold the goal's end forever.
  if (reason === 'cancelled') await condition(() => unreturned().length === 0, CANCEL_WAIT_MS);
  else await condition(() => unreturned().length === 0);
  for (const run of unreturned()) recordResult(goal, run.workflowId, resultOfFailedRun(run, 'no result in time'));
  for (const entry of state.entries) {
    const run = runOf(state, entry.runWorkflowId);
    if (entry.status === 'running' && run && 'result' in run) {
      entry.result = run.result;
      entry.status = run.result.ok ? 'done' : stoppedStatus(run.result);
    } else if (entry.status === 'pending') entry.status = 'skipped';
  }
  state.status = 'reporting';
  interruptsClosed(state);
  publish(goal);
  await holdWhilePaused(goal);
  const sections = state.entries.map(({ subtask, status, result }) => ({ subtask, status, result }));
  const replans = state.plans.slice(1);
  const fallback = (why: string) => reportFromResults(sections, why);
  const drafted = await beforeDeadline(afterDeadlineMs(settings.limits.deadlineMs), () =>
    writeReport(
      reportRequest(settings.promptGoal, sections, reason ? { reason, replans, detail } : undefined),
      ownMeter(state),
      fallback,
    ),
  );
  const written =
    drafted === DEADLINE_PASSED
      ? fallback(
          `The model's report was not written within ${REPORT_AFTER_DEADLINE_MS / 1000} s of the goal's deadline`,
        )
      : drafted;
  // Said by tandem, not left to the model: a goal that needed a tool nobody has must say which, whatever the report.
  const report = state.missingTools.length ? `${written}\n\n${missingToolsLine(state.missingTools)}` : written;
  state.status = ending.ok ? 'completed' : reason === 'cancelled' ? 'cancelled' : 'failed';
  publish(goal, `**Ended:** ${endingOf(ending)}${detail ? ` · ${detail}` : ''}`);
  return fitGoalResult({
    ...ending,
    report,
    planVersion: state.plans.length,
    subtasks: state.entries.map(({ subtask, status, verdict, result }) => ({
      id: subtask.id,
      title: subtask.title,
      status,
      ...(verdict ? { verdict } : {}),
      ...(result ? { result: compactResult(result) } : {}),
    })),
    usage: goalUsage(state),
    replans,
    ...(state.workspace !== undefined ? { workspace: state.workspace } : {}),
    ...(state.approvals.refusedRepeats > 0 ? { refusedRepeatCalls: state.approvals.refusedRepeats } : {}),
  });
}

/**
 * The result as the run returns it: the undelivered count is read at the last synchronous point before the return,
 * since an interrupt signal may come until the run closes (in its last workflow task too, which the server then
 * replays with the signal), and each one after the report is counted as it comes (`interruptArrived`).
 */
export function withUndelivered(goal: Goal, result: GoalResult): GoalResult {
  const { undelivered } = goal.state;
  return undelivered > 0 ? { ...result, undeliveredInterrupts: undelivered } : result;
}

/**
 * The goal was cancelled: its children are cancelled by request and each returns its partial result (they are not
 * terminated); the goal waits for them (bounded), reports, and returns `reason: 'cancelled'`.
 */
export function finishCancelled(goal: Goal): Promise<GoalResult> {
  goal.state.cancelling = true;
  return finish(goal, { ok: false, reason: 'cancelled' });
}

/** Ends the goal on a replan the model could not make valid: `finish`, with the refused drafts in the result. */
export async function endPlanInvalid(
  goal: Goal,
  draft: DraftOutcome & { ok: false },
  evidence: string[],
): Promise<GoalResult> {
  const version = goal.state.plans.length + 1;
  const why = draft.cutOff
    ? 'the last reply was cut off by the length limit'
    : `last errors: ${draft.errors.join('; ')}`;
  const detail =
    `A replan (evidence: ${evidence.join('; ')}) could not produce a valid plan v${version} in ` +
    `${MAX_PLAN_ATTEMPTS} attempts (${why}).`;
  // Children that returned while the replan was drafted are checked and judged first: a result nobody verified is
  // not reported as done.
  await settleReturned(goal);
  const rejectedDrafts = goal.state.rejectedDrafts.filter((rejected) => rejected.version === version);
  return finish(goal, { ok: false, reason: 'plan_invalid', rejectedDrafts }, detail);
}
