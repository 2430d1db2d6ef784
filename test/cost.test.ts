/**
 * Cost in money on a real dev server, through the real `tandem` process: every model call priced from the usage the
 * (scripted) server returned, cached tokens at the cached rate; the sums per subtask and per goal in `status --json`,
 * `result --json` and the text; `--max-cost` ending a goal `budget_exhausted` with `budget: cost`; and an unpriced
 * model's cost unknown (null, named), a cost budget on it refused at the goal's start.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { match, reply, type Usage } from '../dev/scripted-model';
import type { TandemConfig } from '../node/config';
import { runCli } from './helpers/cli';
import { startTandem, type Tandem } from './helpers/tandem';

/** The test's own price: round numbers, so every cost below is computed by hand. */
const PRICE = { inputPerMillion: 2, cachedInputPerMillion: 0.5, outputPerMillion: 8 };

/** What each kind of call reports, and its cost by {@link PRICE} (USD). */
const CALLS = {
  // 1,000 × $2 + 100 × $8 = $2,800 per million tokens.
  plan: { usage: { prompt_tokens: 1000, completion_tokens: 100 }, usd: 0.0028 },
  // 2,000 prompt tokens of which 1,500 cached: 500 × $2 + 1,500 × $0.5 + 50 × $8 = $2,150 per million.
  step: {
    usage: { prompt_tokens: 2000, completion_tokens: 50, prompt_tokens_details: { cached_tokens: 1500 } },
    usd: 0.00215,
  },
  // 300 × $2 + 20 × $8 = $760 per million.
  judge: { usage: { prompt_tokens: 300, completion_tokens: 20 }, usd: 0.00076 },
  // 400 × $2 + 30 × $8 = $1,040 per million.
  report: { usage: { prompt_tokens: 400, completion_tokens: 30 }, usd: 0.00104 },
} satisfies Record<string, { usage: Partial<Usage>; usd: number }>;
const GOAL_USD = CALLS.plan.usd + CALLS.step.usd + CALLS.judge.usd + CALLS.report.usd;

interface JsonUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens?: number;
  costUsd?: number | null;
  unpricedModels?: string[];
}

/** A one-subtask goal whose every call reports the usage of {@link CALLS}. */
function scriptGoal(tandem: Tandem): void {
  const subtask = { id: 's1', title: 'Name it', instructions: 'Name the capital of France.', dependsOn: [] };
  tandem.model
    .on(
      match.purpose('plan'),
      reply.json({ subtasks: [{ ...subtask, milestone: 'A city is named.' }] }, CALLS.plan.usage),
      {
        name: 'plan',
        repeatLast: true,
      },
    )
    .on(match.purpose('step', 's1'), reply.text('Paris.', CALLS.step.usage), { name: 'step', repeatLast: true })
    .on(match.purpose('judge'), reply.json({ met: true, reason: 'A city is named.' }, CALLS.judge.usage), {
      name: 'judge',
      repeatLast: true,
    })
    .on(match.purpose('report'), reply.text('Paris.', CALLS.report.usage), { name: 'report', repeatLast: true });
}

async function json<T>(args: string[], env: Record<string, string>): Promise<T> {
  const run = await runCli(args, env);
  return JSON.parse(run.stdout) as T;
}

