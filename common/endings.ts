/**
 * Where a run's result travels when the run does not complete (its ending's words are in ./ending-words.ts): a
 * goal or subtask that ends not ok fails its workflow with a `GoalNotOk` / `SubtaskNotOk` (common/failures.ts)
 * `ApplicationFailure` whose first detail is the whole result, and a cancelled one ends as Canceled with the result in
 * its memo (a Canceled close event carries no details). Sandbox-safe: the workflows, the client and the CLI share it.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { FailureType } from './failures';

/** The failure types whose first detail is the run's result. */
const RESULT_FAILURE_TYPES: ReadonlySet<string> = new Set([FailureType.GoalNotOk, FailureType.SubtaskNotOk]);

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
