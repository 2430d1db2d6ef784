/**
 * Cost in money without a server: the model-name rule of the price table, the arithmetic of a call's cost, how costs
 * add up, the goal's cost budget, the cached-token figure read at the model boundary, and the price files.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { callCostUsd, formatUsd, priceFor, pricedUsage, type PriceTable, unpricedModels } from '../common/cost';
import { addUsage, zeroUsage } from '../common/usage';
import { readUsage } from '../activities/model/normalize';
import { loadPrices } from '../activities/prices';
import { loadConfig } from '../node/config';
import { budgetProgress, exhaustedCap } from '../workflows/planner/goal-budget';
import { exhaustedBudget, resolveBudget } from '../workflows/executor/budget';
import type { Subtask } from '../common/types';

const SUBTASK: Subtask = { id: 't1', title: 'T', instructions: 'Do', milestone: 'Done', dependsOn: [] };

const table: PriceTable = {
  'gpt-4o': { inputPerMillion: 2.5, cachedInputPerMillion: 1.25, outputPerMillion: 10 },
  'gpt-4o-mini': { inputPerMillion: 0.15, cachedInputPerMillion: 0.075, outputPerMillion: 0.6 },
  'gpt-4': { inputPerMillion: 30, outputPerMillion: 60 },
  'llama*': { inputPerMillion: 0, outputPerMillion: 0 },
  'llama3.1-70b*': { inputPerMillion: 0.5, outputPerMillion: 0.5 },
};

describe('the price of a model name', () => {
  it.each([
    ['gpt-4o', 'gpt-4o'],
    ['GPT-4o', 'gpt-4o'],
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['gpt-4-0613', 'gpt-4'],
    ['openai/gpt-4o', 'gpt-4o'],
    ['openai/gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['llama3.2:3b', 'llama*'],
    ['llama3.1-70b-instruct', 'llama3.1-70b*'],
  ])('prices %s by the entry %s', (model, entry) => {
    expect(priceFor(table, model)?.entry).toBe(entry);
  });

  it('never prices a longer name by a shorter exact entry: gpt-4o-audio-preview has no price', () => {
    expect(priceFor(table, 'gpt-4o-audio-preview')).toBeUndefined();
    expect(priceFor(table, 'gpt-4o-mini-tts')).toBeUndefined();
    expect(priceFor(table, 'claude-like-20241022')).toBeUndefined();
    expect(unpricedModels(table, ['gpt-4o', 'mystery', 'mystery'])).toEqual(['mystery']);
  });
});

describe('the cost of a call', () => {
  it('prices cached prompt tokens at the cached rate and the rest of the prompt at the input rate, once', () => {
    // 1,000 prompt tokens of which 600 cached, 200 completion tokens on gpt-4o.
    const usage = { promptTokens: 1000, completionTokens: 200, cachedTokens: 600 };
    expect(callCostUsd(usage, table['gpt-4o'])).toBeCloseTo((400 * 2.5 + 600 * 1.25 + 200 * 10) / 1e6, 12);
  });

  it('prices cached tokens as input when the entry has no cached rate, and never more cached than prompt', () => {
    expect(callCostUsd({ promptTokens: 100, completionTokens: 10, cachedTokens: 40 }, table['gpt-4'])).toBeCloseTo(
      (100 * 30 + 10 * 60) / 1e6,
      12,
    );
    expect(callCostUsd({ promptTokens: 100, completionTokens: 0, cachedTokens: 500 }, table['gpt-4o'])).toBeCloseTo(
      (100 * 1.25) / 1e6,
      12,
    );
  });

  it('reports an unpriced model as an unknown cost naming it, never as 0', () => {
    expect(pricedUsage({ promptTokens: 10, completionTokens: 5 }, 'mystery', table)).toEqual({
      promptTokens: 10,
      completionTokens: 5,
      costUsd: null,
      unpricedModels: ['mystery'],
    });
  });

  it('formats dollars with cents from $1 and six decimals below', () => {
    expect([formatUsd(12.345), formatUsd(0.00675), formatUsd(0.0000001), formatUsd(0)]).toEqual([
      '$12.35',
      '$0.00675',
      '$0',
      '$0',
    ]);
  });
});

describe('costs added up', () => {
  it('sums known costs and cached tokens; one unknown cost makes the sum unknown and names the model', () => {
    const total = addUsage(zeroUsage(), { promptTokens: 10, completionTokens: 1, costUsd: 0.5, cachedTokens: 4 });
    addUsage(total, { promptTokens: 10, completionTokens: 1, costUsd: 0.25 });
    expect(total).toEqual({ promptTokens: 20, completionTokens: 2, costUsd: 0.75, cachedTokens: 4 });
    addUsage(total, { promptTokens: 1, completionTokens: 1, costUsd: null, unpricedModels: ['m'] });
    addUsage(total, { promptTokens: 1, completionTokens: 1, costUsd: 1 });
    expect(total).toEqual(expect.objectContaining({ costUsd: null, unpricedModels: ['m'] }));
  });

  it('prints as dollars do, without binary-fraction noise (198 in + 15 out at gpt-4o-mini is 0.0000387)', () => {
    const call = { ...zeroUsage(), promptTokens: 198, completionTokens: 15 };
    const one = callCostUsd(call, { inputPerMillion: 0.15, outputPerMillion: 0.6 });
    const total = addUsage(addUsage({ ...zeroUsage(), costUsd: 0 }, { ...call, costUsd: one }), {
      ...call,
      costUsd: one,
    });

    expect(JSON.stringify(one)).toBe('0.0000387');
    expect(JSON.stringify(total.costUsd)).toBe('0.0000774');
  });

  it('keeps the old shape for usage that was never priced (goals started before prices)', () => {
    expect(addUsage(zeroUsage(), { promptTokens: 3, completionTokens: 4 })).toEqual({
      promptTokens: 3,
      completionTokens: 4,
    });
  });
});

describe('the goal cost budget', () => {
  it('is exhausted when the spent cost reaches it, and when the cost cannot be known', () => {
    const left = (costUsd: number | null) =>
      budgetProgress({ maxCostUsd: 0.01 }, { tokens: 5, steps: 1, costUsd }, 0, 1000);
    expect(left(0.004).left.costUsd).toBeCloseTo(0.006, 12);
    expect(exhaustedCap(left(0.004))).toBeNull();
    expect(exhaustedCap(left(0.01))).toBe('cost');
    expect(exhaustedCap(left(0.02))).toBe('cost');
    expect(exhaustedCap(left(null))).toBe('cost');
    expect(budgetProgress({}, { tokens: 5, steps: 1, costUsd: 1 }, 0, 1000).left).toEqual({});
  });
});

describe('cached tokens at the model boundary', () => {
  it('reads prompt_tokens_details.cached_tokens (chat completions) and input_tokens_details (Responses)', () => {
    expect(
      readUsage({ usage: { prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 64 } } }),
    ).toEqual({ promptTokens: 100, completionTokens: 5, cachedTokens: 64 });
    expect(
      readUsage({ usage: { input_tokens: 100, output_tokens: 5, input_tokens_details: { cached_tokens: 32 } } }),
    ).toEqual({ promptTokens: 100, completionTokens: 5, cachedTokens: 32 });
    expect(
      readUsage({ usage: { prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 0 } } }),
    ).toEqual({ promptTokens: 10, completionTokens: 5 });
  });
});

describe('the price files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-prices-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('ships prices for common OpenAI models and local ones at 0, and the models each role asks for', async () => {
    const loaded = await loadPrices(loadConfig({ TANDEM_MODEL: 'gpt-4o', TANDEM_JUDGE_MODEL: 'gpt-4o-mini' }));
    expect(loaded.models).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect(priceFor(loaded.prices, 'gpt-4o-2024-08-06')?.price).toEqual({
      inputPerMillion: 2.5,
      cachedInputPerMillion: 1.25,
      outputPerMillion: 10,
    });
    expect(priceFor(loaded.prices, 'smollm2-135m-instruct')?.price).toEqual({
      inputPerMillion: 0,
      outputPerMillion: 0,
    });
  });

  it('lets TANDEM_PRICES_FILE add models and override shipped ones, names matched case-insensitively', async () => {
    const file = path.join(dir, 'own.json');
    await fs.writeFile(
      file,
      JSON.stringify({
        models: {
          'GPT-4o': { inputPerMillion: 1, outputPerMillion: 2 },
          'my-model': { inputPerMillion: 3, outputPerMillion: 4 },
        },
      }),
    );
    const { prices } = await loadPrices(loadConfig({ TANDEM_PRICES_FILE: file }));
    expect(priceFor(prices, 'gpt-4o')?.price).toEqual({ inputPerMillion: 1, outputPerMillion: 2 });
    expect(priceFor(prices, 'my-model')?.price).toEqual({ inputPerMillion: 3, outputPerMillion: 4 });
    expect(priceFor(prices, 'gpt-4o-mini')?.price.inputPerMillion).toBe(0.15);
  });

  it('refuses a broken price file, naming it and what is wrong, as a non-retryable InvalidGoal', async () => {
    const file = path.join(dir, 'bad.json');
    await fs.writeFile(file, JSON.stringify({ models: { x: { inputPerMillion: -1, outputPerMillion: 2 } } }));
    const err = (await loadPrices(loadConfig({ TANDEM_PRICES_FILE: file })).catch(
      (e: unknown) => e,
    )) as ApplicationFailure;
    expect([err.type, err.nonRetryable]).toEqual(['InvalidGoal', true]);
    expect(err.message).toContain(file);
    expect(err.message).toContain('models.x.inputPerMillion');
    const missing = path.join(dir, 'missing.json');
    const gone = (await loadPrices(loadConfig({ TANDEM_PRICES_FILE: missing })).catch((e: unknown) => e)) as Error;
    expect(gone.message).toContain(missing);
  });
});

describe("an executor's share of the cost budget", () => {
  const spent = (costUsd: number | null | undefined) => ({
    steps: 1,
    usage: { promptTokens: 10, completionTokens: 1, ...(costUsd === undefined ? {} : { costUsd }) },
    startedAt: 0,
    now: 0,
  });

  it('gets what was left of the goal cost budget and stops when its own cost reaches it', () => {
    const budget = resolveBudget({ subtask: SUBTASK, maxCostUsd: 0.25 });
    expect(budget).toEqual({ maxSteps: 20, maxCostUsd: 0.25 });
    expect(exhaustedBudget(budget, spent(0.1))).toBeUndefined();
    expect(exhaustedBudget(budget, spent(undefined))).toBeUndefined();
    expect(exhaustedBudget(budget, spent(0.25))).toBe('cost');
    expect(exhaustedBudget(budget, spent(null))).toBe('cost');
    expect(exhaustedBudget(resolveBudget({ subtask: SUBTASK }), spent(99))).toBeUndefined();
  });
});
