import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { PendingApproval } from '../common/approvals';
import { ARGUMENTS_PREVIEW_CHARS } from '../common/limits';
import { decideApprovalUpdate, executorProgressQuery } from '../common/contract';
import type { ExecutorResult } from '../common/types';
import { cancelGoal, interruptGoal, pauseGoal } from '../client/goal-control';
import { goalProgress, startGoal } from '../client/goals';
import { decideApproval } from '../client/approvals';
import { match, type RecordedRequest, reply, type ScriptedModel } from '../dev/scripted-model';
import { runCli } from './helpers/cli';
import { eventually } from './helpers/history';
import { everythingStdio, mcpConfig } from './helpers/mcp-servers';
import { resultOf, startTandem, type Tandem } from './helpers/tandem';

function lastToolOutput(req: RecordedRequest): string {
  const tool = [...req.messages].reverse().find((message) => message.role === 'tool');
  return typeof tool?.content === 'string' ? tool.content : '';
}

/** One subtask that writes ok.txt (a side-effecting tool), then answers with what the write observed. */
function scriptSave(
  model: ScriptedModel,
  afterObservation = (req: RecordedRequest) => reply.text(lastToolOutput(req)),
) {
  model
    .on(match.purpose('judge'), reply.json({ met: true, reason: 'ok' }), { repeatLast: true })
    .on(match.purpose('report'), reply.text('Done.'), { repeatLast: true })
    .on(
      match.purpose('plan'),
      reply.json({
        subtasks: [
          {
            id: 's1',
            title: 'Save',
            instructions: 'Write ok.txt.',
            milestone: 'The write was attempted.',
            dependsOn: [],
            tools: ['write_file'],
          },
        ],
      }),
      { repeatLast: true },
    )
    .on(match.and(match.purpose('step', 's1'), match.lastRole('tool')), afterObservation, { repeatLast: true })
    .on(match.purpose('step', 's1'), reply.toolCall('write_file', { path: 'ok.txt', content: 'approved' }), {
      repeatLast: true,
    });
}

