/**
 * One vocabulary of endings (docs/endings.md), through the real `tandem` process: a goal that ended not ok is Failed in
 * Temporal with its result in a `GoalNotOk`, a cancelled one Canceled with its result in the memo, and every verb names
 * the ending in the same words, with the same JSON and exit codes as when such a goal completed.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { scriptDemo } from '../dev/demo-model';
import { match, reply } from '../dev/scripted-model';
import type { GoalSummary } from '../client/goal-list';
import { runCli } from './helpers/cli';
import { eventually } from './helpers/history';
import { startTandem, type Tandem } from './helpers/tandem';

/** The last line `watch` prints once the goal has ended. */
async function watchEnding(id: string, env: Record<string, string>): Promise<{ code: number; line?: string }> {
  const run = await runCli(['watch', id], env);
  return { code: run.code, line: run.stdout.trimEnd().split('\n').at(-1) };
}

describe('the endings of a goal, in every verb', () => {
  let tandem: Tandem;
  let env: Record<string, string>;

  beforeAll(async () => {
    tandem = await startTandem();
    env = { TANDEM_TASK_QUEUE: tandem.taskQueue };
  });
  afterAll(async () => {
    await tandem.stop();
  });
  beforeEach(() => tandem.model.reset());

  it('a goal whose budget ran out is Failed with GoalNotOk and reads "failed (budget_exhausted)" everywhere', async () => {
    scriptDemo(tandem.model);
    const id = tandem.goalId('budget-ending');
    // The plan alone costs more than one token: the goal ends right after planning, with a report.
    const started = await runCli(['start', 'Compute and save', '--id', id, '--max-goal-tokens', '1', '--wait'], env);
    expect(started.code).toBe(2);
    expect(started.stdout).toMatch(new RegExp(`^${id} {2}failed \\(budget_exhausted\\) {2}\\d+ tokens\\n`));

    const handle = tandem.client.workflow.getHandle(id);
    expect((await handle.describe()).status.name).toBe('FAILED');
    const failure = (await handle.result().catch((err: unknown) => err)) as WorkflowFailedError;
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = failure.cause as ApplicationFailure;
    expect([cause.type, cause.nonRetryable]).toEqual(['GoalNotOk', true]);

    // `result --json` is the goal's result as the planner built it (the failure's detail), plus its id.
    const result = await runCli(['result', id, '--json'], env);
    expect(result.code).toBe(2);
    const { id: printedId, ...printed } = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(printedId).toBe(id);
    expect(printed).toEqual(cause.details?.[0]);
    expect(printed).toEqual(expect.objectContaining({ ok: false, reason: 'budget_exhausted' }));

    const status = await runCli(['status', id], env);
    expect(status.stdout.split('\n')[0]).toMatch(new RegExp(`^${id} {2}failed \\(budget_exhausted\\) `));
    const json = JSON.parse((await runCli(['status', id, '--json'], env)).stdout) as Record<string, unknown>;
    expect(json).toEqual(
      expect.objectContaining({ status: 'failed', executionStatus: 'FAILED', ending: 'failed (budget_exhausted)' }),
    );
    expect(await watchEnding(id, env)).toEqual({ code: 2, line: `goal ${id} ended: failed (budget_exhausted)` });
    const again = await runCli(['replan', id, 'try harder'], env);
    expect(again.stderr).toContain(`goal "${id}" has already finished (failed)`);
  });

  it('a cancelled goal is Canceled, reads "cancelled" everywhere, and cancelling it again says so', async () => {
    tandem.model.on(match.purpose('step', 's1'), reply.slow(60_000, reply.text('never')), { repeatLast: true });
    scriptDemo(tandem.model);
    const id = tandem.goalId('cancel-ending');
    expect((await runCli(['start', 'Compute and save', '--id', id], env)).code).toBe(0);
    await tandem.model.waitForRequests(1, { match: match.purpose('step', 's1'), timeoutMs: 30_000 });
    expect((await runCli(['cancel', id], env)).code).toBe(0);

    const result = await runCli(['result', id], env);
    expect(result.code).toBe(2);
    // Not "failed (cancelled)", as before: one ending, one word.
    expect(result.stdout).toMatch(new RegExp(`^${id} {2}cancelled {2}\\d+ tokens\\n`));
    const json = JSON.parse((await runCli(['result', id, '--json'], env)).stdout) as Record<string, unknown>;
    expect(json).toEqual(expect.objectContaining({ id, ok: false, reason: 'cancelled', report: expect.any(String) }));
    expect((json.subtasks as Array<{ status: string }>).map((subtask) => subtask.status)).toEqual([
      'cancelled',
      'skipped',
    ]);

    expect((await tandem.client.workflow.getHandle(id).describe()).status.name).toBe('CANCELLED');
    expect((await tandem.client.workflow.getHandle(`${id}.v1.s1`).describe()).status.name).toBe('CANCELLED');
    const status = JSON.parse((await runCli(['status', id, '--json'], env)).stdout) as Record<string, unknown>;
    expect(status).toEqual(
      expect.objectContaining({ status: 'cancelled', executionStatus: 'CANCELLED', ending: 'cancelled' }),
    );
    expect((await runCli(['status', id], env)).stdout.split('\n')[0]).toMatch(new RegExp(`^${id} {2}cancelled `));
    expect(await watchEnding(id, env)).toEqual({ code: 2, line: `goal ${id} ended: cancelled` });

    const again = await runCli(['cancel', id], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      `goal "${id}" has already finished (cancelled): cancel only applies to a running goal`,
    );
    const listed = await eventually(async () => {
      const run = await runCli(['list', '--status', 'cancelled', '--json'], env);
      return (JSON.parse(run.stdout) as GoalSummary[]).find((goal) => goal.id === id);
    }, 'the cancelled goal to be listed');
    expect(listed).toEqual(expect.objectContaining({ status: 'cancelled', tandemStatus: 'cancelled' }));
  });
});