describe('cost in money', () => {
  let dir: string;
  let pricesFile: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-cost-'));
    pricesFile = path.join(dir, 'prices.json');
    await fs.writeFile(pricesFile, JSON.stringify({ models: { 'priced-model': PRICE } }));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  /**
   * A worker asking `model` for every call, with the test's price file, for the tests of the enclosing `describe`:
   * started before them, stopped after, its script reset before each.
   */
  function workerAsking(model: string): { tandem: Tandem; env: Record<string, string> } {
    const worker = {} as { tandem: Tandem; env: Record<string, string> };
    const config = (base: TandemConfig): TandemConfig => ({ ...base, model: { ...base.model, model }, pricesFile });
    beforeAll(async () => {
      worker.tandem = await startTandem({ config });
      worker.env = { TANDEM_TASK_QUEUE: worker.tandem.taskQueue };
    });
    afterAll(() => worker.tandem.stop());
    beforeEach(() => worker.tandem.model.reset());
    return worker;
  }

  describe('a priced model', () => {
    // A dated name: priced by the `priced-model` entry (the date-suffix rule), on the real call path.
    const worker = workerAsking('priced-model-2025-01-01');

    it('prices every call, and sums them per subtask and per goal in status --json, result --json and the text', async () => {
      const { tandem, env } = worker;
      scriptGoal(tandem);
      const id = tandem.goalId('cost');
      const started = await runCli(['start', 'Name the capital of France', '--id', id, '--wait'], env);
      expect(started.code).toBe(0);
      expect(tandem.model.requests.map((req) => req.purpose)).toEqual(['plan', 'step', 'judge', 'report']);

      type Result = { usage: JsonUsage; subtasks: Array<{ result: { usage: JsonUsage } }> };
      const result = await json<Result>(['result', id, '--json'], env);
      expect(result.usage.costUsd).toBeCloseTo(GOAL_USD, 12);
      expect(result.usage).toEqual(
        expect.objectContaining({ promptTokens: 3700, completionTokens: 200, cachedTokens: 1500 }),
      );
      expect(result.usage.unpricedModels).toBeUndefined();
      expect(result.subtasks[0].result.usage.costUsd).toBeCloseTo(CALLS.step.usd, 12);
      expect(result.subtasks[0].result.usage.cachedTokens).toBe(1500);

      type Status = { usage: JsonUsage; subtasks: Array<{ usage: JsonUsage }>; budget: { used: { costUsd: number } } };
      const status = await json<Status>(['status', id, '--json'], env);
      expect(status.usage.costUsd).toBeCloseTo(GOAL_USD, 12);
      expect(status.budget.used.costUsd).toBeCloseTo(GOAL_USD, 12);
      expect(status.subtasks[0].usage.costUsd).toBeCloseTo(CALLS.step.usd, 12);

      const text = await runCli(['status', id], env);
      expect(text.stdout).toContain('cost: $0.00675\n');
      expect(text.stdout).toMatch(/s1 .* 2050 tokens \$0\.00215 /);
      expect((await runCli(['result', id], env)).stdout).toContain('\ncost: $0.00675\n');
    });

    it('ends a goal whose cost reaches --max-cost budget_exhausted, naming the cost budget', async () => {
      const { tandem, env } = worker;
      scriptGoal(tandem);
      const id = tandem.goalId('max-cost');
      // The plan ($0.0028) leaves room; the subtask's step ($0.00215) goes past $0.004.
      const started = await runCli(
        ['start', 'Name the capital of France', '--id', id, '--max-cost', '0.004', '--wait'],
        env,
      );
      expect(started.code).toBe(2);
      expect(started.stdout).toContain('ended without an ok result: budget_exhausted (cost)');

      const result = await json<{ ok: boolean; reason: string; budget: string; usage: JsonUsage }>(
        ['result', id, '--json'],
        env,
      );
      expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'budget_exhausted', budget: 'cost' }));
      // The subtask ran once; after the cap only its judge and the report were asked, as with a token budget.
      expect(tandem.model.requests.map((req) => req.purpose)).toEqual(['plan', 'step', 'judge', 'report']);
      expect(result.usage.costUsd).toBeCloseTo(GOAL_USD, 12);
      const status = await json<{ budget: { left: { costUsd: number } } }>(['status', id, '--json'], env);
      expect(status.budget.left.costUsd).toBe(0);
    });

    it('stops a subtask at its share of --max-cost (what the goal had left), before another step', async () => {
      const { tandem, env } = worker;
      // s1 calls a tool at every step and would go on for its 20 steps (the first rule that matches answers).
      const calculate = { ...reply.toolCall('calculator', { expression: '1 + 1' }), usage: CALLS.step.usage };
      tandem.model.on(match.purpose('step', 's1'), calculate, { name: 'calculating', repeatLast: true });
      scriptGoal(tandem);
      const id = tandem.goalId('max-cost-step');
      // The plan ($0.0028) leaves $0.0012 for s1; its first step ($0.00215) spends it.
      const started = await runCli(
        ['start', 'Name the capital of France', '--id', id, '--max-cost', '0.004', '--wait'],
        env,
      );
      expect(started.code).toBe(2);
      type Result = { reason: string; budget: string; subtasks: Array<{ result: { reason: string; budget: string } }> };
      const result = await json<Result>(['result', id, '--json'], env);
      expect(result).toEqual(expect.objectContaining({ reason: 'budget_exhausted', budget: 'cost' }));
      expect(result.subtasks[0].result).toEqual(expect.objectContaining({ reason: 'budget', budget: 'cost' }));
      expect(tandem.model.requests.filter((req) => req.purpose === 'step')).toHaveLength(1);
    });

    it('refuses a --max-cost that is not a positive dollar amount before starting anything', async () => {
      const { env } = worker;
      const run = await runCli(['start', 'x', '--max-cost', '$1'], env);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("option '--max-cost <usd>' argument '$1' is invalid");
      expect(run.stderr).toContain('expected a positive amount of US dollars, e.g. 0.50');
    });
  });

  describe('a model without a price', () => {
    const worker = workerAsking('mystery-model');

    it('has an unknown cost (null) that names the model, never $0', async () => {
      const { tandem, env } = worker;
      scriptGoal(tandem);
      const id = tandem.goalId('unpriced');
      expect((await runCli(['start', 'Name the capital of France', '--id', id, '--wait'], env)).code).toBe(0);
      const result = await json<{ usage: JsonUsage; subtasks: Array<{ result: { usage: JsonUsage } }> }>(
        ['result', id, '--json'],
        env,
      );
      expect(result.usage).toEqual(expect.objectContaining({ costUsd: null, unpricedModels: ['mystery-model'] }));
      expect(result.subtasks[0].result.usage).toEqual(
        expect.objectContaining({ costUsd: null, unpricedModels: ['mystery-model'] }),
      );
      expect((await runCli(['status', id], env)).stdout).toContain('cost: cost unknown (no price for "mystery-model")');
    });

    it('refuses --max-cost at the goal start, naming the model and the fix, before any model call', async () => {
      const { tandem, env } = worker;
      scriptGoal(tandem);
      const id = tandem.goalId('unpriced-budget');
      const run = await runCli(['start', 'Name the capital of France', '--id', id, '--max-cost', '1', '--wait'], env);
      expect(run.code).toBe(2);
      expect(run.stdout + run.stderr).toContain(
        `--max-cost 1 needs a price for every model the goal calls, and the worker's price table has none for "mystery-model"`,
      );
      expect(run.stdout + run.stderr).toContain('TANDEM_PRICES_FILE');
      expect(tandem.model.requests).toHaveLength(0);
    });
  });
});
