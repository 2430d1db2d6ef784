/**
 * The workflow side of tracing: at its end, a goal or a subtask tells the worker's trace sink (common/tracing.ts).
 * Nothing here touches history or the workflow's random source, so tracing on or off replays the same.
 */
import { proxySinks } from '@temporalio/workflow';
import { endingOf, type EndedResult } from '../common/ending-words';
import type { TraceSinks } from '../common/tracing';
import type { PlanVersion, Subtask } from '../common/types';
import type { TokenUsage } from '../common/usage';

const { tracing } = proxySinks<TraceSinks>();

/** A result with the usage it spent: its cost goes on the span. */
type CostedResult = EndedResult & { usage: TokenUsage };

/** The result's `costUsd`, only when the goal counts cost (a goal started before prices has none). */
function costOf(result: CostedResult): { costUsd?: number | null } {
  return result.usage.costUsd === undefined ? {} : { costUsd: result.usage.costUsd };
}

/** The goal ended with `result` after adopting `plans`. */
export function traceGoalEnd(plans: PlanVersion[], result: CostedResult): void {
  tracing.goalEnded({
    endedMs: Date.now(),
    ending: endingOf(result),
    ok: result.ok,
    ...costOf(result),
    plans: plans.map((plan) => ({
      version: plan.version,
      createdMs: Date.parse(plan.createdAt),
      reason: plan.reason,
      subtasks: plan.subtasks.length,
    })),
  });
}

/** The subtask's executor run chain ended with `result` after `steps` steps. */
export function traceSubtaskEnd(subtask: Subtask, result: CostedResult & { steps: number }): void {
  tracing.subtaskEnded({
    endedMs: Date.now(),
    subtaskId: subtask.id,
    title: subtask.title,
    ending: endingOf(result),
    ok: result.ok,
    ...costOf(result),
    steps: result.steps,
  });
}
