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
 * with `--json` one JSON line (`goals`, `ok`, `falseOk`, `honestFail`, `stuck`, `seconds`, and the per-goal rows).
 * Exits 1 on any false ok or stuck goal; the success rate is reported, not gated. `TANDEM_EVAL_GOAL_SECONDS`
 * (default 45) is each goal's deadline; `TANDEM_EVAL_ONLY=name,name` runs some goals.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { GoalResult } from '../../common/types';
import { match, reply } from '../../dev/scripted-model';
import globalSetup from '../helpers/global-setup';
import globalTeardown from '../helpers/global-teardown';
import { resultOf, startTandem, type Tandem } from '../helpers/tandem';
import { startLlamaServer, type LlamaServer } from '../llama/llama-server';
import { EVAL_GOALS, type EvalGoal } from './goals';
import { EVAL_MODEL, EVAL_MODEL_SETTINGS } from './model-settings';

type Outcome = 'ok' | 'falseOk' | 'honestFail' | 'stuck';

interface Row {
  name: string;
  kind: string;
  outcome: Outcome;
  /** How the goal ended: `ok`, its failure reason, or why it is counted stuck. */
  ended: string;
  seconds: number;
}

/**
 * After its deadline a goal still cancels its running subtask, judges what returned and writes its report: a few
 * short calls (the output caps of ./model-settings.ts) of a few seconds each on a busy 2-core machine. A goal that has
 * not ended this long after its deadline is stuck. With the default deadline, 13 goals take at most 13 × 80 s
 * (17 minutes) plus the servers' start-up.
 */
const END_GRACE_SECONDS = 35;

function goalSeconds(): number {
  const raw = process.env.TANDEM_EVAL_GOAL_SECONDS;
  const seconds = raw === undefined ? 45 : Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(`TANDEM_EVAL_GOAL_SECONDS must be a positive number of seconds, not ${JSON.stringify(raw)}`);
  }
  return seconds;
}

/** Runs one goal to its end (or its limit) and classifies it against the workspace. */
async function runGoal(tandem: Tandem, llama: LlamaServer, goal: EvalGoal, seconds: number): Promise<Row> {
  const started = Date.now();
  const goalId = tandem.goalId(`eval-${goal.name}`);
  const workspace = tandem.workspaceDir(goalId);
  await fs.mkdir(workspace, { recursive: true });
  for (const [file, text] of Object.entries(goal.files ?? {})) await fs.writeFile(path.join(workspace, file), text);
  const handle = await tandem.client.workflow.start('plannerWorkflow', {
    workflowId: goalId,
    taskQueue: tandem.taskQueue,
    args: [
      {
        goal: goal.goal,
        maxReplans: 1,
        maxStepsPerSubtask: 4,
        maxParallel: 1,
        deadline: new Date(started + seconds * 1000).toISOString(),
      },
    ],
  });
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'stuck'>((resolve) => {
    timer = setTimeout(() => resolve('stuck'), (seconds + END_GRACE_SECONDS) * 1000);
  });
  const ended = await Promise.race([resultOf(handle) as Promise<GoalResult>, limit, llama.crashed]).catch(
    (err: Error) => err,
  );
  clearTimeout(timer);
  const row = (outcome: Outcome, how: string): Row => ({
    name: goal.name,
    kind: goal.kind,
    outcome,
    ended: how,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  });
  // Whatever the goal left running (a stuck goal and its children) ends before the next goal starts. A goal that
  // ended may still show a child that has sent its result and is closing: ended too, and only logged.
  const leftovers = await terminateRunning(tandem);
  if (leftovers.length) process.stderr.write(`eval: ${goal.name}: terminated ${leftovers.join(', ')}\n`);
  if (ended === 'stuck') return row('stuck', `not ended ${seconds + END_GRACE_SECONDS} s after its start`);
  if (ended instanceof Error) {
    llama.assertRunning();
    return row('honestFail', `workflow failed: ${ended.message.slice(0, 80)}`);
  }
  if (!ended.ok) return row('honestFail', ended.reason ?? 'not ok');
  return (await goal.done(workspace)) ? row('ok', 'ok') : row('falseOk', 'ok, but the workspace says otherwise');
}

/**
 * Terminates every workflow still running on the eval's task queue and returns their ids. Goals run one at a time, so
 * whatever runs between two goals belongs to the one that just ended. Child executors are started with
 * `ParentClosePolicy.ABANDON` (workflows/planner/goal-effects.ts), so terminating a goal alone would leave them running;
 * their in-flight activities learn of it at their next heartbeat and abort their model calls.
 */
async function terminateRunning(tandem: Tandem): Promise<string[]> {
  const ids: string[] = [];
  const query = `TaskQueue = '${tandem.taskQueue}' AND ExecutionStatus = 'Running'`;
  for await (const execution of tandem.client.workflow.list({ query })) {
    ids.push(execution.workflowId);
    await tandem.client.workflow
      .getHandle(execution.workflowId, execution.runId)
      .terminate('the eval cap of its goal passed')
      .catch(() => undefined);
  }
  return ids;
}

function table(rows: Row[]): string {
  const header = ['goal', 'kind', 'outcome', 'ended', 's'];
  const cells = rows.map((r) => [r.name, r.kind, r.outcome, r.ended, r.seconds.toFixed(1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
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
  try {
    tandem.model.on(match.any, reply.forward(llama.baseURL), { repeatLast: true });
    Object.assign(tandem.config.model, EVAL_MODEL_SETTINGS);
    process.stderr.write(
      `eval: ${goals.length} goals, each capped at ${seconds + END_GRACE_SECONDS} s ` +
        `(at most ${Math.ceil((goals.length * (seconds + END_GRACE_SECONDS)) / 60)} minutes)\n`,
    );
    for (const goal of goals) {
      const row = await runGoal(tandem, llama, goal, seconds);
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
  };
  // With --json, stdout is the one JSON line (for CI and scripts); the table goes to stderr.
  const out = values.json ? process.stderr : process.stdout;
  out.write(`${table(rows)}\n\n`);
  out.write(
    `${summary.goals} goals: ${summary.ok} ok, ${summary.falseOk} false ok, ${summary.honestFail} honest failures, ` +
      `${summary.stuck} stuck, in ${summary.seconds} s (model: ${EVAL_MODEL})\n`,
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
