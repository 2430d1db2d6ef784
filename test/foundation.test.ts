import { WorkflowFailedError } from '@temporalio/client';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { scriptDemo } from '../dev/demo-model';
import { goalHandle, goalProgress, goalResult, startGoal } from '../client/goals';
import { connectClient } from '../node/connection';
import { TemporalUnreachableError } from '../node/errors';
import { progressQuery, statusSearchAttribute } from '../common/contract';
import { recordGoalHistories } from './helpers/history-fixtures';
import { match, reply } from '../dev/scripted-model';
import { resultOf, startTandem, type Tandem } from './helpers/tandem';

describe('a goal from plan to report (foundation)', () => {
  let tandem: Tandem;

  beforeEach(async () => {
    tandem = await startTandem();
  });
  afterEach(async () => {
    await tandem.stop();
  });

  it('plans two subtasks, runs each as a child executor with real tools, and reports', async () => {
    scriptDemo(tandem.model);
    const id = tandem.goalId('e2e');
    const handle = await startGoal(tandem.client, {
      goal: 'Compute 17 * 23 + 4 and save it to answer.txt',
      id,
      taskQueue: tandem.taskQueue,
    });
    const result = await resultOf(handle);

    expect(result.ok).toBe(true);
    expect(result.subtasks.map((subtask) => subtask.id)).toEqual(['s1', 's2']);
    expect(result.subtasks[0].result?.answer).toContain('395');
    expect(result.subtasks[0].result?.toolCalls).toEqual([expect.objectContaining({ name: 'calculator', ok: true })]);
    expect(result.subtasks[1].result?.toolCalls).toEqual([expect.objectContaining({ name: 'write_file', ok: true })]);
    expect(result.report).toMatch(/^Done\./);
    expect(await fs.readFile(path.join(tandem.workspaceDir(id), 'answer.txt'), 'utf8')).toBe('395\n');

    // s2 was given s1's answer (the dependency's result, not its transcript).
    const s2First = tandem.model.requests.find((req) => req.lastUserText.includes('Write the computed value'));
    expect(s2First?.lastUserText).toContain('Result of subtask s1:\n17 * 23 + 4 = 395');
    // The executor offered the subtask's tools (plus escalate), and the calculator's schema reached the model.
    const s1First = tandem.model.requests.find((req) => req.toolNames.includes('calculator'));
    expect(s1First?.toolNames).toEqual(['calculator', 'escalate']);
    expect(JSON.stringify(s1First?.body.tools)).toContain('"expression"');
    // The API key went to the endpoint, never into the history.
    expect(tandem.model.requests[0].headers.authorization).toBe('Bearer sk-test-secret-key');
    const history = JSON.stringify(await handle.fetchHistory());
    expect(history).not.toContain('sk-test-secret-key');
    expect(history).not.toMatch(/Bearer|authorization/i);
    tandem.model.assertAllAnswered();
    await recordGoalHistories(tandem.client, 'plan', id);
  });

  it('shows the child executors through the client API, with readable ids and summaries', async () => {
    scriptDemo(tandem.model);
    const id = tandem.goalId('children');
    const handle = await startGoal(tandem.client, { goal: 'Compute and save', id, taskQueue: tandem.taskQueue });
    await resultOf(handle);

    for (const [subtask, title] of [
      ['s1', 'Compute the value'],
      ['s2', 'Save the result'],
    ]) {
      const child = await tandem.client.workflow.getHandle(`${id}.v1.${subtask}`).describe();
      expect(child.type).toBe('executorWorkflow');
      expect(child.status.name).toBe('COMPLETED');
      expect(child.parentExecution?.workflowId).toBe(id);
      expect(await child.staticSummary()).toBe(`${subtask} · ${title}`);
    }
    const planner = await handle.describe();
    expect(await planner.staticSummary()).toBe('Compute and save');
  });

  it('answers the progress query mid-run with the plan and each subtask', async () => {
    // s1's final answer is slow, so the goal is caught with s1 running and s2 pending.
    tandem.model.on(
      match.and(match.purpose('step', 's1'), match.lastRole('tool')),
      reply.slow(3_000, reply.text('17 * 23 + 4 = 395')),
    );
    scriptDemo(tandem.model);
    const id = tandem.goalId('progress');
    const handle = await startGoal(tandem.client, { goal: 'Compute and save', id, taskQueue: tandem.taskQueue });
    await tandem.model.waitForRequests(1, {
      match: match.and(match.purpose('step', 's1'), match.lastRole('tool')),
    });

    const progress = await handle.query(progressQuery);
    expect(progress.status).toBe('running');
    expect(progress.goal).toBe('Compute and save');
    expect(progress.plan.map((subtask) => subtask.id)).toEqual(['s1', 's2']);
    expect(progress.subtasks).toEqual([
      expect.objectContaining({ id: 's1', title: 'Compute the value', status: 'running', workflowId: `${id}.v1.s1` }),
      expect.objectContaining({ id: 's2', title: 'Save the result', status: 'pending', steps: 0 }),
    ]);
    expect(progress.usage.promptTokens).toBeGreaterThan(0);

    await resultOf(handle);
    const done = await goalProgress(tandem.client, id);
    expect(done.status).toBe('completed');
    expect(done.subtasks.map((subtask) => [subtask.status, subtask.steps])).toEqual([
      ['done', 2],
      ['done', 2],
    ]);
  });

  it('sends an invalid plan back to the model with its errors, then runs the fallback plan and says why', async () => {
    tandem.model
      .on(match.responseFormat('plan'), reply.json({ subtasks: [{ id: 's1', title: 'No milestone' }] }), {
        repeatLast: true,
      })
      .on(match.purpose('step', 'goal'), reply.text('did it'))
      .on(match.purpose('judge'), reply.json({ met: true, reason: 'done' }))
      .on(match.purpose('report'), reply.text('Report.'));
    const id = tandem.goalId('badplan');
    await startGoal(tandem.client, { goal: 'Anything', id, taskQueue: tandem.taskQueue });
    const result = await goalResult(tandem.client, id);
    expect(result.ok).toBe(true);
    const planRequests = tandem.model.requestsMatching(match.responseFormat('plan'));
    expect(planRequests).toHaveLength(3);
    expect(planRequests[1].lastUserText).toContain('That plan is invalid');
    expect(planRequests[1].lastUserText).toContain('subtasks.0.instructions');
    // The goal's state says why it runs the fallback plan: the progress query and the Web UI details.
    const progress = await goalProgress(tandem.client, id);
    expect(progress.planReason).toMatch(
      /^fallback plan: the model did not produce a valid plan in 3 attempts.*milestone/,
    );
    expect(progress.rejectedDrafts).toHaveLength(3);
    const description = await tandem.client.workflow.getHandle(id).describe();
    expect(description.typedSearchAttributes.get(statusSearchAttribute)).toBe('completed');
  });
});

