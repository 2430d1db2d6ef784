/**
 * The goal budget: pure arithmetic over what the goal may spend (tokens, executor steps, wall time) and what it has
 * spent, so the planner can check it before each dispatch and after each result, and replay the same decisions.
 */
import type { BudgetAmounts, GoalBudgetKind, GoalBudgetProgress, Subtask, SubtaskBudget } from '../../common/types';

/** The caps a goal set; an absent cap is unlimited. */
export interface GoalLimits {
  maxTokens?: number;
  maxSteps?: number;
  /** US dollars, by the goal's price table (`--max-cost`). */
  maxCostUsd?: number;
  /** Epoch milliseconds. */
  deadlineMs?: number;
}

/** Which cap is used up, if any. */
export type ExhaustedCap = GoalBudgetKind;

/** Used and left of each cap at `nowMs` (workflow clock). */
export function budgetProgress(
  limits: GoalLimits,
  used: Omit<BudgetAmounts, 'seconds'>,
  startedMs: number,
  nowMs: number,
): GoalBudgetProgress {
  const left: Partial<BudgetAmounts> = {};
  if (limits.maxTokens !== undefined) left.tokens = Math.max(0, limits.maxTokens - used.tokens);
  if (limits.maxSteps !== undefined) left.steps = Math.max(0, limits.maxSteps - used.steps);
  // An unknown cost (a call to an unpriced model) leaves nothing of a cost budget: the goal cannot tell what it spent.
  if (limits.maxCostUsd !== undefined) left.costUsd = Math.max(0, limits.maxCostUsd - (used.costUsd ?? Infinity));
  if (limits.deadlineMs !== undefined) left.seconds = Math.max(0, (limits.deadlineMs - nowMs) / 1000);
  return { used: { ...used, seconds: (nowMs - startedMs) / 1000 }, left };
}

/** The first cap with nothing left, or null while every cap has some left. */
export function exhaustedCap(budget: GoalBudgetProgress): ExhaustedCap | null {
  if (budget.left.tokens === 0) return 'tokens';
  if (budget.left.steps === 0) return 'steps';
  if (budget.left.seconds === 0) return 'time';
  if (budget.left.costUsd === 0) return 'cost';
  return null;
}

function minDefined(...values: Array<number | undefined>): number | undefined {
  const defined = values.filter((value): value is number => value !== undefined);
  return defined.length ? Math.min(...defined) : undefined;
}

/**
 * A subtask's budget capped at what is left of the goal's: its own caps, never more than the goal can still afford.
 * A step budget the user gave (`--max-subtask-steps`) is every subtask's, whatever the plan set: the user's word
 * beats the model's guess, which was the cause of subtasks ending at a plan's 20 steps under a user's 200. Integer
 * caps are floored so a fraction left never rounds up.
 */
export function capSubtaskBudget(
  own: SubtaskBudget | undefined,
  userMaxSteps: number | undefined,
  goal: GoalBudgetProgress,
): SubtaskBudget {
  const maxSteps = minDefined(userMaxSteps ?? own?.maxSteps, goal.left.steps);
  const maxTokens = minDefined(own?.maxTokens, goal.left.tokens);
  const maxSeconds = minDefined(own?.maxSeconds, goal.left.seconds);
  return {
    ...(maxSteps === undefined ? {} : { maxSteps: Math.max(1, Math.floor(maxSteps)) }),
    ...(maxTokens === undefined ? {} : { maxTokens: Math.max(1, Math.floor(maxTokens)) }),
    ...(maxSeconds === undefined ? {} : { maxSeconds }),
  };
}

/**
 * Model calls a subtask's time must allow at the slowest latency seen: a tool call, its answer, and as much again for
 * one retry or correction. A plan's `maxSeconds: 10` on a server whose calls take 6-60 s ended every plan version
 * out of time (issue 24).
 */
export const MODEL_CALLS_PER_SUBTASK = 4;

/**
 * Time budgets of `subtasks` raised to what this server measurably needs ({@link MODEL_CALLS_PER_SUBTASK} calls at
 * `slowestCallMs`, the slowest model call of the goal so far), each raise a repair line. Pure: the latency comes
 * from activity results, so replay decides the same. A goal's deadline (`--max-seconds`) still caps the raised
 * budget at dispatch ({@link capSubtaskBudget}); a budget without `maxSeconds` is unlimited and stays so.
 */
export function raiseForServer(subtasks: Subtask[], slowestCallMs: number): { subtasks: Subtask[]; repairs: string[] } {
  const needed = Math.ceil((MODEL_CALLS_PER_SUBTASK * slowestCallMs) / 1000);
  const repairs: string[] = [];
  const raised = subtasks.map((subtask) => {
    const seconds = subtask.budget?.maxSeconds;
    if (seconds === undefined || seconds >= needed) return subtask;
    repairs.push(
      `budget.maxSeconds of subtask "${subtask.id}" raised from ${seconds} to ${needed}: a model call of this goal ` +
        `took ${(slowestCallMs / 1000).toFixed(1)} s on this server, and a subtask needs room for ${MODEL_CALLS_PER_SUBTASK}`,
    );
    return { ...subtask, budget: { ...subtask.budget, maxSeconds: needed } };
  });
  return { subtasks: raised, repairs };
}
