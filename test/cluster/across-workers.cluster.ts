/**
 * Schedules, approvals and MCP tools on three `tandem worker` processes that share only the cluster's server and store
 * (test/cluster/machines.ts): each firing, decision and MCP call lands on whichever worker polls first, and the CLI
 * that creates, decides and reads has empty folders of its own.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { PendingApproval } from '../../common/approvals';
import type { KeyedGoalLaunchResult } from '../../common/goal-start';
import type { ExecutorResult, GoalResult } from '../../common/types';
import { startGoal } from '../../client/goals';
import { scriptDemo } from '../../dev/demo-model';
import { match, reply } from '../../dev/scripted-model';
import { runCli } from '../helpers/cli';
import { eventually, fireSchedule } from '../helpers/history';
import { EVERYTHING_SERVER, FILESYSTEM_SERVER } from '../helpers/mcp-servers';
import { clusterSuite, identityOf, machineFolders } from './machines';

/** Waits on the cluster: a step or two of a goal on a busy two-core machine takes longer than visibility lag. */
const GOAL_STEP_MS = 120_000;

describe('schedules, approvals and MCP tools across three workers', () => {
  const cluster = clusterSuite('across');

  /** The CLI of a machine that ran nothing: empty folders, the goals' task cluster.queue. */
  const cli = async () => ({ ...(await machineFolders('cli')), TANDEM_TASK_QUEUE: cluster.queue });

  /** `tandem result ID --json` on a machine that ran nothing, and the text of `file` in the workspace it checked out. */
  const fileInResult = async (id: string, file: string): Promise<string | undefined> => {
    const shown = await runCli(['result', id, '--json'], await cli());
    const { workspace } = JSON.parse(shown.stdout) as { workspace: string };
    return fs.readFile(path.join(workspace, file), 'utf8').catch(() => undefined);
  };

  it('runs the goals a schedule and a keyed schedule start when they fire, with no replan', async () => {
    scriptDemo(cluster.model);
    await cluster.machines.start(3, { TANDEM_TASK_QUEUE: cluster.queue, OPENAI_BASE_URL: cluster.model.baseURL });
    const env = await cli();
    const key = `cluster-${cluster.run}-${Date.now()}`;
    const create = async (...extra: string[]) => {
      const made = await runCli(
        ['schedule', 'create', '--cron', '0 0 1 1 *', 'Compute and save', ...extra, '--json'],
        env,
      );
      expect(made.stderr).toBe('');
      return (JSON.parse(made.stdout) as { id: string }).id;
    };
    const plain = await create();
    const keyed = await create('--key', key);
    try {
      const [plainGoal, launcher] = await Promise.all([
        fireSchedule(cluster.client, plain),
        fireSchedule(cluster.client, keyed),
      ]);
      const launched = await cluster.client.workflow.getHandle<() => Promise<KeyedGoalLaunchResult>>(launcher).result();
      expect(launched).toEqual({ outcome: 'started', goalId: `goal-key-${key}`, runId: expect.any(String) });
      const goals = [plainGoal, `goal-key-${key}`];
      const results = await Promise.all(
        goals.map((id) => cluster.client.workflow.getHandle<() => Promise<GoalResult>>(id).result()),
      );

      expect(results.map((result) => result.ok)).toEqual([true, true]);
      expect(cluster.model.requestsMatching(match.responseFormat('plan'))).toHaveLength(2);
      for (const id of goals) await expect(fileInResult(id, 'answer.txt')).resolves.toBe('395\n');
    } finally {
      await Promise.all([plain, keyed].map((id) => runCli(['schedule', 'delete', id], env)));
    }
  });

  it('holds calls for approval with no worker tied up: one approved and one denied from a CLI elsewhere', async () => {
    const firstS2Step = match.and(match.purpose('step', 's2'), match.not(match.lastRole('tool')));
    cluster.model.on(
      firstS2Step,
      reply.toolCalls([
        { name: 'write_file', arguments: { path: 'answer.txt', content: '395\n' } },
        { name: 'write_file', arguments: { path: 'notes.txt', content: 'scratch\n' } },
      ]),
    );
    scriptDemo(cluster.model);
    await cluster.machines.start(3, { TANDEM_TASK_QUEUE: cluster.queue, OPENAI_BASE_URL: cluster.model.baseURL });
    const id = `approvals-${Date.now()}`;
    const handle = await startGoal(cluster.client, {
      goal: 'Compute and save',
      id,
      taskQueue: cluster.queue,
      approveTools: ['write_file'],
    });
    const env = await cli();

    const held = await eventually(
      async () => {
        const listed = await runCli(['approvals', id, '--json'], env);
        const calls = listed.code === 0 ? (JSON.parse(listed.stdout) as PendingApproval[]) : [];
        return calls.length === 2 ? calls : undefined;
      },
      'two held write_file calls',
      GOAL_STEP_MS,
    );
    // The worker whose model call asked for the writes goes away while they wait: the wait is in the workflow's
    // history, so the decisions and the approved call are taken up by the others.
    const asked = (await cluster.machines.activityWorkers([`${id}.v1.s2`])).filter(
      (started) => started.activity === 'callModel',
    );
    const victim = cluster.machines.workers.find((worker) => identityOf(worker) === asked.at(-1)?.identity);
    if (!victim) throw new Error(`no worker is ${asked.at(-1)?.identity}: ${cluster.machines.workers.map(identityOf)}`);
    await victim.kill('SIGKILL');
    const callOf = (file: string) => held.find((call) => JSON.stringify(call.arguments).includes(file))!.callId;
    const approved = await runCli(['approve', id, callOf('answer.txt')], env);
    const denied = await runCli(['deny', id, callOf('notes.txt'), '--reason', 'no scratch files'], env);
    const result = await handle.result();

    expect([approved.code, approved.stderr, denied.code, denied.stderr]).toEqual([0, '', 0, '']);
    expect(result.ok).toBe(true);
    expect(cluster.model.requestsMatching(match.responseFormat('plan'))).toHaveLength(1);
    const ran = (await cluster.machines.activityWorkers([`${id}.v1.s2`])).filter(
      (started) => started.activity === 'runTool',
    );
    expect(ran).toHaveLength(1);
    expect(ran[0].identity).not.toBe(identityOf(victim));
    const observations = cluster.model
      .requestsMatching(match.and(match.purpose('step', 's2'), match.lastRole('tool')))[0]
      .messages.filter((message) => message.role === 'tool')
      .map((message) => String(message.content));
    expect(observations[1]).toMatch(
      /the call to write_file was not run: it needed approval and was denied \(no scratch files\)/,
    );
    await expect(fileInResult(id, 'answer.txt')).resolves.toBe('395\n');
    await expect(fileInResult(id, 'notes.txt')).resolves.toBeUndefined();
  });

  it("keeps an MCP server's file when its worker dies mid MCP call, for a milestone check on another worker", async () => {
    const config = path.join((await machineFolders('mcp')).TANDEM_STATE_DIR, 'mcp.json');
    await fs.writeFile(
      config,
      JSON.stringify({
        mcpServers: {
          files: { command: 'node', args: [FILESYSTEM_SERVER, '${workspace}'], cwd: '${workspace}' },
          everything: { command: 'node', args: [EVERYTHING_SERVER, 'stdio'] },
        },
      }),
    );
    const longCall = 'everything__trigger-long-running-operation';
    const afterWrite = match.and(match.purpose('step', 's1'), match.lastRole('tool'));
    cluster.model
      .on(match.purpose('judge'), reply.json({ met: true, reason: 'notes.txt is there.' }), { repeatLast: true })
      .on(
        match.purpose('plan'),
        reply.json({
          subtasks: [
            {
              id: 's1',
              title: 'Write notes over MCP',
              instructions: 'Write notes.txt with the files server, then run the long operation.',
              milestone: 'notes.txt exists in the workspace.',
              dependsOn: [],
              tools: ['files__write_file', longCall],
            },
          ],
        }),
        { repeatLast: true },
      )
      .on(match.purpose('step', 's1'), [
        reply.toolCall('files__write_file', { path: 'notes.txt', content: 'written over MCP\n' }),
        reply.toolCall(longCall, { duration: 12, steps: 12 }),
        reply.text('Wrote notes.txt.'),
      ])
      .on(match.purpose('report'), reply.text('Wrote notes.'), { repeatLast: true });
    await cluster.machines.start(3, {
      TANDEM_TASK_QUEUE: cluster.queue,
      OPENAI_BASE_URL: cluster.model.baseURL,
      TANDEM_MCP_CONFIG: config,
    });
    const id = `mcp-${Date.now()}`;
    const handle = await startGoal(cluster.client, { goal: 'Write notes over MCP', id, taskQueue: cluster.queue });

    // The write has completed (its result is in the request), so the runTool that is pending now is the long call;
    // progress in its heartbeat details means the server has the call (a kill before it was sent would let the retry
    // send it, as at-most-once delivery allows).
    await cluster.model.waitForRequests(1, { match: afterWrite, timeoutMs: GOAL_STEP_MS });
    await eventually(
      async () => {
        const { raw } = await cluster.client.workflow.getHandle(`${id}.v1.s1`).describe();
        const pending = raw.pendingActivities?.find((activity) => activity.activityType?.name === 'runTool');
        return Boolean(pending?.heartbeatDetails?.payloads?.length);
      },
      'progress of the long call',
      GOAL_STEP_MS,
    );
    const midCall = await cluster.machines.running(`${id}.v1.s1`, 'runTool');
    const [writer] = (await cluster.machines.activityWorkers([`${id}.v1.s1`])).filter((s) => s.activity === 'runTool');
    // The writer goes too (if another worker wrote), so no worker that saw notes.txt on its own disk remains.
    const victims = cluster.machines.workers.filter(
      (worker) => worker === midCall || identityOf(worker) === writer.identity,
    );
    await Promise.all(victims.map((worker) => worker.kill('SIGKILL')));
    const result = await handle.result();

    expect(result.ok).toBe(true);
    expect(cluster.model.requestsMatching(match.responseFormat('plan'))).toHaveLength(1);
    const executor = await cluster.client.workflow.getHandle<() => Promise<ExecutorResult>>(`${id}.v1.s1`).result();
    expect(executor.toolCalls.map((call) => [call.name, call.ok])).toEqual([
      ['files__write_file', true],
      [longCall, true],
    ]);
    // server-everything marks the long operation read-only, so it is delivered at least once (docs/delivery.md): its
    // second attempt ran it again, on a worker that is still there.
    const [, long] = (await cluster.machines.activityWorkers([`${id}.v1.s1`])).filter((s) => s.activity === 'runTool');
    expect(long.attempt).toBe(2);
    expect(victims.map(identityOf)).not.toContain(long.identity);
    const checks = (await cluster.machines.activityWorkers([id])).filter((s) => s.activity === 'checkMilestone');
    expect(checks.length).toBeGreaterThan(0);
    for (const check of checks) expect(victims.map(identityOf)).not.toContain(check.identity);
    await expect(fileInResult(id, 'notes.txt')).resolves.toBe('written over MCP\n');
  });
});
