/** Token usage arithmetic: one value type, added up the same way by both loops, the CLI and the bench. */

/** Tokens of one or more model calls, as the endpoint reports them (`usage.prompt_tokens`, `completion_tokens`). */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /**
   * Some of these tokens were counted by tandem's tokenizer because the server reported no (or partial) usage. Absent
   * when every figure is the server's own. Budgets count estimated tokens like reported ones.
   */
  estimated?: boolean;
  /**
   * Of `promptTokens`, those the server read from its prompt cache (`prompt_tokens_details.cached_tokens`): a part of
   * the prompt, never added to it, priced at the cached rate (docs/cost.md). Absent when the server reported none.
   */
  cachedTokens?: number;
  /**
   * What these calls cost in US dollars, by the goal's price table (common/cost.ts): `null` when a call's model has no
   * price (then `unpricedModels` names it), absent when no call was priced (goals started before prices existed).
   */
  costUsd?: number | null;
  /** Models of these calls that the price table has no price for; absent when every call was priced. */
  unpricedModels?: string[];
}

/** A fresh zero usage (a new object each call, so callers may add into it). */
export function zeroUsage(): TokenUsage {
  return { promptTokens: 0, completionTokens: 0 };
}

/**
 * Dollars rounded to the picodollar (1e-12): binary fractions make $0.0000297 + $0.000009 print as
 * 0.000038700000000000006, and nothing a person or a budget reads lies below a millionth of a cent.
 */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e12) / 1e12;
}

/**
 * Adds `more` into `total` in place and returns `total`. A cost adds like tokens, except that one unknown cost makes
 * the sum unknown: a total that left out an unpriced call would understate what was spent.
 */
export function addUsage(total: TokenUsage, more: TokenUsage): TokenUsage {
  total.promptTokens += more.promptTokens;
  total.completionTokens += more.completionTokens;
  // Only ever set, never written as false: usage that was all reported keeps exactly its old shape in history.
  if (more.estimated) total.estimated = true;
  if (more.cachedTokens) total.cachedTokens = (total.cachedTokens ?? 0) + more.cachedTokens;
  if (more.costUsd !== undefined) {
    total.costUsd =
      total.costUsd === null || more.costUsd === null ? null : roundUsd((total.costUsd ?? 0) + more.costUsd);
  }
  if (more.unpricedModels?.length) {
    total.unpricedModels = [...new Set([...(total.unpricedModels ?? []), ...more.unpricedModels])];
  }
  return total;
}

/** Prompt plus completion tokens: the figure budgets, the CLI and the Web UI count. */
export function tokensOf(usage: TokenUsage): number {
  return usage.promptTokens + usage.completionTokens;
}
