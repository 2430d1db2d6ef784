/**
 * Per-subtask budgets: which limits apply, what is left, and which one ran out. Pure (the caller passes the workflow
 * clock's `now`), so it is unit-tested without a server.
 */
import type { BudgetKind, BudgetLeft, ExecutorInput } from '../../common/types';
import { tokensOf, type TokenUsage } from '../../common/usage';

/** Steps (LLM calls) a subtask may take when neither the planner nor the subtask says otherwise. */
export const DEFAULT_MAX_STEPS = 20;

/** The limits of one executor run; tokens and time are unlimited when absent. */
export interface Budget {
  maxSteps: number;
  maxTokens?: number;
  maxSeconds?: number;
  /** Dollars, by the goal's prices (what was left of `--max-cost` at dispatch). */
  maxCostUsd?: number;
}

/** What the loop has spent so far; `startedAt` and `now` are workflow-clock milliseconds. */
export interface Spent {
  steps: number;
  usage: TokenUsage;
  startedAt: number;
  now: number;
}

/** The planner's budget wins field by field over the subtask's own; then the defaults. */
export function resolveBudget(input: Pick<ExecutorInput, 'budget' | 'subtask' | 'maxCostUsd'>): Budget {
  const own = input.subtask.budget ?? {};
  const given = input.budget ?? {};
  return {
    maxSteps: given.maxSteps ?? own.maxSteps ?? DEFAULT_MAX_STEPS,
    maxTokens: given.maxTokens ?? own.maxTokens,
    maxSeconds: given.maxSeconds ?? own.maxSeconds,
    ...(input.maxCostUsd === undefined ? {} : { maxCostUsd: input.maxCostUsd }),
  };
}

/** Milliseconds left before the deadline, or undefined without a time budget. */
export function msLeft(budget: Budget, spent: Pick<Spent, 'startedAt' | 'now'>): number | undefined {
  if (budget.maxSeconds === undefined) return undefined;
  return Math.max(0, spent.startedAt + budget.maxSeconds * 1000 - spent.now);
}

/** The budget as the `progress` query shows it. */
export function budgetLeft(budget: Budget, spent: Spent): BudgetLeft {
  const tokens = tokensOf(spent.usage);
  const ms = msLeft(budget, spent);
  return {
    maxSteps: budget.maxSteps,
    maxTokens: budget.maxTokens ?? null,
    maxSeconds: budget.maxSeconds ?? null,
    stepsLeft: Math.max(0, budget.maxSteps - spent.steps),
    tokensLeft: budget.maxTokens === undefined ? null : Math.max(0, budget.maxTokens - tokens),
    secondsLeft: ms === undefined ? null : ms / 1000,
  };
}

/** The first budget that leaves no room for another step, or undefined while all have some. */
export function exhaustedBudget(budget: Budget, spent: Spent): BudgetKind | undefined {
  const left = budgetLeft(budget, spent);
  if (left.stepsLeft === 0) return 'steps';
  if (left.tokensLeft === 0) return 'tokens';
  if (left.secondsLeft === 0) return 'time';
  // An unknown cost (an unpriced model) cannot be held to a cost budget: it leaves none, as the goal's check does.
  const cost = spent.usage.costUsd;
  if (budget.maxCostUsd !== undefined && (cost === null || (cost ?? 0) >= budget.maxCostUsd)) return 'cost';
  return undefined;
}
