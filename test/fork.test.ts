/**
 * `tandem fork` on a real dev server, through the real CLI: a goal that went wrong at s2 step 4 is forked at step 3
 * with a correcting interrupt and ends ok, with the conversation, the files and the budget as they were after step 2,
 * and without one model call of the original made again; a fork of a fork; and every refusal.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readExecutorRecord } from '../client/executor-record';
import { INTERRUPT_MESSAGE_CHARS } from '../common/limits';
import type { GoalProgress, GoalResult, Subtask } from '../common/types';
import { match, type Matcher, type RecordedRequest, reply } from '../dev/scripted-model';
import { runCli } from './helpers/cli';
import { recordGoalHistories } from './helpers/history-fixtures';
import { resultOf, startTandem, type Tandem } from './helpers/tandem';

const subtask = (id: string, extra: Partial<Subtask> = {}): Subtask => ({
  id,
  title: `Do ${id}`,
  instructions: `Instructions of ${id}.`,
  milestone: `${id} is answered`,
  dependsOn: [],
  ...extra,
});
const write = (file: string) => reply.toolCall('write_file', { path: file, content: `${file} body` });
const stepsOf = (id: string): Matcher => match.purpose('step', id);

const FIX = 'The instruction was wrong: write right3.txt instead.';
const SECOND = 'Answer now, you are done.';
const THIRD = 'Skip b2.txt and answer.';
const AGAIN = 'Plan v1 again: this time answer at once.';

describe('tandem fork', () => {
  let tandem: Tandem;
  beforeEach(async () => {
    tandem = await startTandem();
  });
  afterEach(async () => {
    await tandem.stop();
  });

  /** s1 writes a.txt; s2 (at most 4 steps) writes b1, b2 and then, as its bad instruction says, wrong3 and wrong4. */
  function script(): void {
    const { model } = tandem;
    // First registered wins: the forks' own interrupts pick their replies, whatever else their conversation holds.
    const otherModel: Matcher = (req) => req.body.model === 'other-model';
    model.on(match.and(stepsOf('s1'), otherModel, match.userContains(AGAIN)), [reply.text('a again')], {
      name: 'again',
    });
    model.on(match.and(stepsOf('s2'), otherModel), [reply.text('s2 at once')], { name: 'other model' });
    model.on(match.and(stepsOf('s2'), match.userContains(THIRD)), [reply.text('third done')], { name: 'third' });
    model.on(match.and(stepsOf('s2'), match.userContains(SECOND)), [reply.text('second done')], { name: 'second' });
    model.on(match.and(stepsOf('s2'), match.userContains(FIX)), [write('right3.txt'), reply.text('fixed')], {
      name: 'fix',
    });
    model.on(match.responseFormat('plan'), [
      reply.json({
        subtasks: [
          subtask('s1'),
          subtask('s2', { dependsOn: ['s1'], instructions: 'Write wrong3.txt.', budget: { maxSteps: 4 } }),
        ],
      }),
    ]);
    model.on(stepsOf('s1'), [write('a.txt'), reply.text('a written')], { name: 's1' });
    model.on(stepsOf('s2'), [write('b1.txt'), write('b2.txt'), write('wrong3.txt'), write('wrong4.txt')], {
      name: 's2',
    });
    model.on(match.responseFormat('verdict'), reply.json({ met: true, reason: 'the answer meets it' }), {
      name: 'judge',
      repeatLast: true,
    });
    model.on(match.purpose('report'), reply.text('Report.'), { name: 'report', repeatLast: true });
  }

  const env = () => ({ TANDEM_TASK_QUEUE: tandem.taskQueue });
  const files = async (goalId: string) => (await fs.readdir(tandem.workspaceDir(goalId))).sort();
  const finished = (goalId: string) => resultOf(tandem.client.workflow.getHandle<() => Promise<GoalResult>>(goalId));
  const stepRequests = (since: number, id = 's2') =>
    tandem.model.requests.filter((req) => req.id > since && req.purpose === 'step' && req.subtaskId === id);
  /** A request's messages as sent (tool calls and their ids too), one string each. */
  const contents = (req: RecordedRequest) => req.messages.map((message) => JSON.stringify(message));

  async function fork(args: string[]): Promise<{ id: string; forkedFrom: unknown }> {
    const run = await runCli(['fork', ...args, '--json'], env());
    expect(run).toMatchObject({ code: 0, stderr: '' });
    return JSON.parse(run.stdout) as { id: string; forkedFrom: unknown };
  }

  async function failedOriginal(): Promise<string> {
    script();
    const handle = await tandem.startPlanner('fork-origin', { goal: 'Fork test goal', maxReplans: 0 });
    const result = await resultOf(handle);
    expect(result).toMatchObject({ ok: false, reason: 'replans_exhausted' });
    expect(result.subtasks.find((entry) => entry.id === 's2')?.result).toMatchObject({ reason: 'budget', steps: 4 });
    expect(await files(handle.workflowId)).toEqual(['a.txt', 'b1.txt', 'b2.txt', 'wrong3.txt', 'wrong4.txt']);
    return handle.workflowId;
  }

  it('resumes s2 at step 3 with its conversation, files and budget, runs nothing of the original again, ends ok', async () => {
    const original = await failedOriginal();
    const history = await runCli(['history', original], env());
    expect(history.stderr).toBe('');
    expect(history.stdout).toContain(`s2: steps 1-4: tandem fork ${original} --subtask s2 --step N`);
    const transcript = await runCli(['transcript', original, 's2'], env());
    expect(transcript.stdout).toContain('── assistant · step 4 ──');
    expect(transcript.stdout).toContain(`fork at a step (1-4): tandem fork ${original} --subtask s2 --step N`);
    const originalStep3 = stepRequests(0)[2];
    const before = tandem.model.requests.length;

    const forkId = `${original}-f1`;
    const started = await fork([original, '--subtask', 's2', '--step', '3', '--interrupt', FIX, '--id', forkId]);
    expect(started).toEqual({ id: forkId, forkedFrom: { id: original, subtask: 's2', step: 3 } });
    const result = await finished(forkId);

    expect(result.ok).toBe(true);
    expect(result.planVersion).toBe(1);
    expect(result.subtasks.map((entry) => [entry.id, entry.status])).toEqual([
      ['s1', 'done'],
      ['s2', 'done'],
    ]);
    // s1 is kept from the original (its result, not a new run); s2 took 4 steps in all, 2 of them the original's.
    expect(result.subtasks[0].result).toMatchObject({ ok: true, answer: 'a written' });
    expect(result.subtasks[1].result).toMatchObject({ ok: true, answer: 'fixed', steps: 4 });
    // Files before step 3 are there; what the original wrote at steps 3 and 4 is not; the original is untouched.
    expect(await files(forkId)).toEqual(['a.txt', 'b1.txt', 'b2.txt', 'right3.txt']);
    expect(await files(original)).toEqual(['a.txt', 'b1.txt', 'b2.txt', 'wrong3.txt', 'wrong4.txt']);

    // The request log: no plan, no s1 step, no s2 step 1 or 2 again; the fork's step 3 read what the original's
    // step 3 read, then the interrupt, first of anything new.
    const after = tandem.model.requests.filter((req) => req.id > before);
    expect(after.map((req) => `${req.purpose}:${req.subtaskId ?? ''}`)).toEqual([
      'step:s2',
      'step:s2',
      'judge:s2',
      'report:',
    ]);
    expect(contents(after[0]).slice(0, -1)).toEqual(contents(originalStep3));
    expect(after[0].messages.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining(FIX) });

    const status = await runCli(['status', forkId, '--json'], env());
    expect((JSON.parse(status.stdout) as GoalProgress).forkedFrom).toEqual({ id: original, subtask: 's2', step: 3 });
    expect((await runCli(['status', forkId], env())).stdout).toContain(`forked from ${original} at s2 step 3`);
    const description = await tandem.client.workflow.getHandle(forkId).describe();
    expect(await description.staticDetails()).toBe(`forked from ${original} at s2 step 3`);
    await recordGoalHistories(tandem.client, 'fork', forkId);
  });

  it('forks a fork, at a step of its own and at a step it kept from its original', async () => {
    const original = await failedOriginal();
    const first = await fork([original, '--subtask', 's2', '--step', '3', '--interrupt', FIX]);
    await finished(first.id);
    const firstStep4 = stepRequests(0).at(-1)!;

    // Step 4 ran in the first fork: the second resumes from the first fork's step 3.
    let before = tandem.model.requests.length;
    const second = await fork([first.id, '--subtask', 's2', '--step', '4', '--interrupt', SECOND]);
    const secondResult = await finished(second.id);
    expect(secondResult.ok).toBe(true);
    expect(secondResult.subtasks[1].result).toMatchObject({ ok: true, answer: 'second done', steps: 4 });
    expect(await files(second.id)).toEqual(['a.txt', 'b1.txt', 'b2.txt', 'right3.txt']);
    const [secondStep4] = stepRequests(before);
    expect(contents(secondStep4).slice(0, -1)).toEqual(contents(firstStep4));

    // Step 2 ran in the original only: a fork of the fork names it as the original does.
    before = tandem.model.requests.length;
    const third = await fork([first.id, '--subtask', 's2', '--step', '2', '--interrupt', THIRD]);
    const thirdResult = await finished(third.id);
    expect(thirdResult.subtasks[1].result).toMatchObject({ ok: true, answer: 'third done', steps: 2 });
    expect(await files(third.id)).toEqual(['a.txt', 'b1.txt']);
    expect(stepRequests(before)).toHaveLength(1);
    expect(tandem.model.requests.filter((req) => req.id > before && req.purpose === 'plan')).toEqual([]);
    const status = JSON.parse((await runCli(['status', third.id, '--json'], env())).stdout) as GoalProgress;
    expect(status.forkedFrom).toEqual({ id: first.id, subtask: 's2', step: 2 });
  });

  it('forks the planner at a plan version: the plan is kept, its subtasks run again, on the model --model names', async () => {
    const original = await failedOriginal();
    const before = tandem.model.requests.length;
    const planFork = await fork([original, '--plan-version', '1', '--interrupt', AGAIN, '--model', 'other-model']);
    expect(planFork.forkedFrom).toEqual({ id: original, planVersion: 1 });
    const result = await finished(planFork.id);

    expect(result.ok).toBe(true);
    expect(result.subtasks.map((entry) => entry.result?.ok && entry.result.answer)).toEqual(['a again', 's2 at once']);
    const after = tandem.model.requests.filter((req) => req.id > before);
    // No plan is drafted again; every step asks the model --model names, the judge and the report the configured one.
    expect(after.map((req) => [req.purpose, req.body.model === 'other-model'])).toEqual([
      ['step', true],
      ['judge', false],
      ['step', true],
      ['judge', false],
      ['report', false],
    ]);
    // Nothing had finished when plan v1 was adopted: the fork starts from an empty workspace.
    expect(await files(planFork.id)).toEqual([]);
    expect((await runCli(['history', planFork.id], env())).stdout).toContain(
      `this goal was forked from ${original} at plan v1`,
    );
  });

  it('refuses an unknown subtask or step, a taken id, a blank or over-long interrupt, a blank model, and a step whose workspace is gone, saying what to do', async () => {
    const original = await failedOriginal();
    const refused = async (args: string[], message: string | RegExp) => {
      const run = await runCli(['fork', original, ...args], env());
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(message);
    };
    await refused(
      ['--subtask', 's9', '--step', '1'],
      `goal "${original}" has no subtask "s9" in its plan v1; its subtasks: s1, s2`,
    );
    await refused(
      ['--subtask', 's2', '--step', '5'],
      `subtask s2 of "${original}" has no step 5: its steps are 1-4; see them with: tandem transcript ${original} s2`,
    );
    await refused(
      ['--subtask', 's2', '--step', '3', '--id', original],
      `the id "${original}" is taken (a workflow with it exists); choose another --id`,
    );
    await refused(['--subtask', 's2'], /name where to fork: --subtask S --step N/);
    await refused(['--plan-version', '2'], `goal "${original}" has no plan v2: its versions are 1-1`);
    // Held to the rules of `tandem interrupt`: a blank one (an unset variable) is not dropped in silence.
    await refused(
      ['--subtask', 's2', '--step', '3', '--interrupt', ' '],
      /^tandem: --interrupt: an interrupt needs a non-empty message\n$/,
    );
    await refused(
      ['--subtask', 's2', '--step', '3', '--interrupt', 'x'.repeat(INTERRUPT_MESSAGE_CHARS + 1)],
      /^tandem: --interrupt: an interrupt is at most 8000 characters and this one has 8001: shorten it\n$/,
    );
    await refused(['--subtask', 's2', '--step', '3', '--model', ''], /^tandem: --model is blank: name the model/);

    // The manifest after step 1 goes from the store: a fork at step 2 would start from files nobody has.
    const record = await readExecutorRecord(tandem.client, `${original}.v1.s2`);
    const manifestRef = record.writes.find((entry) => entry.step === 1)!.workspaceRef;
    const hex = manifestRef.slice('sha256:'.length);
    await fs.rm(
      path.join(tandem.config.store.kind === 'folder' ? tandem.config.store.dir : '', hex.slice(0, 2), hex.slice(2)),
    );
    await refused(
      ['--subtask', 's2', '--step', '2'],
      new RegExp(
        `the workspace of ${original} as it was at the fork's point \\(at s2 step 2\\) is gone from the store: the manifest ${manifestRef} missing; fork at a step whose files the store still holds`,
      ),
    );
    // Nothing started under any of those.
    const forks = await tandem.client.workflow.list({ query: `WorkflowId STARTS_WITH "${original}-fork"` });
    for await (const found of forks) throw new Error(`a refused fork started ${found.workflowId}`);
  });
});
