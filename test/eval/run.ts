/**
 * `npm run eval`: tandem's fixed goals (./goals.ts) against a real llama.cpp server (the CI suite's, docs/llama.md),
 * on a real Temporal dev server, each outcome checked against the workspace by code (docs/eval.md):
 * - `ok`: the goal ended ok and the workspace shows the work done;
 * - `falseOk`: it ended ok and the workspace does not (or the goal could not be done at all);
 * - `honestFail`: it ended not ok (whatever the reason; for an impossible goal that is the right outcome);
 * - `stuck`: it did not end within its cap (its deadline plus the time its last calls may take); it is then
 *   terminated, with every child it left running, so nothing of it lingers into the next goal.
 *
 * Every goal has a hard cap, so the whole eval is bounded (CI gives it 20 minutes; docs/eval.md). Prints a table, and
 * with `--json` one JSON line (`goals`, `ok`, `falseOk`, `honestFail`, `stuck`, `seconds`, `tokensPerSecond`, and the
 * per-goal rows).
 * Exits 1 on any false ok or stuck goal; the success rate is reported, not gated. `TANDEM_EVAL_GOAL_SECONDS`
 * (default 45) is each goal's deadline; `TANDEM_EVAL_ONLY=name,name` runs some goals.
 */
import { parseArgs } from 'node:util';
import { match, reply } from '../../dev/scripted-model';
import globalSetup from '../helpers/global-setup';
import globalTeardown from '../helpers/global-teardown';
import { startTandem } from '../helpers/tandem';
import { startLlamaServer } from '../llama/llama-server';
import { EVAL_GOALS } from './goals';
import { END_GRACE_SECONDS, type Outcome, type Row, runGoal, table } from './harness';
import { EVAL_MODEL, EVAL_MODEL_SETTINGS } from './model-settings';

function goalSeconds(): number {
  const raw = process.env.TANDEM_EVAL_GOAL_SECONDS;
  const seconds = raw === undefined ? 45 : Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(`TANDEM_EVAL_GOAL_SECONDS must be a positive number of seconds, not ${JSON.stringify(raw)}`);
  }
  return seconds;
}

/**
 * Output tokens per second of one short request sent straight to the server before the goals: on a busy machine a
 * goal's deadline cannot hold even one plan (docs/eval.md: 1.4 tokens/s measured under a load of 11, about two minutes
 * for a 160-token plan against a 45 s deadline), so the output says how fast the server answered while the eval ran.
 */
async function outputTokensPerSecond(baseURL: string): Promise<number> {
  const started = Date.now();
  const response = await fetch(`${baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: EVAL_MODEL_SETTINGS.model,
      messages: [{ role: 'user', content: 'Count from 1 to 30, separated by commas.' }],
      max_tokens: 32,
    }),
    // Part of the eval's bound: 32 tokens take half a minute even at the 1.4 tokens/s of a loaded machine.
    signal: AbortSignal.timeout(120_000),
  });
  if (!response.ok) throw new Error(`the speed probe got HTTP ${response.status} from ${baseURL}`);
  const body = (await response.json()) as { usage?: { completion_tokens?: number } };
  return Math.round(((body.usage?.completion_tokens ?? 0) / ((Date.now() - started) / 1000)) * 10) / 10;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
  const seconds = goalSeconds();
  const only = process.env.TANDEM_EVAL_ONLY?.split(',').map((name) => name.trim());
  const goals = only ? EVAL_GOALS.filter((goal) => only.includes(goal.name)) : EVAL_GOALS;
  if (goals.length === 0)
    throw new Error(`TANDEM_EVAL_ONLY names no goal; the goals are: ${EVAL_GOALS.map((g) => g.name).join(', ')}`);
  const started = Date.now();
  await globalSetup();
  const llama = await startLlamaServer();
  const tandem = await startTandem();
  const rows: Row[] = [];
  let tokensPerSecond = 0;
  try {
    tandem.model.on(match.any, reply.forward(llama.baseURL), { repeatLast: true });
    Object.assign(tandem.config.model, EVAL_MODEL_SETTINGS);
    tokensPerSecond = await outputTokensPerSecond(llama.baseURL);
    process.stderr.write(`eval: the server answers at ${tokensPerSecond} output tokens/s\n`);
    const times = { deadlineSeconds: seconds, capSeconds: seconds + END_GRACE_SECONDS };
    process.stderr.write(
      `eval: ${goals.length} goals, each capped at ${times.capSeconds} s ` +
        `(at most ${Math.ceil((goals.length * times.capSeconds) / 60)} minutes)\n`,
    );
    for (const goal of goals) {
      const row = await runGoal(tandem, goal, times, llama.crashed);
      rows.push(row);
      process.stderr.write(`eval: ${row.name}: ${row.outcome} (${row.ended}) in ${row.seconds} s\n`);
    }
  } finally {
    await tandem.stop();
    await llama.stop();
    await globalTeardown();
  }
  const count = (outcome: Outcome) => rows.filter((row) => row.outcome === outcome).length;
  const summary = {
    goals: rows.length,
    ok: count('ok'),
    falseOk: count('falseOk'),
    honestFail: count('honestFail'),
    stuck: count('stuck'),
    seconds: Math.round((Date.now() - started) / 1000),
    tokensPerSecond,
  };
  // With --json, stdout is the one JSON line (for CI and scripts); the table goes to stderr.
  const out = values.json ? process.stderr : process.stdout;
  out.write(`${table(rows)}\n\n`);
  out.write(
    `${summary.goals} goals: ${summary.ok} ok, ${summary.falseOk} false ok, ${summary.honestFail} honest failures, ` +
      `${summary.stuck} stuck, in ${summary.seconds} s (model: ${EVAL_MODEL}, ${tokensPerSecond} output tokens/s)\n`,
  );
  if (values.json) process.stdout.write(`${JSON.stringify({ ...summary, rows })}\n`);
  return summary.falseOk > 0 || summary.stuck > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`eval failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
