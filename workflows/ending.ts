/**
 * How a planner or executor run hands its result to Temporal, so that the Web UI's status is the outcome: an ok result
 * completes the run; a cancelled one is written to the memo and the run ends as Canceled; any other not-ok result
 * fails the run with a non-retryable `GoalNotOk`/`SubtaskNotOk` whose first detail is the result (common/endings.ts
 * reads both back). Applied once, at the very end of each workflow, after its cleanup and `allHandlersFinished`.
 *
 * Every run also writes its final `progress` to its memo as it ends, in the same upsert, so `tandem status` of a
 * closed run reads it from a describe: a query would have a worker replay the whole history to give the same answer.
 */
import { ActivityFailure, ApplicationFailure, CancelledFailure, upsertMemo } from '@temporalio/workflow';
import { endingOf, type EndedResult } from '../common/ending-words';
import { payloadBytes } from '../common/limits';
import { PROGRESS_MEMO_BYTES, PROGRESS_MEMO_KEY, RESULT_MEMO_KEY } from '../common/names';
import { FailureType } from '../common/failures';

/**
 * Writes `memo` plus the run's final progress (what its `progress` query answers from now on) in one upsert, one
 * history event. A progress over {@link PROGRESS_MEMO_BYTES} is left out, and `status` asks the query instead: the
 * memo travels in every visibility record, so every `list` and Web UI page would carry it.
 */
function writeMemo(progress: unknown, memo: Record<string, unknown> = {}): void {
  const fields = payloadBytes(progress) <= PROGRESS_MEMO_BYTES ? { ...memo, [PROGRESS_MEMO_KEY]: progress } : memo;
  if (Object.keys(fields).length > 0) upsertMemo(fields);
}

/** Writes the final `progress` of a run about to fail as a workflow (an error {@link endWith} does not cover). */
export function recordFinalProgress(progress: unknown): void {
  writeMemo(progress);
}

/**
 * Returns `result` when it is ok; otherwise throws what ends the run as Failed or Canceled, carrying `result`. Either
 * way the run's final `progress` goes to its memo first.
 */
export function endWith<T extends EndedResult>(result: T, kind: 'goal' | 'subtask', progress: unknown): T {
  if (result.ok) {
    writeMemo(progress);
    return result;
  }
  if (result.reason === 'cancelled') {
    writeMemo(progress, { [RESULT_MEMO_KEY]: result });
    // Thrown after a cancel request, the SDK closes the run as Canceled (the memo keeps the partial result and report).
    throw new CancelledFailure(`the ${kind} was cancelled`);
  }
  writeMemo(progress);
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
