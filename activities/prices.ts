/**
 * The `loadPrices` activity: the price table a goal prices its model calls by, read once when the goal starts, so
 * an edited price file never changes a running goal's costs or its replay (common/cost.ts prices the calls). The
 * shipped `prices.json` first, then `TANDEM_PRICES_FILE`, whose entries win; both in the format docs/cost.md gives.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import type { PriceTable } from '../common/cost';
import { FailureType } from '../common/failures';
import { endpointFor, type ModelRole, PROJECT_ROOT, type TandemConfig } from '../node/config';

/** The shipped table, at the project root next to package.json. */
export const SHIPPED_PRICES_FILE = path.join(PROJECT_ROOT, 'prices.json');

const rate = z.number().finite().nonnegative();
const priceFileSchema = z.object({
  models: z.record(
    z.string().trim().min(1),
    z.object({ inputPerMillion: rate, outputPerMillion: rate, cachedInputPerMillion: rate.optional() }).strict(),
  ),
});

/** What a goal starts with: the prices, and the model each role asks for (what `--max-cost` needs priced). */
export interface LoadedPrices {
  prices: PriceTable;
  models: string[];
}

const ROLES: ModelRole[] = ['planner', 'executor', 'judge'];

async function readTable(file: string): Promise<PriceTable> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw priceFileFailure(file, err instanceof Error ? err.message : String(err));
  }
  const parsed = priceFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw priceFileFailure(file, issues);
  }
  return Object.fromEntries(Object.entries(parsed.data.models).map(([name, price]) => [name.toLowerCase(), price]));
}

/** Non-retryable: a retry reads the same broken file. The goal fails naming it; fixing the file and starting again helps. */
function priceFileFailure(file: string, why: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `the price table ${file} cannot be used (${why}); it must be {"models": {"<model>": {"inputPerMillion": n, ` +
      `"outputPerMillion": n, "cachedInputPerMillion"?: n}}} (docs/cost.md)`,
    FailureType.InvalidGoal,
  );
}

export async function loadPrices(config: TandemConfig): Promise<LoadedPrices> {
  const shipped = await readTable(SHIPPED_PRICES_FILE);
  const own = config.pricesFile === undefined ? {} : await readTable(path.resolve(config.pricesFile));
  const models = [...new Set(ROLES.map((role) => endpointFor(config.model, role).model))];
  return { prices: { ...shipped, ...own }, models };
}
