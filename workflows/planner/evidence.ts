/**
 * What the planner learns from a finished child: its result when it could not return one, and the evidence a
 * shortfall gives the replanner. Pure string building over results.
 */
import type { ExecutorResult, Subtask, Verdict } from '../../common/types';
import type { TokenUsage } from '../../common/usage';

/** What the planner knows of a run while it is in flight (from the executor's step reports). */
export interface RunSoFar {
  steps: number;
  usage: TokenUsage;
  /** Set when the planner cancelled the run, with why. */
  cancelReason?: string;
}

/** The partial result of a run that ended without returning one (cancelled, or the child failed). */
export function resultOfFailedRun(run: RunSoFar, err: unknown): ExecutorResult {
  const cancelled = run.cancelReason !== undefined;
  const message = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  return {
    ok: false,
    answer: null,
    reason: cancelled ? 'cancelled' : 'model_error',
    steps: run.steps,
    usage: run.usage,
    toolCalls: [],
    evidence: cancelled ? 'the executor was cancelled before it returned a result' : `the executor failed: ${message}`,
  };
}

/** Why a finished run needs a replan, as evidence for the model; null when it met its milestone. */
export function evidenceOf(subtask: Subtask, result: ExecutorResult, verdict: Verdict | undefined): string | null {
  if (result.ok && verdict?.met) return null;
  if (result.ok) return `subtask ${subtask.id} missed its milestone "${subtask.milestone}": ${verdict?.reason}`;
  const why = result.reason === 'budget' ? `budget: ${result.budget}` : (result.reason ?? 'failed');
  const partial = result.partial ?? result.answer ?? result.evidence;
  return `subtask ${subtask.id} did not finish (${why})${partial ? `; partial result: ${partial}` : ''}`;
}
