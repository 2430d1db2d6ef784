/**
 * The replies of a small local model (Qwen2.5-Coder-1.5B on llama.cpp, issue 24) replayed by the scripted model: every
 * one of them ended `ok: true` or failed correct work before. What a demanding user wants instead: not ok with the
 * reason named, a plan repaired from the goal's own words, or a budget the server can meet.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { progressQuery } from '../common/contract';
import { match, reply, type ScriptedReply } from '../dev/scripted-model';
import { resultOf, startTandem, type Tandem } from './helpers/tandem';

const subtask = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  title: `Do ${id}`,
  instructions: `Instructions of ${id}.`,
  milestone: `${id} is done`,
  dependsOn: [],
  ...extra,
});
const plan = (...subtasks: unknown[]) => reply.json({ subtasks });
/** A judge that believes whatever it is told, as the small model did. */
const credulous = reply.json({ met: true, reason: 'the answer says the work was done' });

describe('no false ok from a small model', () => {
  let tandem: Tandem;

  beforeEach(async () => {
    tandem = await startTandem();
  });
  afterEach(async () => {
    await tandem.stop();
  });

  function script(opts: {
    plans: ScriptedReply[];
    judge?: ScriptedReply;
    steps: ScriptedReply[];
    report?: ScriptedReply;
  }) {
    tandem.model.on(match.purpose('plan'), opts.plans, { name: 'planner', repeatLast: true });
    tandem.model.on(match.purpose('judge'), opts.judge ?? credulous, { name: 'judge', repeatLast: true });
    tandem.model.on(match.purpose('report'), opts.report ?? ((req) => reply.text(`Report.\n${req.lastUserText}`)), {
      name: 'report',
      repeatLast: true,
    });
    tandem.model.on(match.purpose('step'), opts.steps, { name: 'steps', repeatLast: true });
  }
  const judgeCalls = () => tandem.model.requestsMatching(match.purpose('judge')).length;
  const file = (goalId: string, name: string) =>
    fs.readFile(path.join(tandem.workspaceDir(goalId), name), 'utf8').catch(() => undefined);

  it('is not ok when the answer claims a summary.txt that was never written (the goal names it, the milestone does not)', async () => {
    script({
      plans: [plan(subtask('s1', { milestone: 'a one-sentence summary of the notes is written' }))],
      steps: [
        reply.toolCall('read_file', { path: 'notes.txt' }),
        reply.text('I read notes.txt and wrote a one-sentence summary.'),
      ],
    });
    const goal = 'Read notes.txt and write a one-sentence summary of it to summary.txt';
    const handle = await tandem.startPlanner('summary', { goal, maxReplans: 1 });
    await fs.mkdir(tandem.workspaceDir(handle.workflowId), { recursive: true });
    await fs.writeFile(path.join(tandem.workspaceDir(handle.workflowId), 'notes.txt'), 'Meeting moved to 3pm.');
    const result = await resultOf(handle);

    // The planner sends the same plan again, which is refused as a repeat of the failed one: an honest end.
    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'plan_invalid' }));
    expect(result.subtasks[0].verdict?.reason).toBe(
      'check failed: file summary.txt exists: no such file in the workspace',
    );
    expect(await file(handle.workflowId, 'summary.txt')).toBeUndefined();
    // The failed check decided: the credulous judge was never asked.
    expect(judgeCalls()).toBe(0);
  });

  it('is not ok when the answer claims a file written that no write_file call wrote, though no check names it', async () => {
    script({
      plans: [plan(subtask('s1', { milestone: 'the summary is written' }))],
      steps: [reply.text('I wrote the summary to digest.md.')],
    });
    const handle = await tandem.startPlanner('claim', { goal: 'Summarise the meeting in a file', maxReplans: 0 });
    const result = await resultOf(handle);

    expect(result.ok).toBe(false);
    expect(result.subtasks[0].verdict?.reason).toMatch(
      /claims an effect no tool call produced: "I wrote the summary to digest\.md\." claims digest\.md written/,
    );
    expect(judgeCalls()).toBe(0);
  });

  it('is not ok when an email is reported sent with no tool that sends mail, and the report names the missing tool', async () => {
    script({
      plans: [plan(subtask('s1', { milestone: 'alice is told the meeting moved to 3pm' }))],
      steps: [reply.text('The email to alice@example.com telling her the meeting moved to 3pm was sent.')],
    });
    const goal = 'Send an email to alice@example.com telling her the meeting moved to 3pm';
    const handle = await tandem.startPlanner('email', { goal, maxReplans: 0 });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'replans_exhausted' }));
    expect(result.subtasks[0].verdict).toEqual(
      expect.objectContaining({
        met: false,
        missingTools: ['a tool that sends e-mail or messages (e.g. an MCP mail server)'],
      }),
    );
    expect(result.report).toMatch(/Missing tool: a tool that sends e-mail or messages/);
  });

  it.each([
    ['a drafted email as the answer', 'To: alice@example.com\nSubject: Meeting\n\nHi Alice, the meeting moved to 3pm.'],
    ['a claim in words the claim check does not know', 'Done! Alice now knows that the meeting is at 3pm.'],
    ['a file that stands in for the mail', 'I put the message for Alice in outbox.txt.'],
  ])(
    'is not ok when the goal asks for an email and the answer is %s: no tool sent it, whatever the judge says',
    async (_, answer) => {
      script({
        plans: [plan(subtask('s1', { milestone: 'alice is told the meeting moved to 3pm' }))],
        steps: [reply.text(answer)],
      });
      const goal = 'Send an email to alice@example.com telling her the meeting moved to 3pm';
      const handle = await tandem.startPlanner('email-asked', { goal, maxReplans: 0 });
      const result = await resultOf(handle);

      expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'replans_exhausted' }));
      expect(result.subtasks[0].verdict).toEqual(
        expect.objectContaining({
          met: false,
          reason: expect.stringContaining(`"${goal}" asks that a message be sent, but no tool call of the goal did it`),
          missingTools: ['a tool that sends e-mail or messages (e.g. an MCP mail server)'],
        }),
      );
      expect(result.report).toMatch(/Missing tool: a tool that sends e-mail or messages/);
      // The ask decided: the credulous judge was never asked.
      expect(judgeCalls()).toBe(0);
    },
  );

  it("overrules a judge whose reason claims an effect the subtask's tool calls did not produce", async () => {
    script({
      plans: [plan(subtask('s1', { milestone: 'alice knows about the meeting' }))],
      steps: [reply.text('Alice is informed.')],
      judge: reply.json({ met: true, reason: 'The message was sent to alice@example.com.' }),
    });
    const handle = await tandem.startPlanner('judge-claim', {
      goal: 'Find out whether Alice knows the meeting moved',
      maxReplans: 0,
    });
    const result = await resultOf(handle);

    expect(result.ok).toBe(false);
    expect(result.subtasks[0].verdict?.reason).toMatch(
      /^the judge's reason claims an effect no tool call produced: .*\(the judge had said: met, The message was sent/,
    );
  });

  it('is not ok when result.txt holds 9336 for 123 * 45 - 67, and ok once it holds 5468', async () => {
    script({
      plans: [
        plan(subtask('s1', { milestone: 'the result is saved to result.txt' })),
        plan(subtask('s1', { milestone: 'the result is saved to result.txt', instructions: 'Use the calculator.' })),
      ],
      steps: [
        reply.toolCall('write_file', { path: 'result.txt', content: '9336' }),
        reply.text('I saved 9336 to result.txt.'),
        reply.toolCall('calculator', { expression: '123 * 45 - 67' }),
        reply.toolCall('write_file', { path: 'result.txt', content: '5468' }),
        reply.text('I calculated 5468 and saved it to result.txt.'),
      ],
    });
    const goal = 'Compute 123 * 45 - 67 and save the result to result.txt';
    const handle = await tandem.startPlanner('arith', { goal });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: true, planVersion: 2 }));
    expect(result.replans[0].reason).toContain(
      'file result.txt holds the value of 123*45-67: 123*45-67 = 5468 (computed by tandem), but the file holds "9336"',
    );
    expect(await file(handle.workflowId, 'result.txt')).toBe('5468');
  });

  it('repairs the planner\'s check "405" for 17 * 23 + 4 from the goal, and the correct 395 is ok', async () => {
    script({
      plans: [
        plan(subtask('s1', { milestone: 'answer.txt holds 405', checks: [{ file: 'answer.txt', contains: '405' }] })),
      ],
      steps: [
        reply.toolCall('calculator', { expression: '17 * 23 + 4' }),
        reply.toolCall('write_file', { path: 'answer.txt', content: '395' }),
        reply.text('I calculated 395 and saved it to answer.txt.'),
      ],
    });
    const goal = 'Compute 17 * 23 + 4 and save the result to answer.txt';
    const handle = await tandem.startPlanner('demo-405', { goal });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: true, planVersion: 1, replans: [] }));
    const { versions } = await handle.query(progressQuery);
    expect(versions[0].repairs).toContain(
      'check "file answer.txt contains "405"" of subtask "s1": "405" is not in the goal\'s words (an expected value ' +
        'comes from the goal or from code); it now checks that answer.txt holds the value of 17*23+4',
    );
    expect(result.subtasks[0].verdict?.checks).toEqual([
      expect.objectContaining({ kind: 'value', file: 'answer.txt', expression: '17*23+4', ok: true }),
    ]);
  });

  it('repairs the check "321" of a goal in Japanese (17 × 23) and accepts kekka.txt holding 391', async () => {
    script({
      plans: [plan(subtask('s1', { milestone: 'kekka.txt に結果', checks: [{ file: 'kekka.txt', contains: '321' }] }))],
      steps: [
        reply.toolCall('calculator', { expression: '17*23' }),
        reply.toolCall('write_file', { path: 'kekka.txt', content: '391\n' }),
        reply.text('17 × 23 を計算して kekka.txt に保存しました。'),
      ],
    });
    const handle = await tandem.startPlanner('japanese', {
      goal: '17 × 23 を計算して、結果を kekka.txt に保存してください',
    });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: true, planVersion: 1 }));
    expect(result.subtasks[0].verdict?.checks?.[0]).toEqual(
      expect.objectContaining({
        kind: 'value',
        expression: '17*23',
        detail: 'holds 391 (17*23 = 391, computed by tandem)',
      }),
    );
  });

  it("checks the goal's arithmetic, not the one the executor typed, and says what its calculator computed", async () => {
    script({
      plans: [plan(subtask('s1', { milestone: 'result.txt holds the result' }))],
      steps: [
        reply.toolCall('calculator', { expression: '123 * 45 + 67' }),
        reply.toolCall('write_file', { path: 'result.txt', content: '5602' }),
        reply.text('I calculated 5602 and saved it to result.txt.'),
      ],
    });
    const goal = 'Compute 123 * 45 - 67 and save the result to result.txt';
    const handle = await tandem.startPlanner('typo', { goal, maxReplans: 0 });
    const result = await resultOf(handle);

    expect(result.ok).toBe(false);
    expect(result.subtasks[0].verdict?.reason).toBe(
      'check failed: file result.txt holds the value of 123*45-67: 123*45-67 = 5468 (computed by tandem), but the ' +
        'file holds "5602"; the executor\'s calculator computed 123 * 45 + 67 = 5602',
    );
  });

  it("hands a planner value the executor's calculator disputes to the judge as evidence, not as a silent fail", async () => {
    // The goal's own words hold the wrong number, so no repair applies; the tool's result disagrees with it.
    script({
      plans: [plan(subtask('s1', { milestone: 'out.txt holds 100', checks: [{ file: 'out.txt', contains: '100' }] }))],
      steps: [
        reply.toolCall('calculator', { expression: '7*15' }),
        reply.toolCall('write_file', { path: 'out.txt', content: '105' }),
        reply.text('I calculated 105 and saved it to out.txt.'),
      ],
      judge: reply.json({ met: false, reason: 'the plan expected 100 but 7 times 15 is 105: the plan is wrong' }),
    });
    const goal = 'Multiply seven by fifteen, which makes 100, and save it to out.txt';
    const handle = await tandem.startPlanner('disputed', { goal, maxReplans: 0 });
    const result = await resultOf(handle);

    expect(judgeCalls()).toBe(1);
    const [judged] = tandem.model.requestsMatching(match.purpose('judge'));
    expect(judged.lastUserText).toContain(
      "the executor's calculator computed 7*15 = 105, which the file holds: the plan's expected value 100 disagrees " +
        "with the tool's result",
    );
    expect(result.subtasks[0].verdict?.checks?.[0]).toEqual(expect.objectContaining({ ok: false, disputed: true }));
  });

  it('raises maxSeconds: 10 to what a slow server needs, so the subtask ends honestly instead of out of time', async () => {
    const slow = (r: ScriptedReply) => reply.slow(4_000, r);
    script({
      plans: [slow(plan(subtask('s1', { milestone: 'the first line is told', budget: { maxSeconds: 10 } })))],
      steps: [
        slow(reply.toolCall('read_file', { path: 'missing.txt' })),
        slow(reply.toolCall('list_files', {})),
        slow(reply.text('missing.txt does not exist, so it has no first line.')),
      ],
      judge: reply.json({ met: false, reason: 'missing.txt does not exist: there is no first line to tell' }),
    });
    const goal = 'Read the file missing.txt and tell me its first line';
    const handle = await tandem.startPlanner('slow', { goal, maxReplans: 0 });
    const result = await resultOf(handle);

    // Not "out of time" on every plan version: the executor finished, and the goal fails for the true reason.
    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'replans_exhausted' }));
    expect(result.subtasks[0].result).toEqual(expect.objectContaining({ ok: true }));
    // The goal names missing.txt: its implied check fails by code, before any judge.
    expect(result.subtasks[0].verdict?.reason).toBe(
      'check failed: file missing.txt exists: no such file in the workspace',
    );
    const { versions } = await handle.query(progressQuery);
    expect(versions[0].repairs).toEqual([
      expect.stringMatching(
        /^budget\.maxSeconds of subtask "s1" raised from 10 to (1[6-9]|[2-9]\d): a model call of this goal took \d+\.\d s on this server, and a subtask needs room for 4$/,
      ),
    ]);
  });

  it('still caps a raised time budget at the goal deadline the user set', async () => {
    const slow = (r: ScriptedReply) => reply.slow(4_000, r);
    script({
      plans: [slow(plan(subtask('s1', { budget: { maxSeconds: 10 } })))],
      steps: [slow(reply.toolCall('list_files', {})), slow(reply.text('done'))],
    });
    const deadline = new Date(Date.now() + 12_000).toISOString();
    const handle = await tandem.startPlanner('capped', { goal: 'List the files', deadline });
    const result = await resultOf(handle);

    expect(result.ok).toBe(false);
    const executor = await tandem.client.workflow.getHandle(`${handle.workflowId}.v1.s1`).fetchHistory();
    const input = executor.events?.[0].workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const budget = (JSON.parse(Buffer.from(input!.data!).toString()) as { budget: { maxSeconds: number } }).budget;
    expect(budget.maxSeconds).toBeLessThanOrEqual(12);
  });

  it("ends budget_exhausted at the goal's deadline while a slow server still drafts the first plan", async () => {
    script({ plans: [reply.slow(60_000, plan(subtask('s1')))], steps: [reply.text('done')] });
    const started = Date.now();
    const deadline = new Date(started + 3_000).toISOString();
    const handle = await tandem.startPlanner('draft-deadline', { goal: 'List the files', deadline });
    const result = await resultOf(handle);

    // Not a minute later, when the plan call would have answered (three attempts of it, before): at the deadline.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'budget_exhausted' }));
    const { versions } = await handle.query(progressQuery);
    expect(versions.map((version) => version.reason)).toEqual([
      "fallback plan: the goal's deadline passed while plan v1 was drafted",
    ]);
    expect(tandem.model.requestsMatching(match.purpose('step'))).toHaveLength(0);
  });

  it("builds the report from the subtasks' results when the model's is not written within 20 s of the deadline", async () => {
    script({ plans: [plan(subtask('s1'))], steps: [reply.slow(30_000, reply.text('done'))], report: reply.hang() });
    const started = Date.now();
    const deadline = new Date(started + 2_000).toISOString();
    const handle = await tandem.startPlanner('report-deadline', { goal: 'List the files', deadline });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'budget_exhausted' }));
    expect(result.report).toMatch(
      /^The model's report was not written within 20 s of the goal's deadline; this report is the subtasks' own results\.\n- s1 · /,
    );
    // The deadline, its 20 s for the report, and the time a cancelled call takes to end: not the hung call's 5 minutes.
    expect(Date.now() - started).toBeLessThan(40_000);
  });

  it("ends the verdict not met when the judge has not answered within 20 s of the goal's deadline", async () => {
    script({
      plans: [plan(subtask('s1'))],
      judge: reply.slow(60_000, credulous),
      steps: [reply.text('done')],
      report: reply.hang(),
    });
    const started = Date.now();
    // Room for the plan and the step to return before the deadline on a loaded machine: the judge is what overruns.
    const deadline = new Date(started + 8_000).toISOString();
    const handle = await tandem.startPlanner('judge-deadline', { goal: 'List the files', deadline });
    const result = await resultOf(handle);

    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'budget_exhausted' }));
    expect(result.subtasks[0].verdict).toEqual({
      met: false,
      reason: "the verdict was not given within 20 s of the goal's deadline",
    });
    // The judge and the report share the 20 s after the deadline: the report has none left, not 20 s of its own.
    expect(result.report).toMatch(/^The model's report was not written within 20 s of the goal's deadline/);
    expect(Date.now() - started).toBeLessThan(40_000);
  });
});