describe('the approval gate (a durable wait in the executor)', () => {
  let tandem: Tandem;
  beforeEach(async () => {
    tandem = await startTandem();
  });
  afterEach(async () => {
    await tandem.stop();
  });

  async function startSaving(label: string, extra: { approvalTimeoutMs?: number } = {}) {
    const id = tandem.goalId(label);
    const handle = await startGoal(tandem.client, {
      goal: 'Save ok.txt',
      id,
      taskQueue: tandem.taskQueue,
      approveTools: ['side-effects'],
      ...extra,
    });
    const held = await eventually(async () => {
      const pending = (await goalProgress(tandem.client, id)).pendingApprovals ?? [];
      return pending.length ? pending : undefined;
    }, 'a held call');
    return { id, handle, held, child: tandem.client.workflow.getHandle(`${id}.v1.s1`) };
  }

  it('holds a side-effecting call without an activity until it is approved, then runs it', async () => {
    scriptSave(tandem.model);
    const { id, handle, held, child } = await startSaving('approve');

    expect(held).toEqual([
      {
        callId: expect.stringMatching(/^v1\.s1:1:/),
        subtaskId: 's1',
        tool: 'write_file',
        arguments: JSON.stringify({ path: 'ok.txt', content: 'approved' }),
        requestedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      } satisfies PendingApproval,
    ]);
    const executor = await child.query(executorProgressQuery);
    expect(executor.phase).toBe('awaiting_approval');
    expect(executor.pendingApprovals).toEqual(held);
    // The wait is workflow code: no activity is running or scheduled meanwhile.
    expect((await child.describe()).raw.pendingActivities ?? []).toEqual([]);
    // The Web UI details of the goal show the held call.
    const metadata = await eventually(async () => {
      const answer = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      return answer.currentDetails?.includes(held[0].callId) ? answer : undefined;
    }, 'the details to list the call');
    expect(metadata.currentDetails).toContain('Waiting for approval');
    // `tandem status` says which call waits, since when, and how to decide it (not just "running 0 steps").
    const status = await runCli(['status', id]);
    expect(status.stdout).toContain(`! subtask s1 waits for approval since ${held[0].requestedAt}: write_file`);
    expect(status.stdout).toContain(`decide: tandem approve ${id} ${held[0].callId}`);
    await expect(fs.access(path.join(tandem.workspaceDir(id), 'ok.txt'))).rejects.toThrow();

    const listed = await runCli(['approvals', id, '--json']);
    expect(JSON.parse(listed.stdout)).toEqual(held);
    const unknown = await runCli(['approve', id, 'no-such-call']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no tool call "no-such-call" is waiting for approval');
    const approved = await runCli(['approve', id, held[0].callId]);
    expect(approved).toEqual(expect.objectContaining({ code: 0, stdout: `approved ${held[0].callId} (subtask s1)\n` }));

    const result = await resultOf(handle);
    expect(result.ok).toBe(true);
    expect(await fs.readFile(path.join(tandem.workspaceDir(id), 'ok.txt'), 'utf8')).toBe('approved');
    expect(result.subtasks[0].result?.toolCalls).toEqual([expect.objectContaining({ name: 'write_file', ok: true })]);
  });

  it('lists four held writes of 700 kB each (2.8 MB) with bounded arguments, and runs each whole once approved', async () => {
    const body = (n: number) => `${n}`.repeat(700_000);
    const subtask = (id: string) => ({
      id,
      title: `Save ${id}`,
      instructions: 'Write two files.',
      milestone: 'Both are written.',
      dependsOn: [],
      tools: ['write_file'],
    });
    tandem.model
      .on(match.purpose('plan'), reply.json({ subtasks: [subtask('s1'), subtask('s2')] }), { repeatLast: true })
      .on(match.purpose('judge'), reply.json({ met: true, reason: 'ok' }), { repeatLast: true })
      .on(match.purpose('report'), reply.text('Done.'), { repeatLast: true })
      .on(match.lastRole('tool'), reply.text('written'), { repeatLast: true });
    for (const [s, first] of [
      ['s1', 1],
      ['s2', 3],
    ] as const) {
      tandem.model.on(
        match.purpose('step', s),
        reply.toolCalls([
          { name: 'write_file', arguments: { path: `${s}-a.txt`, content: body(first) } },
          { name: 'write_file', arguments: { path: `${s}-b.txt`, content: body(first + 1) } },
        ]),
      );
    }
    const id = tandem.goalId('big-held');
    const handle = await startGoal(tandem.client, {
      goal: 'Save four big files',
      id,
      taskQueue: tandem.taskQueue,
      approveTools: ['write_file'],
    });
    const held = await eventually(async () => {
      const pending = (await goalProgress(tandem.client, id)).pendingApprovals ?? [];
      return pending.length === 4 ? pending : undefined;
    }, 'four held calls');
    const listed = await runCli(['approvals', id, '--json']);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as PendingApproval[]).map((call) => call.callId).sort()).toEqual(
      held.map((call) => call.callId).sort(),
    );
    for (const call of held) expect(call.arguments.length).toBeLessThan(ARGUMENTS_PREVIEW_CHARS + 100);
    for (const call of held) await decideApproval(tandem.client, id, { callId: call.callId, approve: true });

    expect((await resultOf(handle)).ok).toBe(true);
    for (const name of ['s1-a', 's1-b', 's2-a', 's2-b']) {
      expect((await fs.stat(path.join(tandem.workspaceDir(id), `${name}.txt`))).size).toBe(700_000);
    }
  });

  it('never runs a denied call; the model is told it was denied and why; a second decision is refused', async () => {
    scriptSave(tandem.model);
    const { id, handle, held } = await startSaving('deny');

    const denied = await runCli(['deny', id, held[0].callId, '--reason', 'not in this folder']);
    expect(denied.code).toBe(0);
    const again = await runCli(['approve', id, held[0].callId]);
    expect(again.code).toBe(1);
    // Refused with what happened to the call: denied, with the person's reason (or the goal had finished by then).
    expect(again.stderr).toMatch(/is no longer waiting: it was denied \(not in this folder\)|has already finished/);

    const result = await resultOf(handle);
    const observation = lastToolOutput(tandem.model.requestsMatching(match.purpose('step', 's1'))[1]);
    expect(observation).toContain('was not run: it needed approval and was denied (not in this folder)');
    expect(result.subtasks[0].result?.toolCalls).toEqual([expect.objectContaining({ name: 'write_file', ok: false })]);
    await expect(fs.access(path.join(tandem.workspaceDir(id), 'ok.txt'))).rejects.toThrow();
  });

  it("gives the replanner a person's denial and its reason as evidence (the example)", async () => {
    // The judge finds the milestone missed after the denial: the replan must know why the write never ran.
    tandem.model.on(match.purpose('judge'), reply.json({ met: false, reason: 'ok.txt was not written' }), {
      repeatLast: true,
    });
    scriptSave(tandem.model);
    const { id, handle, held } = await startSaving('deny-evidence');
    expect((await runCli(['deny', id, held[0].callId, '--reason', 'NOPE'])).code).toBe(0);
    await resultOf(handle);

    const replan = tandem.model.requestsMatching(match.purpose('plan'))[1];
    expect(replan.lastUserText).toContain('in subtask s1 a person denied write_file');
    expect(replan.lastUserText).toContain('(reason: NOPE)');
  });

  it('denies a call nobody decided within --approval-timeout, and refuses a decision that comes later', async () => {
    // The step after the timeout is slow, so the late decision reaches a goal that is still running.
    scriptSave(tandem.model, (req) => reply.slow(4_000, reply.text(lastToolOutput(req))) as never);
    const { id, handle, held } = await startSaving('timeout', { approvalTimeoutMs: 1_500 });

    expect(held[0].timeoutAt).toBe(new Date(Date.parse(held[0].requestedAt) + 1_500).toISOString());
    expect((await runCli(['status', id])).stdout).toContain(`(denied at ${held[0].timeoutAt} if nobody decides)`);
    await eventually(
      async () => ((await goalProgress(tandem.client, id)).pendingApprovals?.length ?? 1) === 0,
      'the timeout',
    );
    await expect(decideApproval(tandem.client, id, { callId: held[0].callId, approve: true })).rejects.toThrow(
      `goal "${id}" refused to approve ${held[0].callId}: tool call "${held[0].callId}" is no longer waiting: it was ` +
        'denied because nobody decided within 1500ms (the approval timeout)',
    );

    const result = await resultOf(handle);
    const observation = lastToolOutput(tandem.model.requestsMatching(match.purpose('step', 's1'))[1]);
    expect(observation).toContain('denied (nobody decided within 1500ms (the approval timeout))');
    expect(result.subtasks[0].result?.toolCalls).toEqual([expect.objectContaining({ ok: false })]);
    await expect(fs.access(path.join(tandem.workspaceDir(id), 'ok.txt'))).rejects.toThrow();
  });

  it('keeps answering queries, pause and interrupts while it waits, and ends cleanly when cancelled', async () => {
    scriptSave(tandem.model);
    const { id, handle, child } = await startSaving('cancel');

    await pauseGoal(tandem.client, id);
    await interruptGoal(tandem.client, id, 'hold on');
    const executor = await eventually(async () => {
      const progress = await child.query(executorProgressQuery);
      return progress.paused && progress.pendingInterrupts.includes('hold on') ? progress : undefined;
    }, 'the pause and the interrupt to reach the executor');
    expect(executor.pendingApprovals).toHaveLength(1);

    await cancelGoal(tandem.client, id);
    // A cancelled goal keeps its report with the children's partial results (docs/endings.md).
    expect(await resultOf(handle)).toEqual(expect.objectContaining({ ok: false, reason: 'cancelled' }));
    // The held call ends with the executor, which the planner cancels (not terminates); it never ran.
    await eventually(async () => (await child.describe()).status.name !== 'RUNNING', 'the executor to end');
    expect((await child.describe()).status.name).toBe('CANCELLED');
    expect(await resultOf(child)).toEqual(expect.objectContaining({ ok: false, reason: 'cancelled' }));
    expect(tandem.model.requestsMatching(match.purpose('step', 's1'))).toHaveLength(1);
    await expect(fs.access(path.join(tandem.workspaceDir(id), 'ok.txt'))).rejects.toThrow();
  });

  it('gates an MCP tool named in the policy; an executor alone takes the decideApproval update itself', async () => {
    tandem.config.mcp = mcpConfig(everythingStdio());
    tandem.model.on(match.any, [
      reply.toolCalls([
        { name: 'everything__echo', arguments: { message: 'gated' } },
        { name: 'calculator', arguments: { expression: '1+1' } },
      ]),
      reply.text('done'),
    ]);
    const workflowId = tandem.goalId('gate-mcp');
    const { handle } = await tandem.startExecutor(workflowId, {
      subtask: { id: 't1', title: 'Echo', instructions: 'Echo.', milestone: 'Echoed.', dependsOn: [] },
      approval: { tools: ['everything__echo'] },
    });
    const [held] = await eventually(async () => {
      const pending = (await handle.query(executorProgressQuery)).pendingApprovals;
      return pending.length ? pending : undefined;
    }, 'the held echo');
    expect(held).toEqual(expect.objectContaining({ callId: `${workflowId}:1:call_1_0`, tool: 'everything__echo' }));
    await expect(
      handle.executeUpdate(decideApprovalUpdate, { args: [{ callId: 'nope', approve: true }] }),
    ).rejects.toMatchObject({ cause: { message: expect.stringContaining('no tool call "nope" is waiting') } });
    expect(
      await handle.executeUpdate(decideApprovalUpdate, { args: [{ callId: held.callId, approve: true }] }),
    ).toEqual({ callId: held.callId, subtaskId: 't1', approve: true });

    const result = (await resultOf(handle)) as ExecutorResult;
    // Only the named tool waited; the calculator ran at once, and both outcomes came back in the model's order.
    const outputs = tandem.model.requests[1].messages.filter((message) => message.role === 'tool');
    expect(outputs.map((message) => message.content)).toEqual(['Echo: gated', '2']);
    expect(result.ok).toBe(true);
  });
});
