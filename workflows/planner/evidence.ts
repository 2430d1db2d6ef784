/**
 * What the planner learns from a finished child: its result when it could not return one, and the evidence a
 * shortfall gives the replanner. Pure string building over results.
 */
import {
  GOAL_RESULT_TOOL_CALLS,
  PAYLOAD_BUDGET_BYTES,
  payloadBytes,
  preview,
  RESULT_TEXT_CHARS,
} from '../../common/limits';
import { type ExecutorResult, type GoalResult, stopReason, type Subtask, type Verdict } from '../../common/types';
import type { RunSoFar } from './goal-state';

/** The partial result of a run that ended without returning one (cancelled, or the child failed). */
export function resultOfFailedRun(run: RunSoFar, err: unknown): ExecutorResult {
  const cancelled = run.cancelReason !== undefined;
  const message = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  const why = cancelled ? 'the executor was cancelled before it returned a result' : `the executor failed: ${message}`;
  return {
    ok: false,
    answer: null,
    reason: cancelled ? 'cancelled' : 'model_error',
    partial: why,
    steps: run.steps,
    usage: run.usage,
    toolCalls: [],
    evidence: why,
  };
}

/** Why a finished run needs a replan, as evidence for the model; null when it met its milestone. */
export function evidenceOf(subtask: Subtask, result: ExecutorResult, verdict: Verdict | undefined): string | null {
  if (result.ok && verdict?.met) return null;
  if (result.ok) return `subtask ${subtask.id} missed its milestone "${subtask.milestone}": ${verdict?.reason}`;
  return `subtask ${subtask.id} did not finish (${stopReason(result)}); partial result: ${result.partial}`;
}

/**
 * A result as the goal's result, `progress` and continue-as-new state quote it: texts as bounded previews, the latest
 * {@link GOAL_RESULT_TOOL_CALLS} tool calls. The child's own result (in its history) keeps the rest.
 */
export function compactResult(result: ExecutorResult): ExecutorResult {
  const evidence =
    result.evidence.length > RESULT_TEXT_CHARS ? `…${result.evidence.slice(-RESULT_TEXT_CHARS)}` : result.evidence;
  const record = {
    toolCalls: result.toolCalls.slice(-GOAL_RESULT_TOOL_CALLS),
    toolCallCount: result.toolCallCount ?? result.toolCalls.length,
    evidence,
  };
  return cutTexts({ ...result, ...record }, RESULT_TEXT_CHARS);
}

/** The result with its answer (or partial) cut to a preview of `chars`. */
function cutTexts(result: ExecutorResult, chars: number): ExecutorResult {
  return result.ok
    ? { ...result, answer: preview(result.answer, chars) }
    : { ...result, partial: preview(result.partial, chars) };
}

/**
 * The goal's result, made to fit the payload budget whatever the plan's size: already compacted per subtask, then, if
 * still too large, without the replans' subtask lists and finally without per-subtask tool calls and evidence.
 */
export function fitGoalResult(result: GoalResult): GoalResult {
  if (payloadBytes(result) <= PAYLOAD_BUDGET_BYTES) return result;
  const lighter: GoalResult = { ...result, replans: result.replans.map((plan) => ({ ...plan, subtasks: [] })) };
  if (payloadBytes(lighter) <= PAYLOAD_BUDGET_BYTES) return lighter;
  const lightest: GoalResult = {
    ...lighter,
    subtasks: lighter.subtasks.map((subtask) =>
      subtask.result
        ? {
            ...subtask,
            result: { ...subtask.result, toolCalls: [], evidence: preview(subtask.result.evidence, 500) },
          }
        : subtask,
    ),
  };
  if (payloadBytes(lightest) <= PAYLOAD_BUDGET_BYTES) return lightest;
  return {
    ...lightest,
    report: preview(lightest.report, 200_000),
    subtasks: lightest.subtasks.map(({ result: r, ...rest }) => ({
      ...rest,
      ...(r
        ? {
            result: cutTexts(r, 500),
          }
        : {}),
    })),
  };
}
