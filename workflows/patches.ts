/**
 * Every patch id the workflows branch on, one constant each (docs/versioning.md): a patch says what it guards and when
 * it may go. Ids are never renamed or reused, or runs in flight would change path.
 */

/**
 * A goal reads its price table at its start (`loadPrices`, one local-activity marker) and prices every model call
 * (docs/cost.md). Guards the goals recorded before it, which issued no such command. Deprecate once every goal started
 * before issue 22 has closed; remove after every goal recorded without the deprecation marker has closed.
 */
export const PRICES_AT_GOAL_START = 'prices-at-goal-start';
