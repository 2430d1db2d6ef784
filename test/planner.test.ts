import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import {
  cancelSubtaskSignal,
  interruptSignal,
  pauseSignal,
  progressQuery,
  replanSignal,
  resumeSignal,
  revisePlanUpdate,
} from '../common/contract';
import { type Subtask } from '../common/types';
import { match, reply, type Matcher, type ScriptedReply } from '../dev/scripted-model';
import { planInvalid, resultOf, startTandem, stopped, type Tandem } from './helpers/tandem';
import { recordGoalHistories } from './helpers/history-fixtures';
import { eventually } from './helpers/history';
import { replayWorkerOptions } from '../worker/worker';

/** A subtask of a scripted plan; its executor is recognised by "Subtask <id>" in the system prompt. */
function subtask(id: string, dependsOn: string[] = [], extra: Partial<Subtask> = {}): Subtask {
  return {
    id,
    title: `Do ${id}`,
    instructions: `Instructions of ${id}.`,
    milestone: `${id} is answered`,
    dependsOn,
    ...extra,
  };
}

const plan = (...subtasks: Subtask[]) => reply.json({ subtasks });
const executorOf = (id: string): Matcher => match.systemContains(`Subtask ${id}:`);
/** The first request of an executor run: the one that carries the subtask's instructions as the last message. */
const firstStepOf = (id: string): Matcher => match.and(executorOf(id), match.lastRole('user'));
const met = reply.json({ met: true, reason: 'the answer meets the milestone' });

