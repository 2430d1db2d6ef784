/**
 * The goal's price table: read once at its start and kept in its state, so every call of the goal (and of its
 * executors, which get it in their input) is priced by the same table, in replay too (docs/cost.md).
 */
import { ApplicationFailure, patched } from '@temporalio/workflow';
import { unpricedModels } from '../../common/cost';
import { FailureType } from '../../common/failures';
import { loadPrices } from '../activity-stubs';
import { PRICES_AT_GOAL_START } from '../patches';
import type { Goal } from './goal-publish';

/**
 * Reads the prices into the goal's state; the goal's cost starts at 0. A cost budget (`--max-cost`) is refused at
 * once when a model the goal will call has no price: it could never be counted, so the budget could never hold.
 */
export async function adoptPrices({ state, settings }: Goal): Promise<void> {
  if (!patched(PRICES_AT_GOAL_START)) return;
  const loaded = await loadPrices();
  const models = settings.model ? [...loaded.models, settings.model] : loaded.models;
  const missing = unpricedModels(loaded.prices, models);
  if (settings.limits.maxCostUsd !== undefined && missing.length) {
    throw ApplicationFailure.nonRetryable(
      `--max-cost ${settings.limits.maxCostUsd} needs a price for every model the goal calls, and the worker's price ` +
        `table has none for ${missing.map((model) => `"${model}"`).join(', ')}: add it to a file named by ` +
        'TANDEM_PRICES_FILE on the worker (docs/cost.md), or start the goal without --max-cost',
      FailureType.InvalidGoal,
    );
  }
  state.prices = loaded.prices;
  state.ownUsage.costUsd = 0;
}
