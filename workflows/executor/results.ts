/** The executor's result, built from the loop's state: a final answer, or an early end with its partial. */
import type { BudgetKind, ExecutorEndReason, ExecutorResult } from '../../common/types';
import type { Budget } from './budget';
import type { LoopState } from './loop-state';

function partialOf(state: LoopState, why: string): string {
  const last = state.lastText ?? state.evidence.at(-1);
  return last === undefined ? why : `${why}\nlast progress: ${last}`;
}

export function finished(state: LoopState, answer: string): ExecutorResult {
  state.status = 'done';
  const evidence = [...state.evidence, `final answer: ${answer}`].join('\n');
  return { ok: true, answer, steps: state.step, usage: state.usage, ...toolCallsOf(state), evidence };
}

function toolCallsOf(state: LoopState): Pick<ExecutorResult, 'toolCalls' | 'toolCallCount'> {
  return {
    toolCalls: state.toolCalls,
    ...(state.toolCallCount !== undefined ? { toolCallCount: state.toolCallCount } : {}),
  };
}

export function ended(state: LoopState, reason: ExecutorEndReason, why: string, budget?: BudgetKind): ExecutorResult {
  state.status = reason === 'cancelled' ? 'cancelled' : 'failed';
  return {
    ok: false,
    answer: null,
    reason,
    ...(budget ? { budget } : {}),
    partial: partialOf(state, why),
    steps: state.step,
    usage: state.usage,
    ...toolCallsOf(state),
    evidence: [...state.evidence, `stopped: ${why}`].join('\n'),
  };
}

export function budgetEnd(state: LoopState, budget: Budget, kind: BudgetKind): ExecutorResult {
  const limit = {
    steps: `${budget.maxSteps} steps`,
    tokens: `${budget.maxTokens} tokens`,
    time: `${budget.maxSeconds} seconds`,
  }[kind];
  return ended(state, 'budget', `the ${kind} budget (${limit}) ran out`, kind);
}
