/**
 * The goal's plans: drafting a version with the model, adopting it (reconciled with the work in flight, see
 * ./reconcile.ts), and the replans the handlers and the loop queue.
 */
import { condition } from '@temporalio/workflow';
import { beforeDeadline, DEADLINE_PASSED } from '../executor/deadline';
import type { PlanVersion, Subtask } from '../../common/types';
import { replanRequest } from '../prompts';
import { repairChecksFromGoal } from './check-repair';
import { raiseForServer } from './goal-budget';
import { cancelRun, childWorkflowId } from './goal-children';
import { holdWhilePaused, publish, type Goal } from './goal-publish';
import { answerOf, currentPlan, entryOf, goalBudget, isFinished, ownMeter, runOf } from './goal-state';
import { draftPlan, MAX_PLAN_ATTEMPTS, type DraftOutcome } from './model-calls';
import { fallbackPlan } from './plan';
import { reconcile, repeatsUnfinished } from './reconcile';

/** Queues a replan for the loop; returns the ticket a `revisePlan` update waits on. */
export function recordReplan(goal: Goal, evidence: string, automatic: boolean): number {
  const ticket = goal.state.nextTicket++;
  goal.state.replanInbox.push({ evidence, automatic, ticket });
  return ticket;
}

/** Waits until the replan of `ticket` is adopted (its version) or the goal finishes first (undefined). */
export async function replanAnswered(goal: Goal, ticket: number): Promise<PlanVersion | undefined> {
  const { state } = goal;
  await condition(() => state.versionOfTicket[ticket] !== undefined || isFinished(state));
  const version = state.versionOfTicket[ticket];
  return version === undefined ? undefined : state.plans[version - 1];
}

/** Drafts a plan version with the model (`request` is the plan or replan prompt); refused drafts are kept. */
export async function draft(
  goal: Goal,
  request: string,
  refuse?: (subtasks: Subtask[]) => string | undefined,
): Promise<DraftOutcome> {
  await holdWhilePaused(goal);
  const { state, settings } = goal;
  // What the model cannot be trusted with, repaired in code: expected values from the goal, time the server needs.
  const amend = (subtasks: Subtask[], slowestCallMs: number) => {
    const checked = repairChecksFromGoal(subtasks, settings.goal);
    const timed = raiseForServer(checked.subtasks, Math.max(state.slowestModelCallMs, slowestCallMs));
    return { subtasks: timed.subtasks, repairs: [...checked.repairs, ...timed.repairs] };
  };
  const version = state.plans.length + 1;
  // The goal's deadline bounds its drafts too: a slow server's plan calls (three attempts of a minute each on a busy
  // 2-core machine, issue 24) must not hold a goal long past the time its user gave it.
  const { deadlineMs } = settings.limits;
  const outcome = await beforeDeadline(
    deadlineMs === undefined ? undefined : Math.max(1, deadlineMs - Date.now()),
    () => draftPlan(request, version, ownMeter(state), state.rejectedDrafts, refuse, amend),
  );
  if (outcome === DEADLINE_PASSED) {
    return {
      ok: false,
      cutOff: false,
      outOfTime: true,
      errors: [`the goal's deadline passed while plan v${version} was drafted`],
    };
  }
  state.slowestModelCallMs = Math.max(state.slowestModelCallMs, outcome.slowestCallMs ?? 0);
  return outcome;
}

/** Why a replan that repeats the failed plan is refused, and what would be accepted instead. */
function repeatedPlanError(version: number): string {
  return (
    `this plan repeats the unfinished work of plan v${version}, which just failed, with the same instructions, ` +
    'milestones and budgets; change the work (split it, other instructions or tools, a budget within what is left) ' +
    'so that it can succeed'
  );
}

/** What is left of the goal's budget and the step budget of each subtask, as the replanner is told it. */
function budgetLeftLine({ state, settings }: Goal): string {
  const { left } = goalBudget(state, settings, Date.now());
  const parts = [
    left.steps === undefined ? 'steps: no goal cap' : `steps: ${Math.floor(left.steps)} left for the goal`,
    left.tokens === undefined ? 'tokens: no goal cap' : `tokens: ${Math.floor(left.tokens)} left for the goal`,
    ...(left.seconds === undefined ? [] : [`time: ${Math.floor(left.seconds)} s left`]),
    settings.maxStepsPerSubtask === undefined
      ? 'each subtask: the steps its budget.maxSteps sets (default 20)'
      : `each subtask: ${settings.maxStepsPerSubtask} steps, set by the user (a plan's budget.maxSteps does not change it)`,
  ];
  return parts.join('; ');
}