describe('planner', () => {
  let tandem: Tandem;

  beforeEach(async () => {
    tandem = await startTandem();
  });
  afterEach(async () => {
    await tandem.stop();
  });

  /** Scripts executors answering at once (or with `replies`), a judge that accepts, and an echoing report. */
  function script(opts: {
    plans: ScriptedReply[];
    executors?: Record<string, ScriptedReply>;
    verdicts?: ScriptedReply[];
  }) {
    tandem.model.on(match.responseFormat('plan'), opts.plans, { name: 'planner' });
    tandem.model.on(match.responseFormat('verdict'), opts.verdicts ?? [met], { name: 'judge', repeatLast: true });
    for (const [id, answer] of Object.entries(opts.executors ?? {})) {
      tandem.model.on(executorOf(id), answer, { name: id, repeatLast: true });
    }
    tandem.model.on(match.systemContains('final report'), (req) => reply.text(`Report.\n${req.lastUserText}`), {
      name: 'report',
      repeatLast: true,
    });
  }

  it('runs independent subtasks in parallel and a dependent one after both, with their answers', async () => {
    script({
      plans: [plan(subtask('s1'), subtask('s2'), subtask('s3', ['s1', 's2']))],
      executors: {
        s1: reply.slow(1_500, reply.text('answer one')),
        s2: reply.slow(1_500, reply.text('answer two')),
        s3: reply.text('answer three'),
      },
    });
    const handle = await tandem.startPlanner('dag', { goal: 'A DAG', maxParallel: 2 });
    const result = await resultOf(handle);

    expect(result.ok).toBe(true);
    expect(result.subtasks.map((entry) => [entry.id, entry.status])).toEqual([
      ['s1', 'done'],
      ['s2', 'done'],
      ['s3', 'done'],
    ]);
    const times = async (id: string) => {
      const child = await tandem.client.workflow.getHandle(`${handle.workflowId}.v1.${id}`).describe();
      return { start: child.startTime.getTime(), close: child.closeTime!.getTime() };
    };
    const [s1, s2, s3] = [await times('s1'), await times('s2'), await times('s3')];
    expect(s1.start).toBeLessThan(s2.close);
    expect(s2.start).toBeLessThan(s1.close);
    expect(s3.start).toBeGreaterThanOrEqual(Math.max(s1.close, s2.close));
    const s3First = tandem.model.requestsMatching(firstStepOf('s3'))[0];
    expect(s3First.lastUserText).toContain('Result of subtask s1:\nanswer one');
    expect(s3First.lastUserText).toContain('Result of subtask s2:\nanswer two');
    // One verdict per child, whichever of the parallel two finished first.
    const judged = tandem.model.requestsMatching(match.responseFormat('verdict')).map((req) => req.lastUserText);
    expect(judged).toHaveLength(3);
    for (const id of ['s1', 's2', 's3']) expect(judged).toContainEqual(expect.stringContaining(`Milestone: ${id} is`));
    tandem.model.assertAllAnswered();
  });

  it('sends an invalid plan back with its errors and runs the corrected one', async () => {
    script({
      plans: [plan(subtask('s1', ['s2']), subtask('s2', ['s1'])), plan(subtask('s1'), subtask('s2', ['s1']))],
      executors: { s1: reply.text('one'), s2: reply.text('two') },
    });
    const result = await resultOf(await tandem.startPlanner('corrected', { goal: 'Two steps' }));

    expect(result.ok).toBe(true);
    expect(result.planVersion).toBe(1);
    const planRequests = tandem.model.requestsMatching(match.responseFormat('plan'));
    expect(planRequests).toHaveLength(2);
    expect(planRequests[1].lastUserText).toContain('That plan is invalid');
    expect(planRequests[1].lastUserText).toMatch(/dependency cycle: s1 → s2 → s1/);
  });

  it("replans when the judge finds a milestone missed, with the judge's reason as evidence", async () => {
    script({
      plans: [plan(subtask('s1')), plan(subtask('s1', [], { instructions: 'Answer with a number.' }))],
      executors: { s1: reply.text('forty-two') },
      verdicts: [reply.json({ met: false, reason: 'the answer has no digits' }), met],
    });
    const handle = await tandem.startPlanner('missed', { goal: 'A number' });
    const result = await resultOf(handle);

    expect(result.ok).toBe(true);
    expect(result.planVersion).toBe(2);
    expect(result.replans).toEqual([
      expect.objectContaining({ version: 2, reason: expect.stringContaining('the answer has no digits') }),
    ]);
    const { versions } = await handle.query(progressQuery);
    expect(versions.map(({ version, reason }) => [version, reason])).toEqual([
      [1, 'initial plan'],
      [2, expect.stringContaining('the answer has no digits')],
    ]);
    const replanRequest = tandem.model.requestsMatching(match.responseFormat('plan'))[1];
    expect(replanRequest.lastUserText).toContain('s1 missed its milestone "s1 is answered": the answer has no digits');
    expect(replanRequest.lastUserText).toContain('"instructions": "Instructions of s1."');
    // The subtask ran again under the new plan version's id.
    const rerun = await tandem.client.workflow.getHandle(`${handle.workflowId}.v2.s1`).describe();
    expect(rerun.status.name).toBe('COMPLETED');
  });

  it('ends failed with the history of what was tried once automatic replans are used up', async () => {
    script({
      plans: [plan(subtask('s1'))],
      executors: { s1: reply.text('nope') },
      verdicts: [reply.json({ met: false, reason: 'still wrong' })],
    });
    // Each replan changes the work: a plan that repeats the failed one is refused (see the budget test below).
    let attempt = 0;
    tandem.model.on(
      match.responseFormat('plan'),
      () => plan(subtask('s1', [], { instructions: `Try again, way ${++attempt}.` })),
      { repeatLast: true },
    );
    const handle = await tandem.startPlanner('exhausted', { goal: 'Impossible', maxReplans: 1 });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'replans_exhausted', planVersion: 2 }));
    // The Web UI's status is the outcome: Failed, with the whole result in a non-retryable GoalNotOk's details.
    expect((await handle.describe()).status.name).toBe('FAILED');
    const failure = await handle.result().then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect([cause.type, cause.nonRetryable, cause.message]).toEqual([
      'GoalNotOk',
      true,
      'the goal ended failed (replans_exhausted)',
    ]);
    expect(cause.details).toEqual([result]);
    expect(result.replans.map((version) => version.reason)).toEqual([expect.stringContaining('still wrong')]);
    const reportRequest = tandem.model.requestsMatching(match.systemContains('final report'))[0];
    expect(reportRequest.lastUserText).toContain('ended before it was done (replans_exhausted)');
  });

  it('applies a replan signal mid-run: keeps completed work, cancels a dropped child, runs new subtasks', async () => {
    script({
      plans: [plan(subtask('s1'), subtask('s2')), plan(subtask('s1'), subtask('s3', ['s1']))],
      executors: { s1: reply.text('one'), s2: reply.hang(), s3: reply.text('three') },
    });
    const handle = await tandem.startPlanner('replan', { goal: 'Change course' });
    await tandem.model.waitForRequests(1, { match: match.responseFormat('verdict') });
    await tandem.model.waitForRequests(1, { match: executorOf('s2') });
    await handle.signal(replanSignal, { evidence: 's2 is not needed; s3 is' });
    const result = await resultOf(handle);

    expect(result.ok).toBe(true);
    expect(result.planVersion).toBe(2);
    expect(result.subtasks.map((entry) => [entry.id, entry.status])).toEqual([
      ['s1', 'done'],
      ['s3', 'done'],
    ]);
    // s1 was kept, not re-run: its instructions reached an executor once.
    expect(tandem.model.requestsMatching(firstStepOf('s1'))).toHaveLength(1);
    expect(result.subtasks[0].result?.answer).toBe('one');
    // The child the new plan dropped was cancelled (closed, not left running).
    const dropped = await tandem.client.workflow.getHandle(`${handle.workflowId}.v1.s2`).describe();
    expect(dropped.status.name).not.toBe('RUNNING');
    expect(tandem.model.requestsMatching(match.responseFormat('plan'))[1].lastUserText).toContain(
      's2 is not needed; s3 is',
    );
    const report = tandem.model.requestsMatching(match.systemContains('final report'))[0].lastUserText;
    expect(report).toContain('s3 · Do s3');
    expect(report).not.toContain('s2 · Do s2');
    // The same history replays to the same decisions (signals, cancellation and reconciliation included).
    await Worker.runReplayHistory(
      replayWorkerOptions(process.env.TANDEM_TEST_BUNDLE!),
      await handle.fetchHistory(),
      handle.workflowId,
    );
    await recordGoalHistories(tandem.client, 'replan', handle.workflowId);
  });

  it('returns the new plan version from revisePlan, and its validator refuses empty evidence and a finished goal', async () => {
    script({
      plans: [plan(subtask('s1')), plan(subtask('s1'), subtask('s2', ['s1']))],
      executors: { s1: reply.slow(2_000, reply.text('one')), s2: reply.text('two') },
    });
    const handle = await tandem.startPlanner('revise', { goal: 'Revise' });
    await tandem.model.waitForRequests(1, { match: executorOf('s1') });

    await expect(handle.executeUpdate(revisePlanUpdate, { args: [{ evidence: '  ' }] })).rejects.toThrow(
      WorkflowUpdateFailedError,
    );
    const version = await handle.executeUpdate(revisePlanUpdate, { args: [{ evidence: 'add a second step' }] });
    expect(version).toEqual(
      expect.objectContaining({
        version: 2,
        reason: 'add a second step',
        subtasks: [subtask('s1'), subtask('s2', ['s1'])],
      }),
    );
    expect(Date.parse(version.createdAt)).not.toBeNaN();
    const result = await resultOf(handle);
    expect(result.subtasks.map((entry) => entry.id)).toEqual(['s1', 's2']);
    // s1 was running unchanged, so it kept running: one run, under its v1 id.
    expect(tandem.model.requestsMatching(firstStepOf('s1'))).toHaveLength(1);

    const history = await handle.fetchHistory();
    const accepted = history.events!.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes);
    expect(accepted).toHaveLength(1);
    await expect(handle.executeUpdate(revisePlanUpdate, { args: [{ evidence: 'too late' }] })).rejects.toThrow();
  });

  it('ends the goal with a partial report when the goal token budget runs out', async () => {
    script({
      plans: [plan(subtask('s1'), subtask('s2', ['s1']))],
      executors: { s1: reply.text('one', { prompt_tokens: 400, completion_tokens: 200 }), s2: reply.text('two') },
    });
    const handle = await tandem.startPlanner('budget', { goal: 'Expensive', maxTokens: 500 });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'budget_exhausted' }));
    expect((await handle.describe()).status.name).toBe('FAILED');
    expect(result.subtasks.map((entry) => [entry.id, entry.status])).toEqual([
      ['s1', 'done'],
      ['s2', 'skipped'],
    ]);
    expect(result.report).toMatch(/^Report\./);
    expect(tandem.model.requestsMatching(executorOf('s2'))).toHaveLength(0);
    const reportRequest = tandem.model.requestsMatching(match.systemContains('final report'))[0];
    expect(reportRequest.lastUserText).toContain('ended before it was done (budget_exhausted)');
    expect(result.usage.promptTokens + result.usage.completionTokens).toBeGreaterThan(500);
    const progress = await handle.query(progressQuery);
    expect(progress.budget.left.tokens).toBe(0);
    await recordGoalHistories(tandem.client, 'budget', handle.workflowId);
  });

  it('names how the goal ended and why on the first line of its Web UI details, for every ending', async () => {
    const firstLine = async (handle: { query: (name: string) => Promise<unknown> }) => {
      const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
      return (metadata.currentDetails ?? '').split('\n')[0];
    };
    const twoSteps = plan(subtask('s1'), subtask('s2', ['s1']));
    script({
      plans: [twoSteps, twoSteps],
      executors: { s1: reply.text('one', { prompt_tokens: 400, completion_tokens: 200 }), s2: reply.text('two') },
    });
    const ok = await tandem.startPlanner('ends-ok', { goal: 'Cheap', maxTokens: 100_000 });
    expect((await resultOf(ok)).ok).toBe(true);
    expect(await firstLine(ok)).toBe('**Ended:** completed');

    const budget = await tandem.startPlanner('ends-budget', { goal: 'Expensive', maxTokens: 500 });
    expect(((await resultOf(budget)) as { reason?: string }).reason).toBe('budget_exhausted');
    expect(await firstLine(budget)).toMatch(/^\*\*Ended:\*\* failed \(budget_exhausted\)/);

    // Failed while planning: no plan, so nothing below the first line would say why.
    tandem.model.reset();
    tandem.model.on(match.responseFormat('plan'), reply.error(401, 'Incorrect API key provided'), { repeatLast: true });
    const refused = await tandem.startPlanner('ends-planning', { goal: 'Anything' });
    await expect(resultOf(refused)).rejects.toThrow();
    expect(await firstLine(refused)).toMatch(
      /^\*\*Ended:\*\* failed: callModel failed: .*HTTP 401.*\[ModelRequestRejected\]$/,
    );

    tandem.model.reset();
    script({ plans: [plan(subtask('s1'))], executors: { s1: reply.slow(60_000, reply.text('late')) } });
    const cancelled = await tandem.startPlanner('ends-cancelled', { goal: 'Long' });
    await tandem.model.waitForRequests(1, { match: executorOf('s1') });
    await cancelled.cancel();
    expect(((await resultOf(cancelled)) as { reason?: string }).reason).toBe('cancelled');
    expect(await firstLine(cancelled)).toBe('**Ended:** cancelled');
  });

  it("gives each subtask the user's step budget over the plan's, and never reruns the plan that just failed", async () => {
    // The example: the user said 200 steps per subtask (here 6), the plan said 20 (here 2); the subtask ran out at the
    // plan's figure, then three replans ran the identical plan with the identical budget.
    const failing = plan(subtask('s1', [], { budget: { maxSteps: 2 } }));
    script({ plans: [failing], executors: { s1: reply.toolCall('calculator', { expression: '1+1' }) } });
    tandem.model.on(match.responseFormat('plan'), failing, { repeatLast: true });
    const handle = await tandem.startPlanner('user-budget', { goal: 'Count', maxStepsPerSubtask: 6, maxReplans: 3 });
    const result = await resultOf(handle);

    expect(result.subtasks[0].result).toEqual(expect.objectContaining({ reason: 'budget', steps: 6 }));
    // The subtask that did not reach its answer shows as Failed, its result in a SubtaskNotOk's details.
    const child = tandem.client.workflow.getHandle(`${handle.workflowId}.v1.s1`);
    expect((await child.describe()).status.name).toBe('FAILED');
    expect(await resultOf(child)).toEqual(expect.objectContaining({ ok: false, reason: 'budget', budget: 'steps' }));
    // One run of the plan, not four: each repeat went back to the model as an error, and the goal ended saying so.
    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'plan_invalid', planVersion: 1 }));
    expect(planInvalid(result).rejectedDrafts.map((draft) => draft.errors.join(' '))).toEqual([
      expect.stringContaining('repeats the unfinished work of plan v1, which just failed'),
      expect.stringContaining('repeats the unfinished work of plan v1'),
      expect.stringContaining('repeats the unfinished work of plan v1'),
    ]);
    const replanRequest = tandem.model.requestsMatching(match.responseFormat('plan'))[1];
    expect(replanRequest.lastUserText).toContain('each subtask: 6 steps, set by the user');
  });

  it('cancels running children at the goal deadline and reports what was done', async () => {
    script({ plans: [plan(subtask('s1'))], executors: { s1: reply.hang() } });
    const deadline = new Date(Date.now() + 3_000).toISOString();
    const result = await resultOf(await tandem.startPlanner('deadline', { goal: 'Too slow', deadline }));

    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'budget_exhausted' }));
    // The child's time budget is capped at what is left of the goal's, so at the deadline either the planner cancels
    // it or it ends itself on that budget a moment earlier: both stop the work at the deadline with a partial result.
    const [s1] = result.subtasks;
    expect(s1.id).toBe('s1');
    expect([
      ['cancelled', 'cancelled'],
      ['failed', 'budget'],
    ]).toContainEqual([s1.status, stopped(s1.result).reason]);
    expect(stopped(s1.result).partial).toEqual(expect.any(String));
  });

  it('answers progress mid-run with the tree: plan version, statuses, child ids, verdicts and budget', async () => {
    script({
      plans: [plan(subtask('s1'), subtask('s2', ['s1']))],
      executors: { s1: reply.slow(2_000, reply.text('one')), s2: reply.text('two') },
    });
    const handle = await tandem.startPlanner('tree', { goal: 'Show the tree', maxTokens: 100_000 });
    await tandem.model.waitForRequests(1, { match: executorOf('s1') });

    const progress = await handle.query(progressQuery);
    expect(progress).toEqual(
      expect.objectContaining({ status: 'running', goal: 'Show the tree', planVersion: 1, planReason: 'initial plan' }),
    );
    expect(progress.subtasks).toEqual([
      expect.objectContaining({ id: 's1', status: 'running', workflowId: `${handle.workflowId}.v1.s1` }),
      expect.objectContaining({ id: 's2', status: 'pending', steps: 0, tokens: 0 }),
    ]);
    expect(progress.budget.used.tokens).toBeGreaterThan(0);
    expect(progress.budget.left.tokens).toBe(100_000 - progress.budget.used.tokens);

    await resultOf(handle);
    const done = await handle.query(progressQuery);
    expect(done.status).toBe('completed');
    expect(done.subtasks.map((entry) => [entry.id, entry.status, entry.steps, entry.verdict?.met])).toEqual([
      ['s1', 'done', 1, true],
      ['s2', 'done', 1, true],
    ]);
    const description = await handle.describe();
    expect(description.searchAttributes.TandemStatus).toEqual(['completed']);
    expect(description.searchAttributes.TandemPlanVersion).toEqual([1]);
  });

  it("refreshes the Web UI details at an executor's progress report, between the planner's turns", async () => {
    script({ plans: [plan(subtask('s1', [], { tools: ['calculator'] }))] });
    tandem.model.on(
      executorOf('s1'),
      [reply.toolCall('calculator', { expression: '6*7' }), reply.slow(3_000, reply.text('42'))],
      {
        name: 's1',
      },
    );
    const handle = await tandem.startPlanner('details', { goal: 'Show the step', maxTokens: 100_000 });
    await tandem.model.waitForRequests(2, { match: executorOf('s1') });

    // The second LLM call is in flight: the planner has not turned since it started s1; its first step's report did.
    const details = await eventually(async () => {
      const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      return /\|\s*s1 · Do s1\s*\|\s*running\s*\|\s*1\s*\|/.test(metadata.currentDetails ?? '')
        ? metadata.currentDetails
        : undefined;
    }, "the details to show s1's first step");
    expect(details).toMatch(/\|\s*s1 · Do s1\s*\|\s*running\s*\|\s*1\s*\|\s*[1-9]\d*\s*\|/);
    expect((await resultOf(handle)).ok).toBe(true);
  });

  it('cancels one subtask on cancelSubtask and replans with its partial result, without using up maxReplans', async () => {
    script({
      plans: [plan(subtask('s1')), plan(subtask('s2'))],
      executors: { s1: reply.hang(), s2: reply.text('two') },
    });
    const handle = await tandem.startPlanner('cancel', { goal: 'Cancel one', maxReplans: 0 });
    await tandem.model.waitForRequests(1, { match: executorOf('s1') });
    await handle.signal(cancelSubtaskSignal, { subtaskId: 's1', reason: 'taking too long' });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: true, planVersion: 2 }));
    expect(result.replans[0].reason).toMatch(/s1 did not finish \(cancelled\).*taking too long/);
    const cancelled = await tandem.client.workflow.getHandle(`${handle.workflowId}.v1.s1`).describe();
    expect(cancelled.status.name).not.toBe('RUNNING');
  });

  it("holds dispatch and the planner's own judge while paused, and continues after resume", async () => {
    script({
      plans: [plan(subtask('s1'), subtask('s2', ['s1']))],
      executors: { s1: reply.slow(1_500, reply.text('one')), s2: reply.text('two') },
    });
    const handle = await tandem.startPlanner('pause', { goal: 'Pause me' });
    await tandem.model.waitForRequests(1, { match: executorOf('s1') });
    await handle.signal(pauseSignal);
    // s1's answer comes back while paused: the judge waits for resume, and s2 does not start.
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    const paused = await handle.query(progressQuery);
    expect(paused.status).toBe('paused');
    expect(paused.paused).toBe(true);
    expect(tandem.model.requestsMatching(match.responseFormat('verdict'))).toHaveLength(0);
    expect(tandem.model.requestsMatching(executorOf('s2'))).toHaveLength(0);
    await handle.signal(resumeSignal);
    expect((await resultOf(handle)).ok).toBe(true);
  });
});

