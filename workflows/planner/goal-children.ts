/**
 * The planner's child executors: starting the ready subtasks, and the messages the loop hands them (pause and resume,
 * approval decisions, cancel requests; interrupts have ./interrupts.ts). Decisions are taken over the plain state (./goal-state.ts);
 * ./goal-effects.ts carries them out.
 */
import { log } from '@temporalio/workflow';
import { approvalDecisionSignal, deniedCallsSignal, pauseSignal, resumeSignal } from '../../common/contract';
import type { ExecutorResult } from '../../common/types';
import { runEndedHolding } from './approvals';
import { resultOfFailedRun } from './evidence';
import { capSubtaskBudget, exhaustedCap } from './goal-budget';
import { cancelExecutor, signalExecutor, startExecutor } from './goal-effects';
import type { Goal } from './goal-publish';
import { takeQueuedInterrupts } from './interrupts';
import {
  ANY_SUBTASK,
  cancelDecided,
  answerOf,
  cancelsToSend,
  type ChildRun,
  currentPlan,
  type Entry,
  entryOf,
  goalBudget,
  runDispatched,
  runningEntries,
  runOf,
  runReturned,
  runStarted,
} from './goal-state';
import { readySubtasks } from './plan';

/** Deterministic, readable child ids (goal, plan version, subtask) so a subtask can be found in the Web UI. */
export function childWorkflowId(goalId: string, planVersion: number, subtaskId: string): string {
  return `${goalId}.v${planVersion}.${subtaskId}`;
}

/** A child's result arrived (by signal or by its completion): whatever it held for approval is resolved too. */
export function recordResult(goal: Goal, workflowId: string, result: ExecutorResult): void {
  const run = runOf(goal.state, workflowId);
  if (!run) return;
  goal.state.undelivered += runReturned(run, result);
  runEndedHolding(goal.state.approvals, workflowId);
}

/** Starts the ready subtasks, up to `maxParallel` running at once and while the budget lasts. */
export function dispatchReady(goal: Goal): void {
  const { state, settings } = goal;
  if (state.paused) return;
  let started = false;
  for (const subtask of readySubtasks(currentPlan(state).subtasks, (id) => entryOf(state, id)?.status)) {
    if (runningEntries(state).length >= settings.maxParallel) break;
    if (exhaustedCap(goalBudget(state, settings, Date.now())) !== null) break;
    dispatch(goal, entryOf(state, subtask.id)!);
    started = true;
  }
  if (started) delete state.queuedInterrupts[ANY_SUBTASK];
}

function dispatch(goal: Goal, entry: Entry): void {
  const { state, settings } = goal;
  const run = runDispatched(state, entry);
  const context = Object.fromEntries(entry.subtask.dependsOn.map((id) => [id, answerOf(entryOf(state, id))]));
  const goalNow = goalBudget(state, settings, Date.now());
  const budget = capSubtaskBudget(entry.subtask.budget, settings.maxStepsPerSubtask, goalNow);
  // Dollars are not a plan's budget (the model never sets them): the run gets what is left of the goal's.
  const costLeft = goalNow.left.costUsd;
  const interrupts = takeQueuedInterrupts(goal, entry.subtask.id);
  run.denialsKnown = state.approvals.learned;
  run.interruptsSent = interrupts?.length ?? 0;
  // A fork's resumed subtask starts from its seed once: a later run of it (after a replan) starts afresh.
  const seed = state.seeds?.[entry.subtask.id];
  if (seed) delete state.seeds![entry.subtask.id];
  startExecutor(
    run.workflowId,
    `${entry.subtask.id} · ${entry.subtask.title}`,
    {
      subtask: entry.subtask,
      workspace: settings.goalId,
      context,
      tools: entry.subtask.tools,
      budget,
      // The goal's denials so far go with the policy, later ones by signal (`forwardDenials`): an identical call is
      // refused without asking a person again.
      ...(settings.approval
        ? {
            approval: {
              ...settings.approval,
              denials: state.approvals.denials,
              planVersion: currentPlan(state).version,
            },
          }
        : {}),
      interrupts,
      reportTo: settings.goalId,
      ...(seed ? { seed } : {}),
      ...(settings.model ? { model: settings.model } : {}),
      ...(state.prices ? { prices: state.prices } : {}),
      ...(costLeft === undefined || costLeft === null ? {} : { maxCostUsd: costLeft }),
    },
    {
      // A cancel decided before the child started is sent at the loop's next turn (`cancelsToSend`).
      started: () => {
        runStarted(run);
        const held = run.heldInterrupts?.splice(0) ?? [];
        state.interruptInbox.push(...held.map((message) => ({ message, subtaskId: run.subtaskId })));
      },
      returned: (result) => recordResult(goal, run.workflowId, result),
      failed: (err) => recordResult(goal, run.workflowId, resultOfFailedRun(run, err)),
    },
  );
}