// The subtask step budget now travels as `budget.maxSteps` and ends a run with reason 'budget': the executor branch.

describe('subtask budgets (foundation)', () => {
  let tandem: Tandem;

  beforeEach(async () => {
    tandem = await startTandem();
  });
  afterEach(async () => {
    await tandem.stop();
  });

  it('ends a subtask at its step budget with reason budget', async () => {
    tandem.model
      .on(
        match.responseFormat('plan'),
        reply.json({
          subtasks: [
            { id: 'loop', title: 'Loop', instructions: 'Keep calculating', milestone: 'never', dependsOn: [] },
          ],
        }),
      )
      .on(match.hasTools(), reply.toolCall('calculator', { expression: '1+1' }), { repeatLast: true })
      .on(match.systemContains('final report'), reply.text('gave up'));
    // No automatic replan, so the one run's budget end is the goal's end.
    const handle = await tandem.startPlanner('maxsteps', {
      goal: 'Loop forever',
      maxStepsPerSubtask: 3,
      maxReplans: 0,
    });
    const result = await resultOf(handle);
    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'replans_exhausted' }));
    expect(result.subtasks[0].result).toEqual(
      expect.objectContaining({ ok: false, reason: 'budget', budget: 'steps', steps: 3, answer: null }),
    );
    expect(tandem.model.requestsMatching(match.hasTools())).toHaveLength(3);
  });
});

describe('bad input (foundation)', () => {
  it('refuses an empty goal before anything starts', async () => {
    const client = await connectClient();
    await expect(startGoal(client, { goal: '   ', taskQueue: 'unused', id: 'empty-goal' })).rejects.toThrow(
      /the goal is empty/,
    );
    await expect(client.workflow.getHandle('empty-goal').describe()).rejects.toThrow(/not found/i);
    await client.connection.close();
  });

  it('names an unknown goal id and how to find the right one', async () => {
    const client = await connectClient();
    await expect(goalHandle(client, 'no-such-goal')).rejects.toThrow('no goal with id "no-such-goal"');
    await client.connection.close();
  });

  it('says how to fix an unreachable server', async () => {
    const settings = { connectionOptions: { address: '127.0.0.1:1' }, namespace: 'default', taskQueue: 'x' };
    const failure = await connectClient(settings).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(TemporalUnreachableError);
    expect((failure as Error).message).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1.*tandem dev.*TEMPORAL_ADDRESS/);
  });

  it('fails the planner run itself on an empty goal started by another client (InvalidGoal)', async () => {
    const tandem = await startTandem();
    try {
      const handle = await tandem.client.workflow.start('plannerWorkflow', {
        workflowId: tandem.goalId('raw-empty'),
        taskQueue: tandem.taskQueue,
        args: [{ goal: '' }],
      });
      const failure = await resultOf(handle).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect(((failure as WorkflowFailedError).cause as Error).message).toMatch(/the goal is empty/);
      expect(tandem.model.requests).toHaveLength(0);
    } finally {
      await tandem.stop();
    }
  });
});
