/**
 * One eval goal run to its end or its cap and classified against the workspace by code (docs/eval.md), and the
 * table of the results: what `npm run eval` (./run.ts) does per goal, apart from its servers, so that
 * test/eval-harness.test.ts can hold it to its cap and its classes with the scripted model.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { GoalResult } from '../../common/types';
import { resultOf, type Tandem } from '../helpers/tandem';
import type { EvalGoal } from './goals';

export type Outcome = 'ok' | 'falseOk' | 'honestFail' | 'stuck';

export interface Row {
  name: string;
  /** The goal's workflow id, to look it up in the Web UI or with `tandem status`. */
  goalId: string;
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
export const END_GRACE_SECONDS = 35;

/** A goal's time: its deadline, and its hard cap (the deadline plus a grace), both from its start. */
export interface GoalTimes {
  deadlineSeconds: number;
  capSeconds: number;
}

/**
 * Runs one goal to its end or its cap and classifies it against the workspace. `crashed` rejects when the model
 * server died (the eval then stops: no later goal could run). Whatever the goal left running is terminated before
 * this returns, so nothing of it lingers into the next goal.
 */
export async function runGoal(
  tandem: Tandem,
  goal: EvalGoal,
  times: GoalTimes,
  crashed: Promise<never> = new Promise<never>(() => undefined),
): Promise<Row> {
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
        deadline: new Date(started + times.deadlineSeconds * 1000).toISOString(),
      },
    ],
  });
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<'stuck'>((resolve) => {
    timer = setTimeout(() => resolve('stuck'), times.capSeconds * 1000);
  });
  // A server that died fails the eval (the promise rejects through), not the goal.
  const ended = await Promise.race([
    (resultOf(handle) as Promise<GoalResult>).catch((err: Error) => err),
    cap,
    crashed,
  ]);
  clearTimeout(timer);
  const row = (outcome: Outcome, how: string): Row => ({
    name: goal.name,
    goalId,
    kind: goal.kind,
    outcome,
    ended: how,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  });
  // Whatever the goal left running (a stuck goal and its children) ends before the next goal starts. A goal that
  // ended may still show a child that has sent its result and is closing: ended too, and only logged.
  if (ended === 'stuck') await handle.terminate('the eval cap of this goal passed').catch(() => undefined);
  const leftovers = await terminateRunning(tandem);
  if (leftovers.length) process.stderr.write(`eval: ${goal.name}: terminated ${leftovers.join(', ')}\n`);
  if (ended === 'stuck') return row('stuck', `not ended ${times.capSeconds} s after its start`);
  if (ended instanceof Error) return row('honestFail', `workflow failed: ${ended.message.slice(0, 80)}`);
  if (!ended.ok) return row('honestFail', ended.reason ?? 'not ok');
  if (await goal.done(workspace)) return row('ok', 'ok');
  // What let it through, for the log: the run's history is gone with the eval's server once it stops.
  process.stderr.write(`eval: ${goal.name}: false ok: ${falseOkEvidence(ended)}\n`);
  return row('falseOk', 'ok, but the workspace says otherwise');
}

/** Each subtask's answer and verdict and the tools it called, cut to what a log line can hold. */
function falseOkEvidence(result: GoalResult): string {
  const text = result.subtasks
    .map((subtask) => {
      const answer = subtask.result?.ok ? subtask.result.answer : undefined;
      const calls = subtask.result?.toolCalls.map((call) => `${call.name}${call.ok ? '' : ' (failed)'}`) ?? [];
      return (
        `${subtask.id} [${subtask.title}] tools: ${calls.join(', ') || 'none'}; answer: ${JSON.stringify(answer ?? null)}; ` +
        `verdict: ${JSON.stringify(subtask.verdict ?? null)}`
      );
    })
    .join(' | ');
  return text.length > 4_000 ? `${text.slice(0, 4_000)}…` : text;
}

/**
 * Terminates every workflow still running on the eval's task queue and returns their ids. Goals run one at a time, so
 * whatever runs between two goals belongs to the one that just ended. Child executors are started with
 * `ParentClosePolicy.ABANDON` (workflows/planner/goal-effects.ts), so terminating a goal alone would leave them running;
 * their in-flight activities learn of it at their next heartbeat and abort their model calls.
 */
export async function terminateRunning(tandem: Tandem): Promise<string[]> {
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

export function table(rows: Row[]): string {
  const header = ['goal', 'kind', 'outcome', 'ended', 's'];
  const cells = rows.map((r) => [r.name, r.kind, r.outcome, r.ended, r.seconds.toFixed(1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