/**
 * Adopts the first plan; when the model could not produce a valid one, the fallback plan (the goal as its one
 * subtask) instead of failing: the executor's loop alone is better than nothing.
 */
export function adoptFirstPlan(goal: Goal, outcome: DraftOutcome): void {
  if (outcome.ok) {
    adoptPlan(goal, outcome.subtasks, 'initial plan', outcome.repairs);
    return;
  }
  if (outcome.outOfTime) {
    // The loop ends the goal on its deadline next (budget_exhausted); the fallback plan is what its report lists.
    adoptPlan(goal, fallbackPlan(goal.settings.goal), `fallback plan: ${outcome.errors.join('; ')}`);
    return;
  }
  const why = outcome.cutOff
    ? 'its last reply was cut off by the length limit'
    : `last errors: ${outcome.errors.join('; ')}`;
  adoptPlan(
    goal,
    fallbackPlan(goal.settings.goal),
    `fallback plan: the model did not produce a valid plan in ${MAX_PLAN_ATTEMPTS} attempts (${why})`,
  );
}

/** Makes `subtasks` the current plan and reconciles the work in flight with it; returns its version. */
export function adoptPlan(goal: Goal, subtasks: Subtask[], reason: string, repairs: string[] = []): number {
  const { state, settings } = goal;
  const version = state.plans.length + 1;
  state.plans.push({
    version,
    reason,
    createdAt: new Date(Date.now()).toISOString(),
    subtasks,
    ...(repairs.length ? { repairs } : {}),
  });
  const decisions = reconcile(state.entries, subtasks);
  for (const id of decisions.cancel) {
    const run = runOf(state, entryOf(state, id)?.runWorkflowId);
    if (run) cancelRun(run, `plan v${version} dropped or changed ${id}`);
  }
  const kept = new Set([...decisions.keepDone, ...decisions.keepRunning]);
  state.entries = subtasks.map((subtask) => {
    const old = kept.has(subtask.id) ? entryOf(state, subtask.id)! : undefined;
    return old
      ? { ...old, subtask }
      : { subtask, status: 'pending', workflowId: childWorkflowId(settings.goalId, version, subtask.id) };
  });
  state.status = 'running';
  return version;
}

/**
 * How a replan went: a new version adopted, no valid plan (the goal ends `plan_invalid`, ./goal-end.ts), or the
 * goal's deadline passed while it was drafted (the goal ends `budget_exhausted`).
 */
export type ReplanOutcome =
  | { kind: 'adopted'; version: number }
  | { kind: 'invalid'; draft: DraftOutcome & { ok: false }; evidence: string[] }
  | { kind: 'out_of_time' };

/** Replans on every queued request at once. */
export async function replan(goal: Goal): Promise<ReplanOutcome> {
  const { state, settings } = goal;
  const requests = state.replanInbox.splice(0);
  if (requests.some((request) => request.automatic)) state.automaticReplans += 1;
  const evidence = [...requests.map((request) => request.evidence), ...state.evidenceForNextReplan.splice(0)];
  const completed = state.entries
    .filter((entry) => entry.status === 'done')
    .map((entry) => ({ subtask: entry.subtask, answer: answerOf(entry) }));
  const failed = currentPlan(state);
  const left = budgetLeftLine(goal);
  // After a failure, the plan that just failed is not run again as if new: the same work under the same budget
  // would fail the same way. A replan someone asked for may keep it (their evidence may be about something else).
  const refuse = requests.some((request) => request.automatic)
    ? (subtasks: Subtask[]) =>
        repeatsUnfinished(state.entries, subtasks) ? repeatedPlanError(failed.version) : undefined
    : undefined;
  const outcome = await draft(goal, replanRequest(settings.promptGoal, evidence, failed, completed, left), refuse);
  if (!outcome.ok) return outcome.outOfTime ? { kind: 'out_of_time' } : { kind: 'invalid', draft: outcome, evidence };
  const version = adoptPlan(
    goal,
    outcome.subtasks,
    requests.map((request) => request.evidence).join('\n'),
    outcome.repairs,
  );
  for (const request of requests) state.versionOfTicket[request.ticket] = version;
  // Published in the same turn as the adoption, before the cancellations it caused propagate.
  publish(goal);
  return { kind: 'adopted', version };
}
