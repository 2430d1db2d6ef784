import { scriptDemo } from '../dev/demo-model';
import type { GoalProgress, GoalResult } from '../common/types';
import { runCli } from './helpers/cli';
import { resultOf, startTandem, type Tandem } from './helpers/tandem';

describe('the tandem CLI (foundation verbs)', () => {
  let tandem: Tandem;
  let env: Record<string, string>;

  beforeAll(async () => {
    tandem = await startTandem();
    env = { TANDEM_TASK_QUEUE: tandem.taskQueue };
  });
  afterAll(async () => {
    await tandem.stop();
  });

  it('starts a goal, waits for it, and prints the report; status and result read it back as JSON', async () => {
    scriptDemo(tandem.model);
    const id = tandem.goalId('cli');
    const started = await runCli(['start', 'Compute 17 * 23 + 4 and save it', '--id', id, '--wait'], env);
    expect(started).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(started.stdout).toContain(`${id}  completed`);
    expect(started.stdout).toContain('s1 ✓ Compute the value: 17 * 23 + 4 = 395');

    const status = await runCli(['status', id, '--json'], env);
    expect(status.code).toBe(0);
    const progress = JSON.parse(status.stdout) as GoalProgress;
    expect(progress.status).toBe('completed');
    expect(progress.subtasks.map((subtask) => [subtask.id, subtask.status])).toEqual([
      ['s1', 'done'],
      ['s2', 'done'],
    ]);

    const text = await runCli(['status', id], env);
    expect(text.stdout).toMatch(/s2\s+done\s+2 steps/);

    const result = await runCli(['result', id, '--json'], env);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as GoalResult).ok).toBe(true);
  });

  it('prints the id of a goal started without --wait', async () => {
    scriptDemo(tandem.model);
    const id = tandem.goalId('nowait');
    const started = await runCli(['start', 'Compute and save', '--id', id, '--json'], env);
    expect(started.code).toBe(0);
    expect(JSON.parse(started.stdout)).toEqual({ id, runId: expect.any(String), alreadyRunning: false });
    expect((await resultOf(tandem.client.workflow.getHandle(id))).ok).toBe(true);
  });

  it.each([
    [['start', ''], /^tandem: the goal is empty: pass what you want done/],
    [
      ['status', 'no-such-goal'],
      /^tandem: no goal with id "no-such-goal"; .* \[asked Temporal at [\w.:[\]]+, namespace "default"\]$/,
    ],
    [['result', 'no-such-goal'], /^tandem: no goal with id "no-such-goal"/],
    [
      ['start', 'x', '--max-steps', 'lots'],
      /option '--max-steps <n>' argument 'lots' is invalid. expected a positive integer/,
    ],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('fails `tandem %j` with one actionable line and a non-zero exit code', async (args, message) => {
    const run = await runCli(args, env);
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split('\n')[0]).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('says how to fix an unreachable server', async () => {
    const run = await runCli(['status', 'anything'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^tandem: cannot reach Temporal at 127\.0\.0\.1:1 .*start one with "tandem dev"/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
