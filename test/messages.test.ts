/**
 * Every message delivered or refused aloud, and every end recorded (issue 13, points 4 and 5), on a real dev server.
 */
import { executorProgressQuery, interruptSignal, progressQuery } from '../common/contract';
import { INTERRUPT_MESSAGE_CHARS } from '../common/limits';
import type { Subtask } from '../common/types';
import type { WorkflowHandle } from '@temporalio/client';
import type { GoalSummary } from '../client/goal-list';
import { match, reply, type Matcher } from '../dev/scripted-model';
import { runCli } from './helpers/cli';
import { eventually } from './helpers/history';
import { recordGoalHistories } from './helpers/history-fixtures';
import { resultOf, startTandem, stopped, type Tandem } from './helpers/tandem';

function subtask(id: string, dependsOn: string[] = []): Subtask {
  return { id, title: `Do ${id}`, instructions: `Instructions of ${id}.`, milestone: `${id} is answered`, dependsOn };
}
const executorOf = (id: string): Matcher => match.systemContains(`Subtask ${id}:`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('messages and ends', () => {
  let tandem: Tandem;
  let env: Record<string, string>;
  beforeEach(async () => {
    tandem = await startTandem();
    env = { TANDEM_TASK_QUEUE: tandem.taskQueue };
  });
  afterEach(async () => {
    await tandem.stop();
  });

  function script(subtasks: Subtask[]) {
    tandem.model
      .on(match.responseFormat('plan'), reply.json({ subtasks }), { name: 'planner', repeatLast: true })
      .on(match.responseFormat('verdict'), reply.json({ met: true, reason: 'ok' }), { name: 'judge', repeatLast: true })
      .on(match.purpose('report'), reply.text('Report.'), { name: 'report', repeatLast: true });
  }

  it('hands every one of 200 interrupts sent during a slow model call to the model (the example)', async () => {
    script([subtask('s1')]);
    tandem.model.on(executorOf('s1'), [reply.slow(12_000, reply.text('draft')), reply.text('final')], {
      repeatLast: true,
    });
    const handle = await tandem.startPlanner('many-interrupts', { goal: 'Take many interrupts' });
    await tandem.model.waitForRequests(1, { match: executorOf('s1') });
    const messages = Array.from({ length: 200 }, (_, i) => `note number ${i} of 200`);
    await Promise.all(messages.map((message) => handle.signal(interruptSignal, { message })));
    const result = await resultOf(handle);

    expect(result.ok).toBe(true);
    const seen = tandem.model
      .requestsMatching(executorOf('s1'))
      .map((req) => req.text)
      .join('\n');
    expect(messages.filter((message) => !seen.includes(message))).toEqual([]);
    // One batch signal per turn, not one per message: the executor's history stays small.
    const child = tandem.client.workflow.getHandle(`${handle.workflowId}.v1.s1`);
    const signals = ((await child.fetchHistory()).events ?? []).filter(
      (e) => e.workflowExecutionSignaledEventAttributes,
    );
    expect(signals.length).toBeLessThan(20);
  });

  it('hands 120 interrupts of 8,000 three-byte characters (3 MB) to the model over a few steps, none lost', async () => {
    script([subtask('s1')]);
    tandem.model.on(executorOf('s1'), [reply.slow(8_000, reply.text('draft')), reply.text('final')], {
      repeatLast: true,
    });
    const handle = await tandem.startPlanner('huge-interrupts', { goal: 'Take huge interrupts' });
    await tandem.model.waitForRequests(1, { match: executorOf('s1') });
    const messages = Array.from({ length: 120 }, (_, i) => `note ${i}: ${'€'.repeat(INTERRUPT_MESSAGE_CHARS - 12)}`);
    await Promise.all(messages.map((message) => handle.signal(interruptSignal, { message })));
    // While they wait (the model call is slow), `tandem status` of the executor still answers.
    const child = tandem.client.workflow.getHandle(`${handle.workflowId}.v1.s1`);
    // Batches reach it over several planner turns; on a loaded machine the slow call may end before the last one, so
    // what is asserted here is the bounded preview, and below that none is lost.
    const waiting = await eventually(
      async () => {
        const { pendingInterrupts } = await child.query(executorProgressQuery);
        return pendingInterrupts.length > 0 ? pendingInterrupts : undefined;
      },
      'interrupts to reach the executor',
      30_000,
    );
    expect(waiting[0]).toMatch(/^note \d+: €+… \[\d+ more characters not kept here\]$/);
    const result = await resultOf(handle);

    expect(result.ok).toBe(true);
    const steps = tandem.model.requestsMatching(executorOf('s1'));
    const seen = steps.map((req) => req.text).join('\n');
    expect(messages.filter((message) => !seen.includes(message))).toEqual([]);
    // Each model call carried at most one batch: the request grows by the batch, not by the whole storm.
    expect(steps.length).toBeGreaterThan(10);
  });

  it('queues an interrupt for a subtask that has not started and delivers it when it starts (the example)', async () => {
    script([subtask('s1'), subtask('s2', ['s1'])]);
    tandem.model
      .on(executorOf('s1'), reply.slow(15_000, reply.text('one')), { repeatLast: true })
      .on(executorOf('s2'), reply.text('two'), { repeatLast: true });
    const handle = await tandem.startPlanner('queued-interrupt', { goal: 'Queue an interrupt' });
    await tandem.model.waitForRequests(1, { match: executorOf('s1') });
    // The planner's own signal (the CLI's path, with its id check, is the next test's).
    await handle.signal(interruptSignal, { message: 'Use metric units', subtaskId: 's2' });
    await sleep(1_000);
    expect((await handle.query(progressQuery)).queuedInterrupts).toBe(1);

    expect((await resultOf(handle)).ok).toBe(true);
    const s2 = tandem.model.requestsMatching(executorOf('s2'));
    expect(s2[0].text).toContain('Use metric units');
    expect(
      tandem.model
        .requestsMatching(executorOf('s1'))
        .map((req) => req.text)
        .join(),
    ).not.toContain('metric');
    await recordGoalHistories(tandem.client, 'queued-interrupt', handle.workflowId);
  });

  it('counts every interrupt of storms timed across executors closing and goals ending: delivered + undelivered = sent', async () => {
    const ids = ['s1', 's2', 's3', 's4'];
    script([subtask('s1'), subtask('s2'), subtask('s3', ['s1']), subtask('s4', ['s2'])]);
    // Final answers at once: each executor closes as soon as a step sees no new interrupt, so the storms keep landing
    // in the window between a final answer and the run's close, and after it. The first step of each s1 is slow, so
    // the first burst (for s1) reaches a model whatever the load.
    const firstStep: Matcher = (req) => !req.messages.some((message) => message.role === 'assistant');
    tandem.model
      .on(match.and(executorOf('s1'), firstStep), reply.slow(3_000, reply.text('done')), { repeatLast: true })
      .on(match.and(match.purpose('step'), firstStep), reply.slow(600, reply.text('done')), { repeatLast: true })
      .on(match.purpose('step'), reply.slow(100, reply.text('done')), { repeatLast: true });
    /** Bursts of every size and gaps of every length, until the goal has closed and the server refuses them. */
    const storm = async (handle: WorkflowHandle) => {
      const gaps = [2, 2, 30, 2, 90, 250, 2, 600, 15, 400];
      const bursts = [1, 6, 1, 2, 12, 1, 3];
      const sent: string[] = [];
      for (let i = 0; i < 200; i += 1) {
        const burst = Array.from({ length: bursts[i % bursts.length] }, (_, k) => `<${handle.workflowId} ${i}.${k}>`);
        const subtaskId = ids[i % ids.length];
        const accepted = await Promise.all(
          burst.map((message) =>
            handle.signal(interruptSignal, { message, subtaskId }).then(
              () => message,
              () => undefined,
            ),
          ),
        );
        sent.push(...accepted.filter((message) => message !== undefined));
        if (accepted.includes(undefined)) break;
        await sleep(gaps[i % gaps.length]);
      }
      return sent;
    };
    // Two goals at once, so the worker is under load while their executors close.
    const handles = await Promise.all(
      ['storm-a', 'storm-b'].map((label) =>
        tandem.startPlanner(label, { goal: 'Take storms while closing', maxParallel: 2 }),
      ),
    );
    await tandem.model.waitForRequests(2, { match: executorOf('s1') });
    const storms = await Promise.all(handles.map(storm));
    const seen = () =>
      tandem.model
        .requestsMatching(match.purpose('step'))
        .map((req) => req.text)
        .join('\n');

    for (const [index, handle] of handles.entries()) {
      const result = await resultOf(handle);
      expect(result.ok).toBe(true);
      const sent = storms[index];
      const delivered = sent.filter((message) => seen().includes(message));
      const undelivered = result.undeliveredInterrupts ?? 0;
      console.log(
        `${handle.workflowId}: sent ${sent.length}, delivered ${delivered.length}, undelivered ${undelivered}`,
      );
      // Both ends were hit: some reached a model, some came after their subtask's last look.
      expect(delivered.length).toBeGreaterThan(0);
      expect(undelivered).toBeGreaterThan(0);
      expect({ sent: sent.length, counted: delivered.length + undelivered }).toEqual({
        sent: sent.length,
        counted: sent.length,
      });
      expect((await handle.query(progressQuery)).undeliveredInterrupts).toBe(undelivered);
      const status = await runCli(['status', handle.workflowId], env);
      expect(status.stdout).toContain(`! ${undelivered} interrupt(s) not delivered`);
    }
  });

  it('refuses an interrupt for a subtask id that is not in the plan, listing the ids', async () => {
    script([subtask('s1'), subtask('s2')]);
    tandem.model.on(match.any, reply.slow(60_000, reply.text('done')), { repeatLast: true });
    const handle = await tandem.startPlanner('unknown-subtask', { goal: 'Refuse an unknown subtask' });
    await tandem.model.waitForRequests(1, { match: executorOf('s1') });
    const run = await runCli(['interrupt', handle.workflowId, 'Hello', '--subtask', 's9'], env);
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: `tandem: goal "${handle.workflowId}" has no subtask "s9"; its subtasks: s1, s2\n`,
    });
    await handle.cancel();
  });

  it('refuses an interrupt for a subtask that has ended, with the ids that can still take one (the example)', async () => {
    script([subtask('s1'), subtask('s2', ['s1'])]);
    tandem.model.on(executorOf('s1'), reply.text('one'), { repeatLast: true });
    tandem.model.on(executorOf('s2'), reply.slow(60_000, reply.text('two')), { repeatLast: true });
    const handle = await tandem.startPlanner('ended-subtask', { goal: 'Refuse an ended subtask' });
    await tandem.model.waitForRequests(1, { match: executorOf('s2') });
    const run = await runCli(['interrupt', handle.workflowId, 'Too late', '--subtask', 's1'], env);
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `tandem: subtask "s1" of goal "${handle.workflowId}" has ended (done), so no model would read the message; ` +
        'subtasks that can take one: s2\n',
    });
    await handle.cancel();
  });

  it('delivers an interrupt sent during a step while the goal is paused, once it is resumed (the example)', async () => {
    script([subtask('s1')]);
    // The first step is slow, so pause and interrupt reach the goal while it runs; the model then sees the message.
    tandem.model.on(
      executorOf('s1'),
      (req) => (req.text.includes('STOP-XYZ') ? reply.text('saw it') : reply.slow(8_000, reply.text('first'))) as never,
      { repeatLast: true },
    );
    const handle = await tandem.startPlanner('paused-interrupt', { goal: 'Take an interrupt while paused' });
    const id = handle.workflowId;
    await tandem.model.waitForRequests(1, { match: executorOf('s1') });
    const cli = async (args: string[]) => {
      const run = await runCli(args, env);
      expect(run).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
      return run.stdout;
    };
    await cli(['pause', id]);
    expect(await cli(['interrupt', id, 'STOP-XYZ', '--subtask', 's1'])).toBe(`interrupt sent to ${id} (subtask s1)\n`);
    // While paused the message waits in the executor (or in the goal), it is not dropped.
    const child = tandem.client.workflow.getHandle(`${id}.v1.s1`);
    await eventually(
      async () => (await child.query(executorProgressQuery)).pendingInterrupts.includes('STOP-XYZ'),
      'the interrupt to wait in the paused executor',
    );
    await cli(['resume', id]);
    const result = await resultOf(handle);

    expect(result.ok).toBe(true);
    expect(tandem.model.requestsMatching(executorOf('s1')).some((req) => req.text.includes('STOP-XYZ'))).toBe(true);
    expect(result.subtasks[0].result).toEqual(expect.objectContaining({ ok: true, answer: 'saw it' }));
    expect(result.undeliveredInterrupts).toBeUndefined();
    expect((await handle.query(progressQuery)).undeliveredInterrupts).toBe(0);
  });

  it('says when pause or resume changes nothing, and holds the judge and the final report while paused', async () => {
    script([subtask('s1')]);
    // A slow first answer: the CLI calls below run while it is in flight.
    tandem.model.on(executorOf('s1'), reply.slow(40_000, reply.text('one')), { repeatLast: true });
    const handle = await tandem.startPlanner('pause-report', { goal: 'Pause before the report' });
    const id = handle.workflowId;
    await tandem.model.waitForRequests(1, { match: executorOf('s1') });
    const askedAt = Date.now();
    const cli = async (args: string[]) => {
      const run = await runCli(args, env);
      expect(run).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
      return run.stdout;
    };
    expect(await cli(['resume', id])).toBe(`goal ${id} is not paused; nothing changed\n`);
    expect(await cli(['pause', id])).toBe(`pause sent to ${id}; continue it with: tandem resume ${id}\n`);
    expect(await cli(['pause', id])).toBe(`goal ${id} is already paused; nothing changed\n`);
    // s1 answers while paused; the judge and the report wait for resume.
    await sleep(Math.max(0, askedAt + 45_000 - Date.now()));
    const progress = await handle.query(progressQuery);
    expect(progress).toEqual(expect.objectContaining({ status: 'paused', paused: true }));
    expect(tandem.model.requestsMatching(match.purpose('judge'))).toHaveLength(0);
    expect(tandem.model.requestsMatching(match.purpose('report'))).toHaveLength(0);
    expect(await cli(['resume', id])).toBe(`resume sent to ${id}\n`);
    expect((await resultOf(handle)).ok).toBe(true);
  });

  it('cancels a goal: children cancelled, not terminated, each with its partial; the goal reports it (the example)', async () => {
    script([subtask('s1'), subtask('s2')]);
    tandem.model
      .on(match.and(executorOf('s1'), match.lastRole('user')), reply.toolCall('calculator', { expression: '6*7' }))
      .on(executorOf('s1'), reply.slow(90_000, reply.text('never')), { repeatLast: true })
      .on(executorOf('s2'), reply.slow(90_000, reply.text('never')), { repeatLast: true });
    const handle = await tandem.startPlanner('cancel', { goal: 'Cancel me', maxParallel: 2 });
    await tandem.model.waitForRequests(2, { match: executorOf('s1') });
    await tandem.model.waitForRequests(1, { match: executorOf('s2') });
    // Temporal's cancellation, as `tandem cancel` requests it (test/cli-ops.test.ts checks the CLI sends it).
    await handle.cancel();
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'cancelled', report: 'Report.' }));
    expect(result.subtasks.map((s) => [s.id, s.status, stopped(s.result).reason])).toEqual([
      ['s1', 'cancelled', 'cancelled'],
      ['s2', 'cancelled', 'cancelled'],
    ]);
    expect(stopped(result.subtasks[0].result).partial).toContain('calculator');
    for (const s of ['s1', 's2']) {
      const child = await tandem.client.workflow.getHandle(`${handle.workflowId}.v1.${s}`).describe();
      expect(child.status.name).toBe('CANCELLED');
    }
    // The Web UI's status is the outcome: Canceled, the result (report and partials) kept in the memo.
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect((await handle.query(progressQuery)).status).toBe('cancelled');
    const again = await runCli(['cancel', handle.workflowId], env);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`goal "${handle.workflowId}" has already finished (cancelled)`);
    const listed = await eventually(async () => {
      const run = await runCli(['list', '--status', 'cancelled', '--json'], env);
      const goal = (JSON.parse(run.stdout) as GoalSummary[]).find((g) => g.id === handle.workflowId);
      return goal;
    }, 'the cancelled goal to be listed');
    expect(listed).toEqual(
      expect.objectContaining({ status: 'cancelled', executionStatus: 'CANCELLED', tandemStatus: 'cancelled' }),
    );
    await recordGoalHistories(tandem.client, 'cancel', handle.workflowId);
  });

  it('lists a terminated goal as terminated', async () => {
    script([subtask('s1')]);
    tandem.model.on(executorOf('s1'), reply.slow(30_000, reply.text('never')), { repeatLast: true });
    const handle = await tandem.startPlanner('terminated', { goal: 'Terminate me' });
    await tandem.model.waitForRequests(1, { match: executorOf('s1') });
    await handle.terminate('for the test');
    const listed = await eventually(async () => {
      const run = await runCli(['list', '--status', 'terminated', '--json'], env);
      const goal = (JSON.parse(run.stdout) as GoalSummary[]).find((g) => g.id === handle.workflowId);
      return goal;
    }, 'the terminated goal to be listed');
    expect(listed?.status).toBe('terminated');
    // The abandoned child is still running: cancel it so it does not hold the scripted model.
    await tandem.client.workflow.getHandle(`${handle.workflowId}.v1.s1`).cancel();
  });
});
