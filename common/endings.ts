/**
 * One vocabulary of endings (docs/endings.md), and where a run's result travels when the run does not complete: a
 * goal or subtask that ends not ok fails its workflow with a `GoalNotOk` / `SubtaskNotOk` (common/failures.ts)
 * `ApplicationFailure` whose first detail is the whole result, and a cancelled one ends as Canceled with the result in
 * its memo (a Canceled close event carries no details). Sandbox-safe: the workflows, the client and the CLI share it.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { FailureType } from './failures';

/** The memo key that holds the result of a run that ended as Canceled. */
export const RESULT_MEMO_KEY = 'tandemResult';

/** The failure types whose first detail is the run's result. */
const RESULT_FAILURE_TYPES: ReadonlySet<string> = new Set([FailureType.GoalNotOk, FailureType.SubtaskNotOk]);

/** What every ending is told from: a goal's or a subtask's result. */
export interface EndedResult {
  ok: boolean;
  reason?: string;
}

/**
 * The one word (and reason) for how a result ended, as `result`, `status`, `watch` and the Web UI details print it:
 * `completed`, `cancelled`, or `failed (<reason>)`.
 */
export function endingOf(result: EndedResult): string {
  if (result.ok) return 'completed';
  if (result.reason === 'cancelled') return 'cancelled';
  return result.reason ? `failed (${result.reason})` : 'failed';
}

/**
 * The ending of a run Temporal closed without a result of tandem's (terminated, timed out, an `InvalidGoal`), in the
 * same words: Temporal's execution status in lower case, `CANCELED`/`CANCELLED` as `cancelled`.
 */
export function endingOfStatus(executionStatus: string): string {
  const status = executionStatus.toLowerCase();
  return status === 'canceled' ? 'cancelled' : status;
}

/**
 * The result a failed run carries: the first detail of a `GoalNotOk`/`SubtaskNotOk` failure anywhere in `err`'s cause
 * chain (a `WorkflowFailedError` on the client, a `ChildWorkflowFailure` in the planner); undefined for any other.
 */
export function resultInFailure<T>(err: unknown): T | undefined {
  for (let at: unknown = err, depth = 0; at instanceof Error && depth < 5; depth++, at = at.cause) {
    if (at instanceof ApplicationFailure && at.type && RESULT_FAILURE_TYPES.has(at.type)) {
      return at.details?.[0] as T | undefined;
    }
  }
  return undefined;
}

/** True when `err` (or its cause) says the run ended as Canceled: its result, if any, is in the memo. */
export function endedCancelled(err: unknown): boolean {
  for (let at: unknown = err, depth = 0; at instanceof Error && depth < 5; depth++, at = at.cause) {
    if (at instanceof CancelledFailure) return true;
  }
  return false;
}
