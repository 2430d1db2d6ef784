/**
 * Cost in money: which price a model name has in the goal's price table, and what a call's usage costs by it. Pure and
 * sandbox-safe, so the planner and the executors price every call in workflow code, from the usage the `callModel`
 * activity returned and the table the goal read once at its start (`loadPrices`): a price file edited mid-goal
 * changes neither the costs nor the decisions a replay recomputes. docs/cost.md documents the table and the rule.
 */
import { addUsage, roundUsd, type TokenUsage } from './usage';

/** US dollars per million tokens of one model; cached input is priced as input when the entry has no cached rate. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
  cachedInputPerMillion?: number;
}

/** Prices by model name, names lower-cased; a name ending in `*` is a prefix entry (`llama*`). */
export type PriceTable = Record<string, ModelPrice>;

/** A price found for a model, and the table entry that gave it. */
export interface PriceMatch {
  entry: string;
  price: ModelPrice;
}

/** A date or snapshot suffix a provider adds to a model's name: `-2024-08-06`, `-20241022`, `-0613`. */
const DATE_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$/;

/**
 * The names a model is looked up by, in order: itself, without its date suffix, and both again without a router's
 * provider prefix (`openai/gpt-4o` → `gpt-4o`). Lower-cased: servers differ in case, prices do not.
 */
function lookupNames(model: string): string[] {
  const name = model.trim().toLowerCase();
  const bare = name.slice(name.lastIndexOf('/') + 1);
  return [...new Set([name, name.replace(DATE_SUFFIX, ''), bare, bare.replace(DATE_SUFFIX, '')])];
}

/**
 * The price of `model`: an exact entry for one of its {@link lookupNames} first, then the longest prefix entry
 * (`name*`) that one of them starts with. There is no other prefix rule: `gpt-4o-mini` must never be priced as
 * `gpt-4o`. Undefined when nothing matches: the caller reports the cost as unknown, never as 0.
 */
export function priceFor(table: PriceTable, model: string): PriceMatch | undefined {
  const names = lookupNames(model);
  for (const name of names) {
    const price = table[name];
    if (price) return { entry: name, price };
  }
  const prefixes = Object.keys(table)
    .filter((entry) => entry.endsWith('*'))
    .sort((a, b) => b.length - a.length);
  const entry = prefixes.find((key) => names.some((name) => name.startsWith(key.slice(0, -1))));
  return entry === undefined ? undefined : { entry, price: table[entry] };
}

/**
 * Dollars of one call: uncached prompt tokens at the input rate, cached ones at the cached rate (they are part of the
 * prompt count, so never counted twice), completion tokens at the output rate.
 */
export function callCostUsd(usage: TokenUsage, price: ModelPrice): number {
  const cached = Math.min(usage.cachedTokens ?? 0, usage.promptTokens);
  const cachedRate = price.cachedInputPerMillion ?? price.inputPerMillion;
  return roundUsd(
    ((usage.promptTokens - cached) * price.inputPerMillion +
      cached * cachedRate +
      usage.completionTokens * price.outputPerMillion) /
      1_000_000,
  );
}

/** One call's usage with its cost: a number when `model` has a price, else `null` with the model named. */
export function pricedUsage(usage: TokenUsage, model: string, table: PriceTable): TokenUsage {
  const match = priceFor(table, model);
  return match
    ? { ...usage, costUsd: callCostUsd(usage, match.price) }
    : { ...usage, costUsd: null, unpricedModels: [model] };
}

/** Where a loop adds up its model calls: the running total, and the goal's prices (absent: costs are not counted). */
export interface UsageMeter {
  usage: TokenUsage;
  prices?: PriceTable;
}

/**
 * Adds one reply's usage to the meter, priced when the goal has a price table. A goal started before prices existed
 * has none, and its usage keeps its old shape, so its replay computes what it recorded.
 */
export function chargeCall(meter: UsageMeter, reply: { usage: TokenUsage; model?: string }): void {
  const usage = meter.prices ? pricedUsage(reply.usage, reply.model ?? 'unknown', meter.prices) : reply.usage;
  addUsage(meter.usage, usage);
}

/** The models of `models` that `table` has no price for. */
export function unpricedModels(table: PriceTable, models: readonly string[]): string[] {
  return [...new Set(models)].filter((model) => priceFor(table, model) === undefined);
}

/** Dollars as the CLI and the Web UI show them: cents for a dollar and more, up to 6 decimals below (`$0.000123`). */
export function formatUsd(usd: number): string {
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  return `$${Number(usd.toFixed(6)).toString()}`;
}
