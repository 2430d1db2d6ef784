import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { formatHistory, formatProgress, formatResult } from '../client/format';
import { goalProgress, goalResult } from '../client/goals';
import { progressQuery, statusSearchAttribute } from '../common/contract';
import { TOOL_NAMES } from '../common/tools';
import { MIN_SUBTASK_TOKENS } from '../common/types';
import { match, reply, type ScriptedReply } from '../dev/scripted-model';
import { notOk, planInvalid, resultOf, startTandem, type Tandem } from './helpers/tandem';

/** A subtask as a model writes it. */
const draft = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  title: `Do ${id}`,
  instructions: `Instructions of ${id}.`,
  milestone: `${id} is answered`,
  dependsOn: [],
  ...extra,
});
const plan = (...subtasks: unknown[]) => reply.json({ subtasks });
const met = reply.json({ met: true, reason: 'the answer meets the milestone' });
const planRequests = (tandem: Tandem) => tandem.model.requestsMatching(match.purpose('plan'));
const judgeRequests = (tandem: Tandem) => tandem.model.requestsMatching(match.purpose('judge'));
/** The Web UI's current details of a workflow, as the server's metadata query returns them. */
async function webUiDetails(tandem: Tandem, id: string): Promise<string> {
  const metadata = await tandem.client.workflow
    .getHandle(id)
    .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

describe('plans and verdicts you can trust', () => {
  let tandem: Tandem;

  beforeEach(async () => {
    tandem = await startTandem();
  });
  afterEach(async () => {
    await tandem.stop();
  });

  /** Scripts the plan replies, a judge (accepting unless given), and a report that echoes its request. */
  function script(opts: { plans: ScriptedReply[]; judge?: ScriptedReply; report?: ScriptedReply[] }) {
    tandem.model.on(match.purpose('plan'), opts.plans, { name: 'planner', repeatLast: true });
    tandem.model.on(match.purpose('judge'), opts.judge ?? met, { name: 'judge', repeatLast: true });
    tandem.model.on(match.purpose('report'), opts.report ?? ((req) => reply.text(`Report.\n${req.lastUserText}`)), {
      name: 'report',
      repeatLast: true,
    });
  }

  it('replans, not reports ok, when the executor claims a file it never wrote (a failed check beats the judge)', async () => {
    const checks = [{ file: 'notes.txt', contains: 'hello' }];
    script({
      plans: [
        plan(draft('s1', { milestone: 'notes.txt is written', checks })),
        plan(draft('s1', { milestone: 'notes.txt is written', checks, instructions: 'Call write_file this time.' })),
      ],
      // A judge that believes whatever it is told.
      judge: met,
    });
    tandem.model
      .on(match.and(match.purpose('step', 's1'), match.userContains('this time')), [
        reply.toolCall('write_file', { path: 'notes.txt', content: 'hello world' }),
        reply.text('I wrote notes.txt.'),
      ])
      .on(match.purpose('step', 's1'), reply.text('I wrote notes.txt with "hello".'));
    const handle = await tandem.startPlanner('claims', { goal: 'Write hello to notes.txt' });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: true, planVersion: 2 }));
    expect(result.replans[0].reason).toBe(
      'subtask s1 missed its milestone "notes.txt is written": check failed: file notes.txt contains "hello": ' +
        'no such file in the workspace',
    );
    // The failed check decided the first verdict: the judge was asked only about the second run.
    expect(judgeRequests(tandem)).toHaveLength(1);
    expect(judgeRequests(tandem)[0].lastUserText).toContain('✓ file notes.txt contains "hello": 11 bytes');
    expect(result.subtasks[0].verdict).toEqual({
      met: true,
      reason: 'the answer meets the milestone',
      checks: [{ kind: 'file', file: 'notes.txt', contains: 'hello', ok: true, detail: '11 bytes, contains "hello"' }],
    });
    expect(await fs.readFile(path.join(tandem.workspaceDir(handle.workflowId), 'notes.txt'), 'utf8')).toBe(
      'hello world',
    );
    // status, result and the Web UI show each check's outcome.
    const progress = await handle.query(progressQuery);
    expect(formatProgress(handle.workflowId, progress)).toContain('✓ file notes.txt contains "hello": 11 bytes');
    expect(formatResult(handle.workflowId, result)).toContain('✓ file notes.txt contains "hello"');
    expect(await webUiDetails(tandem, handle.workflowId)).toContain('- s1 check: ✓ file notes.txt contains "hello"');
    const history = await handle.fetchHistory();
    const checkActivities = history.events!.filter(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'checkMilestone',
    );
    expect(checkActivities).toHaveLength(2);
  });

  it('replans when the executor claims a file its milestone names, though the plan gave no checks and the judge believes it', async () => {
    script({
      plans: [
        plan(draft('s1', { milestone: 'answer.txt holds 395' })),
        plan(draft('s1', { milestone: 'answer.txt holds 395', instructions: 'Call write_file this time.' })),
      ],
      judge: met,
    });
    tandem.model
      .on(match.and(match.purpose('step', 's1'), match.userContains('this time')), [
        reply.toolCall('write_file', { path: 'answer.txt', content: '395' }),
        reply.text('I wrote answer.txt.'),
      ])
      .on(match.purpose('step', 's1'), reply.text('I saved 395 to answer.txt.'));
    const handle = await tandem.startPlanner('implied', { goal: 'Save 395 to answer.txt' });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: true, planVersion: 2 }));
    expect(result.replans[0].reason).toBe(
      'subtask s1 missed its milestone "answer.txt holds 395": check failed: file answer.txt exists: ' +
        'no such file in the workspace',
    );
    expect(judgeRequests(tandem)).toHaveLength(1);
    expect(result.subtasks[0].verdict?.checks).toEqual([
      { kind: 'file', file: 'answer.txt', ok: true, detail: 'exists (3 bytes)' },
    ]);
  });

  it('gives the judge the tool-call record and tells it a claim without a tool call is not evidence', async () => {
    script({
      plans: [plan(draft('s1')), plan(draft('s1', { instructions: 'Save it with write_file.' }))],
      // A judge that follows its prompt: a claimed save with no tool call is not met.
      judge: (req) =>
        req.lastUserText.includes('Tool calls: none')
          ? reply.json({ met: false, reason: 'the answer claims a save that no tool call made' })
          : met,
    });
    tandem.model
      .on(match.and(match.purpose('step', 's1'), match.userContains('write_file')), [
        reply.toolCall('write_file', { path: 'out.txt', content: '395' }),
        reply.text('Saved 395 to out.txt.'),
      ])
      // No verb of writing: tandem's own claim check (test/honest-outcomes.test.ts) leaves this one to the judge.
      .on(match.purpose('step', 's1'), reply.text('395 is in out.txt now.'));
    const handle = await tandem.startPlanner('record', { goal: 'Put 395 in a file' });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: true, planVersion: 2 }));
    const [first, second] = judgeRequests(tandem);
    expect(first.text).toContain('says so without one proves nothing, and then the milestone is not met');
    expect(first.lastUserText).toContain('Answer:\n395 is in out.txt now.');
    expect(first.lastUserText).toContain('Tool calls: none (the executor called no tool).');
    expect(second.lastUserText).toContain(
      'Tool calls (1):\n- step 1: write_file {"path":"out.txt","content":"395"} → succeeded',
    );
    expect(result.replans[0].reason).toContain('the answer claims a save that no tool call made');
  });

  it("repairs a weak model's plan instead of re-asking, and records each repair in the plan version", async () => {
    const text = [
      'Sure! Here is the plan:',
      '```json',
      JSON.stringify({
        subtasks: [
          draft('s1', { tools: ['list_files', 'list_files', 'list_files', 'list_files'] }),
          draft('s1', { title: 'Another s1', tools: [], budget: { maxSteps: 2, maxTokens: 4 } }),
        ],
      }).replace(/\]\}$/, '],}'),
      '```',
    ].join('\n');
    script({ plans: [reply.text(text)] });
    tandem.model.on(match.purpose('step'), reply.text('done'), { repeatLast: true });
    const handle = await tandem.startPlanner('repairs', { goal: 'Repair me' });
    const result = await resultOf(handle);

    expect(result.ok).toBe(true);
    expect(planRequests(tandem)).toHaveLength(1);
    expect(result.subtasks.map((subtask) => subtask.id)).toEqual(['s1', 's1-2']);
    const { versions } = await handle.query(progressQuery);
    expect(versions[0].repairs).toEqual([
      'prose around the JSON was dropped',
      'the JSON was inside a ``` code fence',
      '1 trailing comma(s) removed',
      'tools of subtask "s1" listed an entry twice; listed once',
      'tools of subtask "s1" was []: all tools are offered',
      `budget.maxTokens of subtask "s1" raised from 4 to the floor ${MIN_SUBTASK_TOKENS}`,
      'duplicate subtask id "s1" (no subtask depends on it): this copy is now "s1-2"',
    ]);
    expect(versions[0].subtasks[1].budget).toEqual({ maxSteps: 2, maxTokens: MIN_SUBTASK_TOKENS });
    // The executors were offered what the repaired plan says: list_files (and escalate), and every tool.
    expect(tandem.model.requestsMatching(match.purpose('step', 's1'))[0].toolNames).toEqual(['list_files', 'escalate']);
    expect(tandem.model.requestsMatching(match.purpose('step', 's1-2'))[0].toolNames).toEqual([...TOOL_NAMES]);
    expect(formatHistory(handle.workflowId, versions)).toContain('  repaired: duplicate subtask id "s1"');
  });

  it("runs a weak model's plan with odd ids, tool names and checks, and trusts its judge's fenced verdict", async () => {
    script({
      plans: [
        plan(
          draft('Step 1', { tools: ['Calculator', 'browser'], checks: [{ file: '../answer.txt' }] }),
          draft('Step 2', { dependsOn: ['Step 1'], budget: { maxSeconds: 1e20 } }),
        ),
      ],
      judge: reply.text('My verdict:\n```json\n{"met": "true", "reason": "it is answered", "confidence": 0.8}\n```'),
    });
    tandem.model.on(match.purpose('step'), reply.text('done'), { repeatLast: true });
    const handle = await tandem.startPlanner('weak-plan', { goal: 'Answer in two steps' });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: true, planVersion: 1 }));
    expect(result.replans).toHaveLength(0);
    expect(planRequests(tandem)).toHaveLength(1);
    expect(result.subtasks.map((subtask) => [subtask.id, subtask.status])).toEqual([
      ['step-1', 'done'],
      ['step-2', 'done'],
    ]);
    expect(tandem.model.requestsMatching(match.purpose('step', 'step-1'))[0].toolNames).toEqual([
      'calculator',
      'escalate',
    ]);
    const { versions } = await handle.query(progressQuery);
    expect(versions[0].repairs).toEqual(
      expect.arrayContaining([
        'id "Step 1" read as "step-1"',
        'tool "browser" of subtask "Step 1" is no tool; dropped',
        'check of subtask "Step 1" on "../answer.txt" leaves the workspace, so it could never hold; dropped',
      ]),
    );
  });

  it('sends only what cannot be repaired back to the model, each error once', async () => {
    const dangling = draft('s2', { dependsOn: ['compute17 * 23 + 4', 'compute17 * 23 + 4'] });
    script({
      plans: [plan(draft('s1'), dangling, draft('s3', { dependsOn: ['compute17 * 23 + 4'] })), plan(draft('s1'))],
    });
    tandem.model.on(match.purpose('step'), reply.text('done'), { repeatLast: true });
    const result = await resultOf(await tandem.startPlanner('errors', { goal: 'Re-ask me' }));

    expect(result.ok).toBe(true);
    const correction = planRequests(tandem)[1].lastUserText;
    expect(correction).toBe(
      'That plan is invalid:\n' +
        '- subtask "s2" depends on unknown subtask "compute17 * 23 + 4"\n' +
        '- subtask "s3" depends on unknown subtask "compute17 * 23 + 4"\n' +
        'Send a corrected plan as JSON.',
    );
  });

  it('runs the one-subtask fallback plan when the model cannot produce a valid first plan', async () => {
    script({
      plans: [
        reply.truncated('{"subtasks": [{"id": "s1", "title": "Compute the val'),
        reply.text('I am a small model and I think the answer is 395.'),
        plan(draft('s1', { dependsOn: ['s0'] })),
      ],
    });
    tandem.model.on(match.purpose('step', 'goal'), reply.text('17 * 23 + 4 = 395'));
    const handle = await tandem.startPlanner('fallback', { goal: 'Compute 17 * 23 + 4' });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: true, planVersion: 1 }));
    expect(planRequests(tandem)).toHaveLength(3);
    const progress = await handle.query(progressQuery);
    expect(progress.versions).toEqual([
      expect.objectContaining({
        version: 1,
        reason:
          'fallback plan: the model did not produce a valid plan in 3 attempts (last errors: subtask "s1" depends ' +
          'on unknown subtask "s0")',
        subtasks: [
          {
            id: 'goal',
            title: 'Compute 17 * 23 + 4',
            instructions: 'Compute 17 * 23 + 4',
            milestone: 'the goal is achieved',
            dependsOn: [],
          },
        ],
      }),
    ]);
    // Every refused draft is kept, the cut-off one named as such.
    expect(progress.rejectedDrafts.map(({ version, attempt, cutOff }) => [version, attempt, cutOff])).toEqual([
      [1, 1, true],
      [1, 2, false],
      [1, 3, false],
    ]);
    expect(progress.rejectedDrafts[0].errors[0]).toMatch(/^the plan was cut off by the length limit/);
    expect(planRequests(tandem)[1].lastUserText).toContain('was cut off by the length limit');
    expect(planRequests(tandem)[2].lastUserText).toContain('the reply is not JSON');
    expect(formatHistory(handle.workflowId, progress.versions, progress.rejectedDrafts)).toContain(
      'draft for plan v1, attempt 1, cut off: the plan was cut off',
    );
    expect(result.subtasks[0]).toEqual(expect.objectContaining({ id: 'goal', status: 'done' }));
    expect(tandem.model.requestsMatching(match.purpose('step', 'goal'))[0].lastUserText).toBe('Compute 17 * 23 + 4');
  });

  it('ends plan_invalid on a replan it cannot make valid, keeping completed work, verdicts and partials', async () => {
    script({
      // The replan's drafts are slow, so s4 returns while they are drafted.
      plans: [
        plan(draft('s1'), draft('s2'), draft('s3'), draft('s4')),
        reply.slow(1_000, reply.text('no plan from me')),
      ],
      judge: (req) => (req.subtaskId === 's2' ? reply.json({ met: false, reason: 's2 has no number in it' }) : met),
    });
    tandem.model
      .on(match.purpose('step', 's1'), reply.text('one'))
      .on(match.purpose('step', 's2'), reply.text('two'))
      .on(match.purpose('step', 's3'), reply.hang())
      .on(match.purpose('step', 's4'), reply.slow(2_000, reply.text('four')));
    const handle = await tandem.startPlanner('invalid', { goal: 'Four things', maxParallel: 4 });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'plan_invalid', planVersion: 1 }));
    expect(result.subtasks.map(({ id, status, verdict }) => [id, status, verdict?.met])).toEqual([
      ['s1', 'done', true],
      ['s2', 'failed', false],
      ['s3', 'cancelled', undefined],
      // Returned during the replan: checked and judged before the goal ended, not reported done unverified.
      ['s4', 'done', true],
    ]);
    // Whenever each returned (s4 most likely during the replan's drafts), each was judged once.
    expect(
      judgeRequests(tandem)
        .map((req) => req.subtaskId)
        .sort(),
    ).toEqual(['s1', 's2', 's4']);
    expect(result.subtasks[0].result?.answer).toBe('one');
    expect(result.subtasks[1].result?.answer).toBe('two');
    expect(result.subtasks[2].result).toEqual(
      expect.objectContaining({ reason: 'cancelled', partial: expect.any(String) }),
    );
    expect(planInvalid(result).rejectedDrafts.map(({ version, attempt }) => [version, attempt])).toEqual([
      [2, 1],
      [2, 2],
      [2, 3],
    ]);
    // The report was written from the kept work, and says why the goal ended.
    const reportRequest = tandem.model.requestsMatching(match.purpose('report'))[0].lastUserText;
    expect(reportRequest).toContain('ended before it was done (plan_invalid)');
    expect(reportRequest).toContain('could not produce a valid plan v2 in 3 attempts');
    expect(reportRequest).toContain('## s1 · Do s1 (done)\none');
    expect(result.report).toMatch(/^Report\./);
    // The goal ended as a result (Failed, the result in its GoalNotOk), so result, status and history all work on it.
    expect((await handle.describe()).status.name).toBe('FAILED');
    expect(notOk(await goalResult(tandem.client, handle.workflowId)).reason).toBe('plan_invalid');
    const progress = await goalProgress(tandem.client, handle.workflowId);
    expect(progress.status).toBe('failed');
    expect(progress.subtasks.map((subtask) => subtask.status)).not.toContain('running');
    expect(formatHistory(handle.workflowId, progress.versions, progress.rejectedDrafts)).toContain(
      'draft for plan v2, attempt 3, refused: the reply is not JSON',
    );
    expect((await handle.describe()).typedSearchAttributes.get(statusSearchAttribute)).toBe('failed');
    const s3 = await tandem.client.workflow.getHandle(`${handle.workflowId}.v1.s3`).describe();
    expect(s3.status.name).not.toBe('RUNNING');
  });

  it('does not accept a cut-off report: asks for a shorter one, then reports from the results', async () => {
    script({
      plans: [plan(draft('s1'))],
      report: [
        reply.truncated('The goal was achieved: s1 answered with a very long story about'),
        reply.truncated('Still'),
      ],
    });
    tandem.model.on(match.purpose('step', 's1'), reply.text('one'));
    const result = await resultOf(await tandem.startPlanner('cut-report', { goal: 'Report me' }));

    const reports = tandem.model.requestsMatching(match.purpose('report'));
    expect(reports).toHaveLength(2);
    expect(reports[1].lastUserText).toContain('Your report was cut off by the length limit and is not accepted');
    expect(result.report).toBe(
      "The model's report was cut off by the length limit twice; this report is the subtasks' own results.\n" +
        '- s1 · Do s1 (done): one',
    );
  });
});
