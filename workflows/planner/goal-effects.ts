/**
 * Every Temporal effect the planner has, in one small module: starting a child executor, signalling and cancelling
 * one, the search attributes and the Web UI details, and the loop's bounded wait. The rest of the planner decides over
 * its plain state (./goal-state.ts) and calls these to act, so its decisions can be read and tested apart from them.
 */
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  setCurrentDetails,
  startChild,
  upsertSearchAttributes,
  type SignalDefinition,
} from '@temporalio/workflow';
import { planVersionSearchAttribute, statusSearchAttribute, tokensSearchAttribute } from '../../common/contract';
import { resultInFailure } from '../../common/endings';
import type { ExecutorInput, ExecutorResult, GoalStatus } from '../../common/types';
import { executorWorkflow } from '../executor/executor';

/**
 * Starts a child executor that outlives this run (`ParentClosePolicy.ABANDON`), so a continue-as-new does not end it,
 * and that reports its progress and result to the goal's workflow id (`input.reportTo`). Its completion is awaited
 * too while this run lasts (it catches a child that failed instead of returning), in a scope the goal's cancellation
 * does not reach: the goal cancels its children by request ({@link cancelExecutor}) and waits for their partials.
 */
export function startExecutor(
  workflowId: string,
  staticSummary: string,
  input: ExecutorInput,
  events: { started: () => void; returned: (result: ExecutorResult) => void; failed: (err: unknown) => void },
): void {
  void CancellationScope.nonCancellable(async () => {
    const handle = await startChild(executorWorkflow, {
      workflowId,
      staticSummary,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      cancellationType: ChildWorkflowCancellationType.ABANDON,
      args: [input],
    });
    events.started();
    return handle.result();
    // A subtask that did not reach its answer fails its workflow with its result in the failure (../ending.ts).
  }).then(events.returned, (err) => {
    const result = resultInFailure<ExecutorResult>(err);
    if (result) events.returned(result);
    else events.failed(err);
  });
}

/**
 * The one place the planner sends a message to a child executor, by workflow id, which works from any run of the
 * planner (after a continue-as-new too). Returns whether the signal was accepted.
 */
export async function signalExecutor<Args extends unknown[]>(
  workflowId: string,
  signal: SignalDefinition<Args>,
  ...args: Args
): Promise<boolean> {
  try {
    await getExternalWorkflowHandle(workflowId).signal(signal, ...args);
    return true;
  } catch (err) {
    // The child may have just finished: a message it can no longer act on is not the planner's failure.
    log.warn('could not signal a child executor', { workflowId, signal: signal.name, error: String(err) });
    return false;
  }
}

/** Asks a child executor to cancel: it ends its loop and returns its partial result (it is not terminated). */
export async function cancelExecutor(workflowId: string): Promise<void> {
  try {
    await getExternalWorkflowHandle(workflowId).cancel();
  } catch (err) {
    log.warn('could not cancel a child executor', { workflowId, error: String(err) });
  }
}

/**
 * Upserts the search attributes when they changed since `published` (each upsert is a history event); returns what
 * is published now.
 */
export function publishSearchAttributes(
  published: string,
  shown: { status: GoalStatus; planVersion: number; tokens: number },
): string {
  const now = `${shown.status}|${shown.planVersion}|${shown.tokens}`;
  if (now === published) return published;
  upsertSearchAttributes([
    { key: statusSearchAttribute, value: shown.status },
    { key: planVersionSearchAttribute, value: shown.planVersion },
    { key: tokensSearchAttribute, value: shown.tokens },
  ]);
  return now;
}

/** The Web UI's current details (not a history event). */
export function publishDetails(markdown: string): void {
  setCurrentDetails(markdown);
}

/** Waits until `ready`, or until `deadlineMs` (workflow clock) passes when one is set. */
export async function waitUntil(ready: () => boolean, deadlineMs: number | undefined, nowMs: number): Promise<void> {
  // The deadline wakes the loop by itself: nothing else may happen when it passes.
  if (deadlineMs === undefined) await condition(ready);
  else await condition(ready, Math.max(1, deadlineMs - nowMs));
}
