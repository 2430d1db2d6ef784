/**
 * How work comes back and how the goal ends: judging the runs that returned, deciding whether the goal must end, and
 * ending it (cancel what runs, wait for it, report).
 */
import { condition } from '@temporalio/workflow';
import { endingOf } from '../../common/endings';
import type { GoalFailureReason, GoalResult } from '../../common/types';
import { reportFromResults, reportRequest } from '../prompts';
import { compactResult, evidenceOf, fitGoalResult, resultOfFailedRun } from './evidence';
import { exhaustedCap } from './goal-budget';
import { cancelRun, recordResult, sendCancels } from './goal-children';
import { recordReplan } from './goal-plans';
import { holdWhilePaused, publish, type Goal } from './goal-publish';
import { allDone, type ChildRun, goalBudget, goalUsage, runOf, runSettled } from './goal-state';
import { checkAndJudge, MAX_PLAN_ATTEMPTS, writeReport, type DraftOutcome } from './model-calls';

/** How long a cancelled goal waits for its children's partial results before it reports without them. */
const CANCEL_WAIT_MS = 60_000;

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
    const partial = result.partial ?? result.answer ?? result.evidence;
    state.evidenceForNextReplan.push(
      `subtask ${run.subtaskId} was cancelled (${run.cancelReason}); partial result: ${partial}`,
    );
    return null;
  }
  entry.result = result;
  if (result.ok) await holdWhilePaused(goal);
  if (result.ok) entry.verdict = await checkAndJudge(entry.subtask, result, settings.goalId, state.ownUsage);
  entry.status = result.ok && entry.verdict?.met ? 'done' : result.reason === 'cancelled' ? 'cancelled' : 'failed';
  const evidence = evidenceOf(entry.subtask, result, entry.verdict);
  if (evidence === null) return null;
  // A subtask someone cancelled is their decision, not the plan's failure: that replan does not count.
  return {
    evidence: run.cancelReason ? `${evidence} (cancelled: ${run.cancelReason})` : evidence,
    automatic: !run.cancelReason,
  };
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

/** Ends the goal: cancels what still runs, waits for it, writes the report and returns the result. */
export async function finish(
  goal: Goal,
  ok: boolean,
  reason?: GoalFailureReason,
  detail?: string,
): Promise<GoalResult> {
  const { state, settings } = goal;
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
      entry.status = run.result.reason === 'cancelled' ? 'cancelled' : run.result.ok ? 'done' : 'failed';
    } else if (entry.status === 'pending') entry.status = 'skipped';
  }
  state.status = 'reporting';
  publish(goal);
  await holdWhilePaused(goal);
  const sections = state.entries.map(({ subtask, status, result }) => ({ subtask, status, result }));
  const replans = state.plans.slice(1);
  const report = await writeReport(
    reportRequest(settings.promptGoal, sections, reason ? { reason, replans, detail } : undefined),
    state.ownUsage,
    (why) => reportFromResults(sections, why),
  );
  state.status = ok ? 'completed' : reason === 'cancelled' ? 'cancelled' : 'failed';
  publish(goal, `**Ended:** ${endingOf({ ok, reason })}${detail ? ` · ${detail}` : ''}`);
  return fitGoalResult({
    ok,
    report,
    ...(reason ? { reason } : {}),
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
  });
}

/**
 * The goal was cancelled: its children are cancelled by request and each returns its partial result (they are not
 * terminated); the goal waits for them (bounded), reports, and returns `reason: 'cancelled'`.
 */
export function finishCancelled(goal: Goal): Promise<GoalResult> {
  goal.state.cancelling = true;
  return finish(goal, false, 'cancelled');
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
  const result = await finish(goal, false, 'plan_invalid', detail);
  return { ...result, rejectedDrafts: goal.state.rejectedDrafts.filter((rejected) => rejected.version === version) };
}