describe('planner → executor channel', () => {
  let tandem: Tandem;

  beforeEach(async () => {
    tandem = await startTandem();
  });
  afterEach(async () => {
    await tandem.stop();
  });

  it("forwards an interrupt to the running executor's next model request", async () => {
    tandem.model
      .on(match.responseFormat('plan'), plan(subtask('s1', [], { tools: ['calculator'] })))
      .on(match.responseFormat('verdict'), met, { repeatLast: true })
      .on(match.and(executorOf('s1'), match.lastRole('user'), match.not(match.textContains('use 6*7'))), [
        reply.slow(2_000, reply.toolCall('calculator', { expression: '1+1' })),
      ])
      .on(executorOf('s1'), reply.text('42'), { repeatLast: true })
      .on(match.systemContains('final report'), reply.text('Report.'), { repeatLast: true });
    const handle = await tandem.startPlanner('interrupt', { goal: 'Interrupt me' });
    await tandem.model.waitForRequests(1, { match: executorOf('s1') });
    await handle.signal(interruptSignal, { message: 'use 6*7 instead', subtaskId: 's1' });
    await resultOf(handle);

    const [, next] = tandem.model.requestsMatching(executorOf('s1'));
    expect(next.text).toContain('use 6*7 instead');
    await recordGoalHistories(tandem.client, 'interrupt', handle.workflowId);
  });

  it('pauses the running executor with the tree', async () => {
    tandem.model
      .on(match.responseFormat('plan'), plan(subtask('s1', [], { tools: ['calculator'] })))
      .on(match.responseFormat('verdict'), met, { repeatLast: true })
      .on(
        match.and(executorOf('s1'), match.lastRole('user')),
        reply.slow(1_000, reply.toolCall('calculator', { expression: '1+1' })),
      )
      .on(executorOf('s1'), reply.text('2'), { repeatLast: true })
      .on(match.systemContains('final report'), reply.text('Report.'), { repeatLast: true });
    const handle = await tandem.startPlanner('pause-tree', { goal: 'Pause the tree' });
    await tandem.model.waitForRequests(1, { match: executorOf('s1') });
    await handle.signal(pauseSignal);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // The executor's first step finished but it made no second model request while paused.
    expect(tandem.model.requestsMatching(executorOf('s1'))).toHaveLength(1);
    await handle.signal(resumeSignal);
    expect((await resultOf(handle)).ok).toBe(true);
  });
});
