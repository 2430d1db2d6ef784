/**
 * One vocabulary of endings (docs/endings.md): the words every surface names an ending in. Plain functions with no
 * imports, so the CLI's formatting and the workflows share them without loading the SDK.
 */

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
