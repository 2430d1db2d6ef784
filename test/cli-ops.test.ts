import { randomUUID } from 'node:crypto';
import { contentStore } from '../activities/content-store';
import { loadConfig } from '../node/config';
import { scriptDemo } from '../dev/demo-model';
import type { GoalSummary } from '../client/goal-list';
import type { ScheduleSummaryRow } from '../client/schedules';
import type { KeyedGoalLaunchResult } from '../common/goal-start';
import { watchGoal } from '../client/watch';
import { sendToRunningGoal } from '../client/goals';
import { interruptSignal } from '../common/contract';
import type { GoalProgress, GoalResult, PlanVersion } from '../common/types';
import { runCli } from './helpers/cli';
import { cancelRequested, eventually, fireSchedule, signalsOf } from './helpers/history';
import { match, reply } from '../dev/scripted-model';
import { resultOf, startTandem, type Tandem } from './helpers/tandem';

describe('the tandem CLI (operate and observe)', () => {
  let tandem: Tandem;
  /** Env of a CLI that starts goals on the test worker's queue. */
  let env: Record<string, string>;
  /** Env of a CLI that starts goals on a queue no worker polls: they stay running, so signals reach them. */
  let idleEnv: Record<string, string>;
  /** A goal that ran to completion on the test worker. */
  let finished: string;
  const idleGoals: string[] = [];

  async function startIdleGoal(label: string): Promise<string> {
    const id = tandem.goalId(label);
    const run = await runCli(['start', `Idle goal ${label}`, '--id', id], idleEnv);
    expect(run.code).toBe(0);
    idleGoals.push(id);
    return id;
  }

  beforeAll(async () => {
    tandem = await startTandem();
    env = { TANDEM_TASK_QUEUE: tandem.taskQueue };
    idleEnv = { TANDEM_TASK_QUEUE: `idle-${randomUUID().slice(0, 8)}` };
    scriptDemo(tandem.model);
    finished = tandem.goalId('finished');
    const run = await runCli(['start', 'Compute 17 * 23 + 4 and save it', '--id', finished, '--wait'], env);
    expect(run.code).toBe(0);
  });
  afterAll(async () => {
    for (const id of idleGoals) {
      await tandem.client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    }
    await tandem.stop();
  });

  describe('start', () => {
    it('passes the budgets to the planner as its input', async () => {
      const id = tandem.goalId('budgets');
      idleGoals.push(id);
      const run = await runCli(
        ['start', 'Budgeted', '--id', id, '--max-tokens', '5000', '--max-parallel', '3', '--max-steps', '4', '--json'],
        idleEnv,
      );
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ id, runId: expect.any(String), alreadyRunning: false });
      const history = await tandem.client.workflow.getHandle(id).fetchHistory();
      const payload = history.events?.[0].workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      expect(JSON.parse(Buffer.from(payload!.data!).toString())).toEqual({
        goal: 'Budgeted',
        maxStepsPerSubtask: 4,
        maxTokens: 5000,
        maxParallel: 3,
      });
    });

    it('names each budget by its scope: per subtask or per goal, with the old flags as aliases', async () => {
      const id = tandem.goalId('scoped-budgets');
      idleGoals.push(id);
      const run = await runCli(
        [
          'start',
          'Scoped',
          '--id',
          id,
          '--max-subtask-steps',
          '4',
          '--max-goal-steps',
          '40',
          '--max-goal-tokens',
          '900',
        ],
        idleEnv,
      );
      expect(run.code).toBe(0);
      const history = await tandem.client.workflow.getHandle(id).fetchHistory();
      const payload = history.events?.[0].workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      expect(JSON.parse(Buffer.from(payload!.data!).toString())).toEqual(
        expect.objectContaining({ maxStepsPerSubtask: 4, maxSteps: 40, maxTokens: 900 }),
      );
      const both = await runCli(['start', 'x', '--max-subtask-steps', '4', '--max-steps', '5'], idleEnv);
      expect(both.code).not.toBe(0);
      expect(both.stderr).toMatch(/--max-steps is an alias of --max-subtask-steps; pass one of them, not 5 and 4/);
    });

    it('prints next-command hints that paste into a shell, for an id with a space and a quote', async () => {
      const id = `${tandem.goalId('quoted')} it's`;
      idleGoals.push(id);
      const quoted = `'${id.replace("'", `'\\''`)}'`;
      const started = await runCli(['start', 'Quoted', '--id', id], idleEnv);
      expect(started).toEqual({ code: 0, stdout: `started ${id}\nfollow it: tandem watch ${quoted}\n`, stderr: '' });
      const paused = await runCli(['pause', id], idleEnv);
      expect(paused.stdout).toBe(`pause sent to ${id}; continue it with: tandem resume ${quoted}\n`);
    });

    it('takes --max-parallel from TANDEM_MAX_PARALLEL when the flag is absent', async () => {
      const id = tandem.goalId('parallel-env');
      idleGoals.push(id);
      expect((await runCli(['start', 'Parallel', '--id', id], { ...idleEnv, TANDEM_MAX_PARALLEL: '2' })).code).toBe(0);
      const history = await tandem.client.workflow.getHandle(id).fetchHistory();
      const payload = history.events?.[0].workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      expect(JSON.parse(Buffer.from(payload!.data!).toString())).toEqual({ goal: 'Parallel', maxParallel: 2 });
    });

    it('refuses a second goal under the id of a running one', async () => {
      const id = await startIdleGoal('taken');
      const run = await runCli(['start', 'Again', '--id', id], idleEnv);
      expect(run).toEqual({
        code: 1,
        stdout: '',
        stderr: `tandem: a goal with id "${id}" is already running; choose another --id\n`,
      });
    });

    it('reports the running goal of a concurrency key instead of starting a second one', async () => {
      const key = `nightly-${randomUUID().slice(0, 6)}`;
      const id = `goal-key-${key}`;
      idleGoals.push(id);
      const first = await runCli(['start', 'Nightly report', '--key', key, '--json'], idleEnv);
      expect(first.code).toBe(0);
      const started = JSON.parse(first.stdout) as { id: string; runId: string; alreadyRunning: boolean };
      expect(started).toEqual({ id, runId: expect.any(String), alreadyRunning: false });

      const second = await runCli(['start', 'Nightly report again', '--key', key], idleEnv);
      expect(second).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
      expect(second.stdout.split('\n')[0]).toBe(`goal already running for key ${key}: ${id}`);
      const again = JSON.parse((await runCli(['start', 'Third', '--key', key, '--json'], idleEnv)).stdout);
      expect(again).toEqual({ id, runId: started.runId, alreadyRunning: true });

      const description = await tandem.client.workflow.getHandle(id).describe();
      expect(description.runId).toBe(started.runId);
      expect(description.searchAttributes.TandemKey).toEqual([key]);
    });
  });

  describe('status, result, history, list', () => {
    it('prints the tree of a finished goal, and its progress and result as JSON', async () => {
      const text = await runCli(['status', finished], env);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^plan v1/m);
      expect(text.stdout).toMatch(/├─ s1\s+done\s+2 steps/);
      expect(text.stdout).toMatch(/└─ s2\s+done\s+2 steps/);
      const progress = JSON.parse((await runCli(['status', finished, '--json'], env)).stdout) as GoalProgress;
      expect(progress).toEqual(
        expect.objectContaining({ status: 'completed', goal: 'Compute 17 * 23 + 4 and save it' }),
      );
      const result = JSON.parse((await runCli(['result', finished, '--json'], env)).stdout) as GoalResult;
      expect(result.ok).toBe(true);
      expect(result.subtasks.map((subtask) => subtask.id)).toEqual(['s1', 's2']);
    });

    it('shows the plan versions and replans of a goal', async () => {
      const text = await runCli(['history', finished], env);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(`${finished}  1 plan version(s), 0 replan(s)`);
      expect(text.stdout).toMatch(/plan v1 .*initial plan\n\s+s1\s+Compute the value\n\s+s2\s+Save the result/);
      const json = JSON.parse((await runCli(['history', finished, '--json'], env)).stdout) as {
        id: string;
        planVersion: number;
        plans: PlanVersion[];
      };
      expect(json.planVersion).toBe(1);
      expect(json.plans.map((plan) => plan.subtasks.map((subtask) => subtask.id))).toEqual([['s1', 's2']]);
    });

    it('lists goals by status through the search attributes', async () => {
      const running = await startIdleGoal('listed');
      const terminated = await startIdleGoal('terminated');
      await tandem.client.workflow.getHandle(terminated).terminate('for the list test');
      const ids = async (status: string) => {
        const run = await runCli(['list', '--status', status, '--json'], env);
        expect(run.code).toBe(0);
        return (JSON.parse(run.stdout) as GoalSummary[]).map((goal) => goal.id);
      };
      await eventually(async () => (await ids('terminated')).includes(terminated), 'the terminated goal to be listed');
      expect(await ids('failed')).not.toContain(terminated);
      expect(await ids('running')).toEqual(expect.arrayContaining([running]));
      expect(await ids('running')).not.toContain(finished);
      expect(await ids('completed')).toContain(finished);
      expect(await ids('completed')).not.toContain(running);

      const all = JSON.parse((await runCli(['list', '--json'], env)).stdout) as GoalSummary[];
      expect(all.find((goal) => goal.id === finished)).toEqual({
        id: finished,
        runId: expect.any(String),
        status: 'completed',
        executionStatus: 'COMPLETED',
        // The planner keeps its search attributes current, so the list shows where the goal ended.
        tandemStatus: 'completed',
        goal: 'Compute 17 * 23 + 4 and save it',
        key: null,
        planVersion: 1,
        tokens: expect.any(Number),
        startTime: expect.any(String),
        closeTime: expect.any(String),
        blocked: null,
      });
      const text = await runCli(['list', '--status', 'running'], env);
      expect(text.stdout).toMatch(new RegExp(`^${running}\\s+running\\s`, 'm'));
    });

    it('lists newest first by start time, one line per goal, the goal cut to fit and whole in --json', async () => {
      const longGoal = `Audit the logs\nthen write a report\n\twith ${'many details '.repeat(20)}`;
      const older = tandem.goalId('older');
      expect((await runCli(['start', longGoal, '--id', older], idleEnv)).code).toBe(0);
      const newer = await startIdleGoal('newer');
      // Closed in the other order: the store answers by close time, the list must still be by start time.
      await tandem.client.workflow.getHandle(newer).terminate('list order test');
      await tandem.client.workflow.getHandle(older).terminate('list order test');
      const query = `WorkflowId = '${older}' OR WorkflowId = '${newer}'`;
      const listed = async () => JSON.parse((await runCli(['list', '--query', query, '--json'], env)).stdout);
      await eventually(
        async () => ((await listed()) as GoalSummary[]).every((goal) => goal.status === 'terminated'),
        'both goals to be listed as terminated',
      );
      const json = (await listed()) as GoalSummary[];
      expect(json.map((goal) => goal.id)).toEqual([newer, older]);
      expect(json[1]!.goal).toBe(longGoal.trim());

      const text = await runCli(['list', '--query', query], env);
      const lines = text.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[1]).toMatch(new RegExp(`^${newer}\\s`));
      expect(lines[2]).toMatch(new RegExp(`^${older}\\s.*Audit the logs then write a report with many details .*…$`));
      // Off a terminal the width is 120 columns, one kept free so a line never wraps.
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(119);
    });
  });

  describe('watch', () => {
    it('redraws the tree as the goal moves and ends when the goal ends', async () => {
      // s1's final answer is slow, so the watch sees s1 running before everything is done.
      tandem.model.reset();
      tandem.model.on(
        match.and(match.purpose('step', 's1'), match.lastRole('tool')),
        reply.slow(2_500, reply.text('17 * 23 + 4 = 395')),
      );
      scriptDemo(tandem.model);
      const id = tandem.goalId('watched');
      expect((await runCli(['start', 'Compute and save', '--id', id], env)).code).toBe(0);
      const run = await runCli(['watch', id], env);
      expect(run.code).toBe(0);
      // Off a terminal each changed frame is appended, then one line says how the goal ended.
      const frames = run.stdout.trim().split('\n\n');
      expect(frames.pop()).toBe(`goal ${id} ended: completed`);
      expect(frames.length).toBeGreaterThanOrEqual(2);
      expect(frames.some((frame) => /s1\s+running/.test(frame))).toBe(true);
      expect(frames[frames.length - 1]).toMatch(/^watched-\w+ {2}completed/);
      expect(frames[frames.length - 1]).toMatch(/└─ s2\s+done/);
    });

    it('redraws in place on a terminal', async () => {
      let written = '';
      const outcome = await watchGoal(tandem.client, finished, {
        isTTY: true,
        columns: 80,
        write: (text: string) => (written += text),
      });
      expect(outcome).toEqual(expect.objectContaining({ executionStatus: 'COMPLETED', progressStatus: 'completed' }));
      expect(written).toContain('└─ s2');
    });

    it.each([0, undefined, Number.NaN])('draws whole lines on a terminal that reports %p columns', async (columns) => {
      let written = '';
      await watchGoal(tandem.client, finished, { isTTY: true, columns, write: (text: string) => (written += text) });
      expect(written).toMatch(/└─ s2\s+done/);
      expect(written).toMatch(new RegExp(`^${finished} {2}completed`, 'm'));
    });

    it('cuts every line to a narrow terminal, marking the cut', async () => {
      let written = '';
      await watchGoal(tandem.client, finished, {
        isTTY: true,
        columns: 12,
        write: (text: string) => (written += text),
      });
      // The redraw's cursor moves (ESC [ n F, ESC [ J) are not part of a line's width.
      const lines = written
        .replace(new RegExp(`${String.fromCharCode(27)}\\[\\d*[FJ]`, 'g'), '')
        .trimEnd()
        .split('\n');
      for (const line of lines) expect(Array.from(line).length).toBeLessThanOrEqual(11);
      expect(lines[0]).toMatch(/…$/);
    });
  });

  describe('steering a running goal', () => {
    it('delivers interrupt (to one subtask), pause and resume as signals', async () => {
      const id = await startIdleGoal('steered');
      const interrupt = await runCli(['interrupt', id, 'Use metric units', '--subtask', 's2'], env);
      // An idle goal has no worker to answer the plan check: the interrupt goes, with a warning.
      expect(interrupt).toEqual({
        code: 0,
        stdout: `interrupt sent to ${id} (subtask s2)\n`,
        stderr: 'tandem: no worker answered, so the subtask id was not checked\n',
      });
      expect((await runCli(['pause', id], env)).code).toBe(0);
      expect((await runCli(['resume', id], env)).code).toBe(0);
      expect(await signalsOf(tandem.client, id)).toEqual([
        { name: 'interrupt', args: [{ message: 'Use metric units', subtaskId: 's2' }] },
        { name: 'pause', args: [] },
        { name: 'resume', args: [] },
      ]);
    });

    it('requests cancellation of the goal', async () => {
      const id = await startIdleGoal('cancelled');
      const run = await runCli(['cancel', id], env);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`cancellation requested for ${id}`);
      expect(await cancelRequested(tandem.client, id)).toBe(true);
    });

    it('replans a running goal through the revisePlan update and prints the new plan version', async () => {
      // s1's answer is slow, so the goal is running when the replan arrives.
      tandem.model.reset();
      tandem.model.on(
        match.and(match.purpose('step', 's1'), match.lastRole('tool')),
        reply.slow(3_000, reply.text('17 * 23 + 4 = 395')),
      );
      scriptDemo(tandem.model);
      const id = tandem.goalId('replanned');
      expect((await runCli(['start', 'Replan me', '--id', id], env)).code).toBe(0);
      await tandem.model.waitForRequests(1, {
        match: match.and(match.purpose('step', 's1'), match.lastRole('tool')),
      });
      const run = await runCli(['replan', id, 'the data source moved', '--json'], env);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual(
        expect.objectContaining({ version: 2, reason: expect.stringContaining('the data source moved') }),
      );
      const replanRequest = tandem.model.requestsMatching(match.responseFormat('plan')).at(-1);
      expect(replanRequest?.text).toContain('the data source moved');
      expect((await resultOf(tandem.client.workflow.getHandle(id))).ok).toBe(true);
    });
  });

  describe('output', () => {
    it('prints a full tool output from the content store', async () => {
      const text = `line 1\n${'x'.repeat(20_000)}\nlast line\n`;
      const ref = await contentStore(loadConfig().store).put(text);
      const run = await runCli(['output', finished, ref], env);
      expect(run).toEqual({ code: 0, stdout: text, stderr: '' });
    });
  });

  describe('schedules', () => {
    /** Fires schedule `id` now and returns what its newest firing's workflow returned. */
    async function fire(id: string): Promise<KeyedGoalLaunchResult> {
      return tandem.client.workflow.getHandle(await fireSchedule(tandem.client, id)).result();
    }

    it("starts nothing when a key's goal started by `start --key` is running as the schedule fires", async () => {
      const key = `busy-${randomUUID().slice(0, 6)}`;
      const goalId = `goal-key-${key}`;
      idleGoals.push(goalId);
      const person = JSON.parse((await runCli(['start', 'By hand', '--key', key, '--json'], idleEnv)).stdout);
      const create = await runCli(
        ['schedule', 'create', '--cron', '0 0 1 1 *', 'By schedule', '--key', key, '--json'],
        env,
      );
      const { id } = JSON.parse(create.stdout) as { id: string };
      try {
        expect(await fire(id)).toEqual({
          outcome: 'key_busy',
          goalId,
          message: `goal already running for key ${key}: ${goalId}`,
        });
        const description = await tandem.client.workflow.getHandle(goalId).describe();
        expect({ runId: description.runId, status: description.status.name }).toEqual({
          runId: person.runId,
          status: 'RUNNING',
        });
        const keyed = await tandem.client.workflow.count(`TandemKey = '${key}' AND ExecutionStatus = 'Running'`);
        expect(keyed.count).toBe(1);
      } finally {
        await tandem.client.schedule.getHandle(id).delete();
      }
    });

    it('starts nothing on `start --key` while the goal a schedule started for that key is running', async () => {
      tandem.model.reset();
      // The scheduled goal's plan never comes, so the goal is still running when the person starts one.
      tandem.model.on(match.purpose('plan'), reply.hang(), { repeatLast: true });
      const key = `sched-first-${randomUUID().slice(0, 6)}`;
      const goalId = `goal-key-${key}`;
      idleGoals.push(goalId);
      const create = await runCli(
        ['schedule', 'create', '--cron', '0 0 1 1 *', 'By schedule', '--key', key, '--json'],
        env,
      );
      const { id } = JSON.parse(create.stdout) as { id: string };
      try {
        const launched = await fire(id);
        expect(launched).toEqual({ outcome: 'started', goalId, runId: expect.any(String) });
        const second = await runCli(['start', 'By hand', '--key', key], idleEnv);
        expect(second).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
        expect(second.stdout.split('\n')[0]).toBe(`goal already running for key ${key}: ${goalId}`);
        const json = JSON.parse((await runCli(['start', 'By hand', '--key', key, '--json'], idleEnv)).stdout);
        expect(json).toEqual({ id: goalId, runId: (launched as { runId: string }).runId, alreadyRunning: true });
        const keyed = await tandem.client.workflow.count(`TandemKey = '${key}' AND ExecutionStatus = 'Running'`);
        expect(keyed.count).toBe(1);
      } finally {
        await tandem.client.schedule.getHandle(id).delete();
        tandem.model.reset();
        scriptDemo(tandem.model);
      }
    });

    it('creates a schedule that starts a goal when it fires, lists it and deletes it', async () => {
      tandem.model.reset();
      scriptDemo(tandem.model);
      const key = `sched-${randomUUID().slice(0, 6)}`;
      const create = await runCli(
        ['schedule', 'create', '--cron', '0 0 1 1 *', 'Compute and save on schedule', '--key', key, '--json'],
        env,
      );
      expect(create.code).toBe(0);
      const { id } = JSON.parse(create.stdout) as { id: string };

      const listed = JSON.parse((await runCli(['schedule', 'list', '--json'], env)).stdout) as ScheduleSummaryRow[];
      expect(listed.find((row) => row.id === id)).toEqual({
        id,
        cron: '0 0 1 1 *',
        goal: 'Compute and save on schedule',
        key,
        paused: false,
        nextRun: expect.stringMatching(/-01-01T00:00:00/),
        recentGoals: [],
      });

      const handle = tandem.client.schedule.getHandle(id);
      const goalId = `goal-key-${key}`;
      expect(await fire(id)).toEqual({ outcome: 'started', goalId, runId: expect.any(String) });
      const result = await resultOf(tandem.client.workflow.getHandle(goalId));
      expect(result.ok).toBe(true);
      const description = await tandem.client.workflow.getHandle(goalId).describe();
      expect(description.searchAttributes.TandemKey).toEqual([key]);
      expect((await handle.describe()).policies.overlap).toBe('SKIP');
      const relisted = JSON.parse((await runCli(['schedule', 'list', '--json'], env)).stdout) as ScheduleSummaryRow[];
      expect(relisted.find((row) => row.id === id)?.recentGoals).toEqual([goalId]);

      expect((await runCli(['schedule', 'delete', id], env)).stdout).toBe(`deleted schedule ${id}\n`);
      const again = await runCli(['schedule', 'delete', id], env);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(
        new RegExp(`^tandem: no schedule with id "${id}"; list them with: tandem schedule list \\[asked Temporal at `),
      );
    });
  });

  describe('errors: one actionable line and a non-zero exit code', () => {
    const unknown = 'no-such-goal';
    it.each([
      [
        ['watch', unknown],
        /^tandem: no goal with id "no-such-goal"; .* \[asked Temporal at [\w.:[\]]+, namespace "default"\]$/,
      ],
      [['history', unknown], /^tandem: no goal with id "no-such-goal"/],
      [['replan', unknown, 'evidence'], /^tandem: no goal with id "no-such-goal"/],
      [['interrupt', unknown, 'hello'], /^tandem: no goal with id "no-such-goal"/],
      [['pause', unknown], /^tandem: no goal with id "no-such-goal"/],
      [['resume', unknown], /^tandem: no goal with id "no-such-goal"/],
      [['cancel', unknown], /^tandem: no goal with id "no-such-goal"/],
      [['output', unknown, 'sha256:00'], /^tandem: no goal with id "no-such-goal"/],
      [['replan', unknown, ' '], /^tandem: a replan needs evidence/],
      [['interrupt', unknown, ''], /^tandem: an interrupt needs a non-empty message/],
      [
        ['interrupt', unknown, 'z'.repeat(9_000)],
        /^tandem: an interrupt is at most 8000 characters and this one has 9000: shorten it$/,
      ],
      [['start', 'x', '--max-tokens', '0'], /option '--max-tokens <n>' argument '0' is invalid/],
      [['start', 'x', '--max-parallel', 'many'], /option '--max-parallel <n>' argument 'many' is invalid/],
      [['start', 'x', '--max-steps', '1e3'], /option '--max-steps <n>' argument '1e3' is invalid. expected a positive/],
      [['start', 'x', '--max-tokens', '0x10'], /option '--max-tokens <n>' argument '0x10' is invalid/],
      [
        ['start', 'x', '--max-tokens', '99999999999999999999'],
        /argument '99999999999999999999' is invalid. expected a/,
      ],
      [['start', 'x', '--id', 'a', '--key', 'b'], /^tandem: pass either --id or --key, not both/],
      [['start', 'x', '--id=-x'], /argument '-x' is invalid. expected an id that does not start with "-"/],
      [['schedule', 'create', '--cron', '0 * * * *', 'x', '--id=-x'], /argument '-x' is invalid. expected an id that/],
      [
        ['start', 'x', '--approve', 'write_file', '--approval-timeout', '99999999999d'],
        /argument '99999999999d' is invalid. expected a duration .*; leave the flag out to wait until decided; see: tandem start --help$/,
      ],
      [['start', 'x', '--id', 'a\tb'], /argument 'a\tb' is invalid. expected an id without control characters/],
      [
        ['fork', 'g', '--subtask', 's1', '--step', '1', '--id', 'new\u001b[2J'],
        /is invalid. expected an id without control characters \(newlines, tabs, escapes\): "new\\u001b\[2J" has one/,
      ],
      [['start', 'x', '--id', ' sp '], /argument ' sp ' is invalid. expected an id without spaces at its start or end/],
      [['start', 'x', '--key', 'has space'], /^tandem: invalid key "has space"/],
      [['list', '--status', 'stuck'], /argument 'stuck' is invalid. Allowed choices are running, completed, failed/],
      [['schedule', 'create', 'x'], /required option '--cron <expr>' not specified/],
      [['schedule', 'create', '--cron', 'every tuesday', 'x'], /^tandem: invalid --cron "every tuesday"/],
      [
        ['schedule', 'create', '--cron', '61 * * * *', 'x'],
        /^tandem: invalid --cron "61 \* \* \* \*" \(Minute is not in range/,
      ],
      [
        ['schedule', 'create', '--cron', 'x y z w v', 'x'],
        /^tandem: invalid --cron "x y z w v" \(Minute is not in range/,
      ],
      [
        ['schedule', 'create', '--cron', '0 * * * *', 'x', '--id', 'i'.repeat(1100)],
        /^tandem: could not create schedule "i+": .*WorkflowId exceeds maximum allowed length/,
      ],
      [['schedule', 'delete', 'no-such-schedule'], /^tandem: no schedule with id "no-such-schedule"/],
      [['interrupt', 'x'], /missing required argument 'message'/],
    ])('`tandem %j`', async (args, message) => {
      const run = await runCli(args, env);
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split('\n')[0]).toMatch(message);
      expect(run.stdout).toBe('');
    });

    // `tandem status "$ID"` with ID unset: every id a verb takes, empty or blank, in every place it can go.
    it.each([
      [['status', '']],
      [['watch', ' ']],
      [['result', '']],
      [['history', '']],
      [['transcript', '']],
      [['transcript', 'g', '']],
      [['output', '', 'sha256:00']],
      [['output', 'g', '']],
      [['approvals', '']],
      [['approve', '', 'c1']],
      [['approve', 'g', '']],
      [['deny', 'g', '']],
      [['replan', '', 'evidence']],
      [['interrupt', '', 'hello']],
      [['interrupt', 'g', 'hello', '--subtask', '']],
      [['pause', '']],
      [['resume', '']],
      [['cancel', '']],
      [['start', 'x', '--id', '']],
      [['schedule', 'create', '--cron', '0 * * * *', 'x', '--id', '']],
      [['schedule', 'delete', '']],
    ])('refuses an empty id: `tandem %j`', async (args) => {
      const run = await runCli(args, env);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(
        /^tandem: .* is invalid.* expected an id, got an empty or blank string; see: tandem .*--help\n$/,
      );
    });

    it('refuses a new id holding a newline, which would split every line that names the goal', async () => {
      const run = await runCli(['start', 'x', '--id', 'a\nb'], env);
      expect(run).toEqual(expect.objectContaining({ code: 1, stdout: '' }));
      expect(run.stderr).toContain(
        'expected an id without control characters (newlines, tabs, escapes): "a\\nb" has one',
      );
    });

    it('refuses a bad TANDEM_MAX_PARALLEL', async () => {
      const run = await runCli(['start', 'x'], { ...env, TANDEM_MAX_PARALLEL: 'lots' });
      expect(run).toEqual({
        code: 1,
        stdout: '',
        stderr:
          'tandem: TANDEM_MAX_PARALLEL="lots" is not a positive integer; fix it, or unset it to use the default\n',
      });
    });

    // Huge values matter most for timeouts: Node fires a timer past 2^31-1 ms after 1 ms, failing every call at once.
    it.each([
      ['TANDEM_MAX_PARALLEL', '99999999999999999999', 'a positive integer'],
      ['TANDEM_MODEL_TIMEOUT_MS', '1e20', 'a number of milliseconds from 1 to 2147483647 (e.g. 120000)'],
      ['TANDEM_HTTP_TIMEOUT_MS', '2147483648', 'a number of milliseconds from 1 to 2147483647 (e.g. 10000)'],
      ['TANDEM_OBSERVATION_LIMIT', '0.5', 'a positive integer (e.g. 4000)'],
      ['TANDEM_HTTP_MAX_BYTES', '0x10', 'a positive integer (e.g. 1000000)'],
      // A misspelt tool name would gate nothing: refused as `--approve` refuses it.
      [
        'TANDEM_APPROVE_TOOLS',
        'write_fiel,side-effects',
        'side-effects or tool names as `tandem tools` lists them (built-ins or <server>__<tool>) (unknown: write_fiel)',
      ],
    ])('refuses %s=%s', async (name, value, expected) => {
      const run = await runCli(['start', 'x'], { ...env, [name]: value });
      expect(run).toEqual({
        code: 1,
        stdout: '',
        stderr: `tandem: ${name}="${value}" is not ${expected}; fix it, or unset it to use the default\n`,
      });
    });

    it.each([['replan', 'more evidence'], ['interrupt', 'hello'], ['pause'], ['resume'], ['cancel']])(
      'refuses `%s` on a finished goal',
      async (verb, ...rest) => {
        const run = await runCli([verb, finished, ...rest], env);
        expect(run.code).toBe(1);
        expect(run.stderr).toBe(
          `tandem: goal "${finished}" has already finished (completed): ${verb} only applies to a running goal; ` +
            `read its result with: tandem result ${finished}\n`,
        );
      },
    );

    it('gives the same message when the goal finishes between the check and the send', async () => {
      const id = await startIdleGoal('finishes-meanwhile');
      const sent = sendToRunningGoal(tandem.client, id, 'interrupt', async (handle) => {
        await handle.terminate('finished meanwhile');
        await handle.signal(interruptSignal, { message: 'too late' });
      });
      await expect(sent).rejects.toThrow(
        `goal "${id}" has already finished (terminated): interrupt only applies to a running goal; ` +
          `read its result with: tandem result ${id}`,
      );
    });

    it.each(['../../etc/passwd', 'sha256:zz', `SHA256:${'0'.repeat(64)}`])(
      'says %j is not an output reference at all',
      async (ref) => {
        expect(await runCli(['output', finished, ref], env)).toEqual({
          code: 1,
          stdout: '',
          stderr:
            `tandem: ${JSON.stringify(ref)} is not a content reference (sha256: and 64 hex digits): copy one from ` +
            'toolCalls[].outputRef in `tandem result ID --json`\n',
        });
      },
    );

    it('refuses an output reference that is not in the store', async () => {
      const run = await runCli(['output', finished, `sha256:${'0'.repeat(64)}`], env);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^tandem: no stored content for "sha256:0{64}" in .*share one TANDEM_STORE_URL\n$/);
    });

    it.each([[['list']], [['schedule', 'list']], [['pause', 'x']]])(
      'says how to reach a server for `tandem %j` when none answers',
      async (args) => {
        const run = await runCli(args, { TEMPORAL_ADDRESS: '127.0.0.1:1' });
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(
          /^tandem: cannot reach Temporal at 127\.0\.0\.1:1 .*start one with "tandem dev".*\n$/,
        );
      },
    );
  });
});
