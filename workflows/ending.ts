/**
 * How a planner or executor run hands its result to Temporal, so that the Web UI's status is the outcome: an ok result
 * completes the run; a cancelled one is written to the memo and the run ends as Canceled; any other not-ok result
 * fails the run with a non-retryable `GoalNotOk`/`SubtaskNotOk` whose first detail is the result (common/endings.ts
 * reads both back). Applied once, at the very end of each workflow, after its cleanup and `allHandlersFinished`.
 */
import { ActivityFailure, ApplicationFailure, CancelledFailure, upsertMemo } from '@temporalio/workflow';
import { endingOf, type EndedResult } from '../common/ending-words';
import { RESULT_MEMO_KEY } from '../common/names';
import { FailureType } from '../common/failures';

/** Returns `result` when it is ok; otherwise throws what ends the run as Failed or Canceled, carrying `result`. */
export function endWith<T extends EndedResult>(result: T, kind: 'goal' | 'subtask'): T {
  if (result.ok) return result;
  if (result.reason === 'cancelled') {
    upsertMemo({ [RESULT_MEMO_KEY]: result });
    // Thrown after a cancel request, the SDK closes the run as Canceled (the memo keeps the partial result and report).
    throw new CancelledFailure(`the ${kind} was cancelled`);
  }
  throw ApplicationFailure.create({
    type: kind === 'goal' ? FailureType.GoalNotOk : FailureType.SubtaskNotOk,
    message: `the ${kind} ended ${endingOf(result)}`,
    nonRetryable: true,
    details: [result],
  });
}

/**
 * Why a run failed as a workflow, in one line for the Web UI details: the deepest cause's words and failure type,
 * prefixed by the activity that failed ("callModel failed: HTTP 401 ... [ModelRequestRejected]"), since the outer
 * `ActivityFailure` says only "Activity task failed".
 */
export function failureMessage(err: unknown): string {
  let activity: string | undefined;
  let type: string | undefined;
  let at: unknown = err;
  for (let depth = 0; at instanceof Error && at.cause instanceof Error && depth < 5; depth++) {
    if (at instanceof ActivityFailure) activity ??= at.activityType;
    at = at.cause;
  }
  if (at instanceof ApplicationFailure && at.type) type = at.type;
  const message = at instanceof Error ? at.message : String(at);
  return `${activity ? `${activity} failed: ` : ''}${message}${type ? ` [${type}]` : ''}`;
}
