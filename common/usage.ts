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
}

/** A fresh zero usage (a new object each call, so callers may add into it). */
export function zeroUsage(): TokenUsage {
  return { promptTokens: 0, completionTokens: 0 };
}

/** Adds `more` into `total` in place and returns `total`. */
export function addUsage(total: TokenUsage, more: TokenUsage): TokenUsage {
  total.promptTokens += more.promptTokens;
  total.completionTokens += more.completionTokens;
  // Only ever set, never written as false: usage that was all reported keeps exactly its old shape in history.
  if (more.estimated) total.estimated = true;
  return total;
}

/** Prompt plus completion tokens: the figure budgets, the CLI and the Web UI count. */
export function tokensOf(usage: TokenUsage): number {
  return usage.promptTokens + usage.completionTokens;
}
