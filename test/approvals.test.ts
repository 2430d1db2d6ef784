import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { PendingApproval } from '../common/approvals';
import { ARGUMENTS_PREVIEW_CHARS } from '../common/limits';
import { decideApprovalUpdate, executorProgressQuery } from '../common/contract';
import type { Subtask } from '../common/types';
import type { ExecutorResult } from '../common/types';
import { cancelGoal, interruptGoal, pauseGoal } from '../client/goal-control';
import { goalProgress, startGoal } from '../client/goals';
import { decideApproval } from '../client/approvals';
import { match, type RecordedRequest, reply, type ScriptedModel } from '../dev/scripted-model';
import * as os from 'node:os';
import { runCli, spawnCli } from './helpers/cli';
import { eventually, signalsOf } from './helpers/history';
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

  /**
   * Starts a goal whose side effects wait for a person. Its text names the files the goal needs at its end (the last
   * subtask is held to them, docs/checks.md): 'Save ok.txt' unless a test's plan writes others.
   */
  async function startSaving(label: string, extra: { approvalTimeoutMs?: number; goal?: string } = {}) {
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
    // `tandem watch` says the same while it follows the goal.
    const watch = spawnCli(['watch', id]);
    expect(await watch.waitForLine(/waits for approval since/)).toContain(
      `! subtask s1 waits for approval since ${held[0].requestedAt}: write_file`,
    );
    await watch.interrupt();
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

  it('refuses a blank or an over-long denial reason, naming what is wrong; deny --json prints the receipt', async () => {
    scriptSave(tandem.model);
    const { id, handle, held } = await startSaving('deny-reason');

    const blank = await runCli(['deny', id, held[0].callId, '--reason', '   ']);
    expect(blank).toEqual(expect.objectContaining({ code: 1 }));
    expect(blank.stderr).toBe(
      'tandem: the reason is blank: give one (tandem deny ID CALL_ID --reason "why"), or leave it out\n',
    );
    const long = await runCli(['deny', id, held[0].callId, '--reason', 'x'.repeat(3_000)]);
    expect(long).toEqual(expect.objectContaining({ code: 1 }));
    expect(long.stderr).toBe('tandem: the reason is 3000 characters, over the 2000 the model is shown: shorten it\n');
    expect((await goalProgress(tandem.client, id)).pendingApprovals?.map((each) => each.callId)).toEqual([
      held[0].callId,
    ]);

    const denied = await runCli(['deny', id, held[0].callId, '--reason', 'x'.repeat(2_000), '--json']);
    expect(denied.code).toBe(0);
    expect(JSON.parse(denied.stdout)).toEqual({ callId: held[0].callId, subtaskId: 's1', approve: false });
    await resultOf(handle);
  });

  it('says a decision no worker took in time may still be applied, and applies it when a worker comes back', async () => {
    scriptSave(tandem.model);
    const { id, handle, held } = await startSaving('worker-down');
    await tandem.stopWorker();

    // Temporal keeps an update it received until a worker takes it: "nothing happened" would be a lie.
    const late = decideApproval(tandem.client, id, { callId: held[0].callId, approve: true }, 2_000);
    await expect(late).rejects.toThrow(
      `; it was sent, and the server keeps it until a worker takes it, so it may still be applied: check with ` +
        `tandem approvals ${id} before sending it again`,
    );
    await tandem.startWorker();
    const result = await resultOf(handle);
    expect(result.ok).toBe(true);
    expect(await fs.readFile(path.join(tandem.workspaceDir(id), 'ok.txt'), 'utf8')).toBe('approved');
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
    // Long enough that `status` answers before it on a loaded machine (a CLI start there can take seconds).
    const { id, handle, held } = await startSaving('timeout', { approvalTimeoutMs: 10_000 });

    expect(held[0].timeoutAt).toBe(new Date(Date.parse(held[0].requestedAt) + 10_000).toISOString());
    expect((await runCli(['status', id])).stdout).toContain(`(denied at ${held[0].timeoutAt} if nobody decides)`);
    await eventually(
      async () => ((await goalProgress(tandem.client, id)).pendingApprovals?.length ?? 1) === 0,
      'the timeout',
    );
    await expect(decideApproval(tandem.client, id, { callId: held[0].callId, approve: true })).rejects.toThrow(
      `goal "${id}" refused to approve ${held[0].callId}: tool call "${held[0].callId}" is no longer waiting: it was ` +
        'denied because nobody decided within 10s (the approval timeout)',
    );

    const result = await resultOf(handle);
    const observation = lastToolOutput(tandem.model.requestsMatching(match.purpose('step', 's1'))[1]);
    expect(observation).toContain('denied (nobody decided within 10s (the approval timeout))');
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

  /** The id the executor gave the call answered by `req`'s last tool message (`<executor>:<step>:<model's id>`). */
  function answeredCallId(req: RecordedRequest, executor: string, step: number): string {
    const tool = [...req.messages].reverse().find((message) => message.role === 'tool');
    return `${executor}:${step}:${tool?.tool_call_id}`;
  }

  const save = (instructions: string): Subtask => ({
    id: 's1',
    title: 'Save',
    instructions,
    // No file named: a milestone naming one gets a file check, which a denied write fails before any judge.
    milestone: 'The write was attempted.',
    dependsOn: [],
    tools: ['write_file'],
  });
  const look: Subtask = {
    id: 's0',
    title: 'Look',
    instructions: 'Look at the folder.',
    milestone: 'Looked.',
    dependsOn: [],
  };

  /**
   * Plan v1 saves ok.txt, which a person denies: the check of the file the goal names fails before any judge; plan v2
   * adds s0 and keeps s1 as `second` has it, whose first step calls `secondCall`. Every judge finds its milestone met,
   * so only the goal's files decide the outcome.
   */
  function scriptReplan(second: Subtask, secondCall: object) {
    tandem.model
      .on(
        match.purpose('plan'),
        [reply.json({ subtasks: [save('Write ok.txt.')] }), reply.json({ subtasks: [look, second] })],
        {
          repeatLast: true,
        },
      )
      .on(match.purpose('judge'), reply.json({ met: true, reason: 'ok' }), { repeatLast: true })
      .on(match.purpose('report'), reply.text('Done.'), { repeatLast: true })
      .on(match.purpose('step', 's0'), reply.text('looked'), { repeatLast: true })
      .on(match.and(match.purpose('step', 's1'), match.lastRole('tool')), (req) => reply.text(lastToolOutput(req)), {
        repeatLast: true,
      })
      .on(match.purpose('step', 's1'), [
        reply.toolCall('write_file', { path: 'ok.txt', content: 'approved' }),
        reply.toolCall('write_file', secondCall),
      ]);
  }

  it("refuses without asking a replan's call identical to one a person denied, telling the model who, why and when", async () => {
    // The same subtask text and the same arguments (in another key order): nothing a person has not already answered.
    scriptReplan(save('Write ok.txt.'), { content: 'approved', path: 'ok.txt' });
    const { id, handle, held } = await startSaving('deny-repeat');
    expect((await runCli(['deny', id, held[0].callId, '--reason', 'NOPE'])).code).toBe(0);
    const result = await resultOf(handle);

    // ok.txt was never written: whatever the judge says, the goal is not done (and the planner does not repeat v2).
    expect(result.ok).toBe(false);
    const [, again] = tandem.model.requestsMatching(match.and(match.purpose('step', 's1'), match.lastRole('tool')));
    const observation = lastToolOutput(again);
    expect(observation).toContain(
      `the call to write_file was not run: an identical call (${held[0].callId}, subtask s1) was denied earlier in ` +
        `this goal by a person (${os.userInfo().username}) at `,
    );
    expect(observation).toContain('(NOPE), and an unchanged call is not put to a person again');
    // Counted in the result, progress and status; a decision on it is refused with what happened.
    expect(result.refusedRepeatCalls).toBe(1);
    expect((await goalProgress(tandem.client, id)).refusedRepeatCalls).toBe(1);
    expect((await runCli(['status', id])).stdout).toContain('! 1 call(s) refused without asking');
    const refusedId = answeredCallId(again, 'v2.s1', 1);
    const late = await runCli(['approve', id, refusedId]);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(
      /it was refused without asking: the call to write_file was not run|has already finished/,
    );
    await expect(fs.access(path.join(tandem.workspaceDir(id), 'ok.txt'))).rejects.toThrow();
  });

  /** Two subtasks of one plan, running at once, that both write ok.txt; s2 writes `s2First` before, when given. */
  function scriptSideBySide(s2First?: object) {
    const write = { path: 'ok.txt', content: 'approved' };
    const task = (id: string, title: string): Subtask => ({
      id,
      title,
      instructions: `Write ok.txt (${title.toLowerCase()}).`,
      milestone: 'The write was attempted.',
      dependsOn: [],
      tools: ['write_file'],
    });
    tandem.model
      .on(match.purpose('plan'), reply.json({ subtasks: [task('s1', 'First'), task('s2', 'Second')] }), {
        repeatLast: true,
      })
      .on(match.purpose('judge'), reply.json({ met: true, reason: 'ok' }), { repeatLast: true })
      .on(match.purpose('report'), reply.text('Done.'), { repeatLast: true })
      .on(
        match.purpose('step', 's2'),
        [
          ...(s2First ? [reply.toolCall('write_file', s2First)] : []),
          reply.toolCall('write_file', write),
          (req: RecordedRequest) => reply.text(lastToolOutput(req)),
        ],
        { repeatLast: true },
      )
      .on(match.and(match.purpose('step', 's1'), match.lastRole('tool')), (req) => reply.text(lastToolOutput(req)), {
        repeatLast: true,
      })
      .on(match.purpose('step', 's1'), reply.toolCall('write_file', write), { repeatLast: true });
  }

  /** Starts the side-by-side goal and waits until both subtasks hold a call; returns each one's. */
  async function startSideBySide(label: string) {
    const id = tandem.goalId(label);
    const handle = await startGoal(tandem.client, {
      goal: 'Ask twice to save a file; a refusal is an answer',
      id,
      taskQueue: tandem.taskQueue,
      approveTools: ['side-effects'],
      maxParallel: 2,
    });
    const held = await eventually(async () => {
      const pending = (await goalProgress(tandem.client, id)).pendingApprovals ?? [];
      const of = (subtaskId: string) => pending.find((call) => call.subtaskId === subtaskId);
      return of('s1') && of('s2') ? { s1: of('s1')!, s2: of('s2')! } : undefined;
    }, 'both subtasks to hold a call');
    return { id, handle, held };
  }

  /** What s2's model read for its call of ok.txt. */
  function s2Observation(): string {
    const answered = tandem.model.requestsMatching(match.and(match.purpose('step', 's2'), match.lastRole('tool')));
    return lastToolOutput(answered[answered.length - 1]);
  }

  it('refuses without asking an identical call in a subtask running beside the one where a person denied it (the example)', async () => {
    scriptSideBySide({ path: 'other.txt', content: 'first' });
    const { id, handle, held } = await startSideBySide('deny-beside');
    expect(held.s2.arguments).toContain('other.txt');
    expect((await runCli(['deny', id, held.s1.callId, '--reason', 'NOPE'])).code).toBe(0);
    // The planner pushes the denial to s2, which runs meanwhile; only then may s2 make its call of ok.txt.
    const s2 = `${id}.v1.s2`;
    const pushed = await eventually(async () => {
      const signals = await signalsOf(tandem.client, s2);
      return signals.find((signal) => signal.name === 'deniedCalls');
    }, 'the denial to reach s2');
    expect(pushed.args).toEqual([{ denials: [expect.objectContaining({ callId: held.s1.callId, reason: 'NOPE' })] }]);
    expect((await runCli(['approve', id, held.s2.callId])).code).toBe(0);
    const result = await resultOf(handle);

    expect(result.ok).toBe(true);
    expect(s2Observation()).toContain(
      `the call to write_file was not run: an identical call (${held.s1.callId}, subtask s1) was denied earlier in ` +
        `this goal by a person (${os.userInfo().username}) at `,
    );
    // Never put to a person: s2 reported no held call of ok.txt.
    const reports = (await signalsOf(tandem.client, id)).filter((signal) => signal.name === 'approvalsChanged');
    const heldByS2 = reports.flatMap((signal) =>
      (signal.args[0] as { subtaskId: string; pending: PendingApproval[] }).subtaskId === 's2'
        ? (signal.args[0] as { pending: PendingApproval[] }).pending
        : [],
    );
    expect(heldByS2.map((call) => call.arguments)).toEqual([held.s2.arguments]);
    expect(result.refusedRepeatCalls).toBe(1);
    expect(await fs.readFile(path.join(tandem.workspaceDir(id), 'other.txt'), 'utf8')).toBe('first');
    await expect(fs.access(path.join(tandem.workspaceDir(id), 'ok.txt'))).rejects.toThrow();
  });

  it('releases as refused an identical call another subtask already holds when a person denies one', async () => {
    scriptSideBySide();
    const { id, handle, held } = await startSideBySide('deny-both-held');
    expect(held.s2.arguments).toBe(held.s1.arguments);
    expect((await runCli(['deny', id, held.s1.callId, '--reason', 'NOPE'])).code).toBe(0);
    const result = await resultOf(handle);

    expect(result.ok).toBe(true);
    expect(s2Observation()).toContain(`an identical call (${held.s1.callId}, subtask s1) was denied earlier`);
    expect(result.refusedRepeatCalls).toBe(1);
    const late = await runCli(['approve', id, held.s2.callId]);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(
      /it was refused without asking: the call to write_file was not run|has already finished/,
    );
    await expect(fs.access(path.join(tandem.workspaceDir(id), 'ok.txt'))).rejects.toThrow();
  });

  it('holds a call a replan changed, and its request says a similar call was denied before, by whom and why', async () => {
    scriptReplan(save('Write ok.txt in notes/.'), { path: 'notes/ok.txt', content: 'approved' });
    const { id, handle, held } = await startSaving('deny-changed', { goal: 'Save notes/ok.txt' });
    expect((await runCli(['deny', id, held[0].callId, '--reason', 'write it to notes/ instead'])).code).toBe(0);
    const [changed] = await eventually(async () => {
      const pending = (await goalProgress(tandem.client, id)).pendingApprovals ?? [];
      return pending.some((call) => call.callId.startsWith('v2.s1:')) ? pending : undefined;
    }, 'the changed call to be held');

    expect(changed.deniedBefore).toEqual({
      callId: held[0].callId,
      subtaskId: 's1',
      tool: 'write_file',
      arguments: held[0].arguments,
      outcome: 'denied',
      by: os.userInfo().username,
      reason: 'write it to notes/ instead',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      changed: ['arguments', 'subtask'],
    });
    const line =
      `a similar call was denied before: write_file ${held[0].arguments} (${held[0].callId}) by a person ` +
      `(${os.userInfo().username}) at ${changed.deniedBefore!.at} (write it to notes/ instead); this one differs ` +
      'in its arguments and subtask';
    expect((await runCli(['approvals', id])).stdout).toContain(line);
    expect((await runCli(['status', id])).stdout).toContain(line);
    expect((await runCli(['approve', id, changed.callId])).code).toBe(0);

    expect((await resultOf(handle)).ok).toBe(true);
    expect(await fs.readFile(path.join(tandem.workspaceDir(id), 'notes/ok.txt'), 'utf8')).toBe('approved');
  });

  it("refuses an executor's own retry of a denied call without asking again", async () => {
    const call = { path: 'x.txt', content: 'x' };
    tandem.model.on(match.any, [
      reply.toolCall('write_file', call),
      reply.toolCall('write_file', call),
      reply.text('gave up'),
    ]);
    const workflowId = tandem.goalId('retry-denied');
    const { handle } = await tandem.startExecutor(workflowId, { approval: { tools: ['write_file'] } });
    const [first] = await eventually(async () => {
      const pending = (await handle.query(executorProgressQuery)).pendingApprovals;
      return pending.length ? pending : undefined;
    }, 'the held write');
    await handle.executeUpdate(decideApprovalUpdate, {
      args: [{ callId: first.callId, approve: false, reason: 'not now', by: 'tester' }],
    });

    const result = (await resultOf(handle)) as ExecutorResult;
    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'gave up' }));
    expect(lastToolOutput(tandem.model.requests[2])).toContain(
      `an identical call (${first.callId}, subtask t1) was denied earlier in this goal by a person (tester) at `,
    );
    expect(result.toolCalls).toEqual([
      expect.objectContaining({ name: 'write_file', ok: false }),
      expect.objectContaining({ name: 'write_file', ok: false }),
    ]);
  });

  it('result says which call waits, since when, until when and how to decide; --wait prints each held call once', async () => {
    tandem.model
      .on(match.purpose('judge'), reply.json({ met: true, reason: 'ok' }), { repeatLast: true })
      .on(match.purpose('report'), reply.text('Done.'), { repeatLast: true })
      .on(match.purpose('plan'), reply.json({ subtasks: [save('Write a.txt, then b.txt.')] }), { repeatLast: true })
      .on(match.purpose('step', 's1'), [
        reply.toolCall('write_file', { path: 'a.txt', content: 'a' }),
        reply.toolCall('write_file', { path: 'b.txt', content: 'b' }),
        reply.text('both written'),
      ]);
    const { id, held } = await startSaving('result-waits', {
      approvalTimeoutMs: 600_000,
      goal: 'Save a.txt and b.txt',
    });
    const env = { TANDEM_TASK_QUEUE: tandem.taskQueue };
    const plain = spawnCli(['result', id], env);
    const waiting = spawnCli(['result', id, '--wait'], env);
    const line = (call: PendingApproval) =>
      `! subtask s1 waits for approval since ${call.requestedAt} (denied at ${call.timeoutAt} if nobody decides): ` +
      `write_file ${call.arguments}; decide: tandem approve ${id} ${call.callId} / tandem deny ${id} ${call.callId} ` +
      '--reason "..."';
    for (const cli of [plain, waiting]) {
      expect(await cli.waitForLine(new RegExp(held[0].callId), 60_000, 'stderr')).toBe(line(held[0]));
    }
    expect((await runCli(['approve', id, held[0].callId])).code).toBe(0);
    const [second] = await eventually(async () => {
      const pending = (await goalProgress(tandem.client, id)).pendingApprovals ?? [];
      return pending.length ? pending : undefined;
    }, 'the second held call');
    for (const cli of [plain, waiting]) await cli.waitForLine(new RegExp(second.callId), 60_000, 'stderr');
    expect((await runCli(['approve', id, second.callId])).code).toBe(0);

    for (const cli of [plain, waiting]) {
      const ended = await cli.done();
      expect(ended).toEqual(expect.objectContaining({ code: 0, stdout: expect.stringContaining(`${id}  completed`) }));
      // Each held call once, however many times the CLI looked while it waited.
      expect(cli.errorLines).toEqual([line(held[0]), line(second)]);
    }
  });

  it('refuses a decision the approval timeout overtook, with what happened instead (DecisionNotApplied)', async () => {
    const compute: Subtask = { ...look, id: 's1', title: 'Compute', instructions: 'Answer.', milestone: 'Answered.' };
    const write: Subtask = { ...save('Write ok.txt.'), id: 's2' };
    // s1's judge hangs: the goal's loop waits on it, so an accepted decision is not forwarded before the timeout.
    tandem.model
      .on(match.purpose('plan'), reply.json({ subtasks: [compute, write] }), { repeatLast: true })
      .on(match.purpose('judge'), reply.hang(), { repeatLast: true })
      .on(match.purpose('report'), reply.text('Cancelled.'), { repeatLast: true })
      .on(match.purpose('step', 's1'), reply.text('answered'), { repeatLast: true })
      .on(match.purpose('step', 's2'), reply.toolCall('write_file', { path: 'ok.txt', content: 'late' }), {
        repeatLast: true,
      });
    const { id, handle, held } = await startSaving('late-decision', { approvalTimeoutMs: 15_000 });
    await tandem.model.waitForRequests(1, { match: match.purpose('judge'), timeoutMs: 30_000 });

    const late = await runCli(['approve', id, held[0].callId]);
    expect(late.code).toBe(1);
    // Accepted and then overtaken (DecisionNotApplied), or, on a machine so loaded that the CLI starts after the
    // timeout, refused at once: either way the person learns what happened instead.
    expect(late.stderr).toMatch(
      new RegExp(
        `tool call "${held[0].callId}" (was not approved by this decision|is no longer waiting): it was denied ` +
          'because nobody decided within 15s \\(the approval timeout\\)',
      ),
    );
    await handle.cancel();
    expect(await resultOf(handle)).toEqual(expect.objectContaining({ ok: false, reason: 'cancelled' }));
    await expect(fs.access(path.join(tandem.workspaceDir(id), 'ok.txt'))).rejects.toThrow();
  });
});