/** Decides to cancel a run; the loop sends the request (handlers and decisions only record). */
export function cancelRun(run: ChildRun, reason: string): void {
  cancelDecided(run, reason);
}

/** Sends the cancel requests decided since the last turn. */
export async function sendCancels(goal: Goal): Promise<void> {
  for (const run of cancelsToSend(goal.state)) {
    run.cancelSent = true;
    await cancelExecutor(run.workflowId);
  }
}

/** Sends `send` to each running child that has started and not returned. */
async function toRunning(goal: Goal, send: (run: ChildRun) => Promise<unknown>): Promise<void> {
  for (const entry of runningEntries(goal.state)) {
    const run = runOf(goal.state, entry.runWorkflowId);
    if (run?.phase === 'running') await send(run);
  }
}

/** Forwards a pause or resume to the running children. */
export async function forwardPause(goal: Goal): Promise<void> {
  const { state } = goal;
  state.pausedForwarded = state.paused;
  await toRunning(goal, (run) => signalExecutor(run.workflowId, state.paused ? pauseSignal : resumeSignal));
}

/** Hands each accepted approval decision to the executor that holds the call. */
export async function forwardDecisions(goal: Goal): Promise<void> {
  for (const accepted of goal.state.approvals.inbox.splice(0)) {
    const run = runOf(goal.state, accepted.workflowId);
    if (run?.phase === 'running') await signalExecutor(run.workflowId, approvalDecisionSignal, accepted.decision);
    accepted.forwarded = true;
  }
}

/**
 * Tells each running child the goal's denials it does not know yet (`deniedCallsSignal`), so a call a person denied
 * in one subtask is refused without asking in the others running at the same time. A child that closed meanwhile
 * needs none.
 */
export async function forwardDenials(goal: Goal): Promise<void> {
  const { approvals } = goal.state;
  await toRunning(goal, async (run) => {
    const behind = approvals.learned - (run.denialsKnown ?? 0);
    if (behind <= 0) return;
    run.denialsKnown = approvals.learned;
    await signalExecutor(run.workflowId, deniedCallsSignal, { denials: approvals.denials.slice(-behind) });
  });
}

/**
 * Cancels the subtasks someone asked to cancel: a running one's child, a pending one before it starts (which queues a
 * replan that does not count against `maxReplans`).
 */
export function applyCancels(goal: Goal, recordReplan: (evidence: string, automatic: boolean) => void): void {
  const { state } = goal;
  for (const { subtaskId, reason } of state.cancelInbox.splice(0)) {
    const entry = entryOf(state, subtaskId);
    const run = runOf(state, entry?.runWorkflowId);
    if (entry?.status === 'running' && run) cancelRun(run, reason);
    else if (entry?.status === 'pending') {
      entry.status = 'cancelled';
      recordReplan(`subtask ${subtaskId} was cancelled before it started: ${reason}`, false);
    } else
      log.warn('cancelSubtask dropped: the subtask is not pending or running', { subtaskId, status: entry?.status });
  }
}
