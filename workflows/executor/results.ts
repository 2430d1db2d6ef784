/** The executor's result, built from the loop's state: a final answer, or an early end with its partial. */
import type { BudgetKind, ExecutorAnswered, ExecutorEndReason, ExecutorStopped } from '../../common/types';
import type { Budget } from './budget';
import type { LoopState } from './loop-state';

function partialOf(state: LoopState, why: string): string {
  const last = state.lastText ?? state.evidence.at(-1);
  return last === undefined ? why : `${why}\nlast progress: ${last}`;
}

/** The fields every result takes from the loop, however it ended. */
function recordOf(state: LoopState, lastEvidence: string) {
  return {
    steps: state.step,
    usage: state.usage,
    toolCalls: state.toolCalls,
    ...(state.toolCallCount !== undefined ? { toolCallCount: state.toolCallCount } : {}),
    interruptsShown: state.interruptsShown ?? 0,
    evidence: [...state.evidence, lastEvidence].join('\n'),
  };
}

export function finished(state: LoopState, answer: string): ExecutorAnswered {
  state.status = 'done';
  return { ok: true, answer, ...recordOf(state, `final answer: ${answer}`) };
}

/** An end without an answer for any reason but a budget (that one names its budget: {@link budgetEnd}). */
export function ended(state: LoopState, reason: Exclude<ExecutorEndReason, 'budget'>, why: string): ExecutorStopped {
  state.status = reason === 'cancelled' ? 'cancelled' : 'failed';
  return { ok: false, answer: null, reason, partial: partialOf(state, why), ...recordOf(state, `stopped: ${why}`) };
}

export function budgetEnd(state: LoopState, budget: Budget, kind: BudgetKind): ExecutorStopped {
  const limit = {
    steps: `${budget.maxSteps} steps`,
    tokens: `${budget.maxTokens} tokens`,
    time: `${budget.maxSeconds} seconds`,
    cost: `$${budget.maxCostUsd}`,
  }[kind];
  const why = `the ${kind} budget (${limit}) ran out`;
  state.status = 'failed';
  return {
    ok: false,
    answer: null,
    reason: 'budget',
    budget: kind,
    partial: partialOf(state, why),
    ...recordOf(state, `stopped: ${why}`),
  };
}
