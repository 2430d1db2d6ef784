/**
 * Temporal's limits by construction, side effects once per run, and a workspace of its own (issue 13, points 1-3), on
 * a real dev server. Each `it` names the kind it checks; the examples from the issue are marked "the example".
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { goalSearchAttribute, progressQuery } from '../common/contract';
import {
  ARGUMENTS_PREVIEW_CHARS,
  GOAL_ATTRIBUTE_BYTES,
  PAYLOAD_BUDGET_BYTES,
  payloadBytes,
  utf8Bytes,
} from '../common/limits';
import type { ExecutorInput, ExecutorResult, GoalResult, Subtask } from '../common/types';
import { match, reply } from '../dev/scripted-model';
import { workspaceDir } from '../activities/run-tool';
import { fitGoalResult } from '../workflows/planner/evidence';
import { runCli } from './helpers/cli';
import { activitySummaries } from './helpers/history';
import { resultOf, startTandem, type Tandem } from './helpers/tandem';

const BIN = path.resolve(__dirname, '../bin/tandem.cjs');

/** The CLI with `input` on its standard input. */
function runCliWithStdin(args: string[], input: string, env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

/** `promise`, or a failure naming what got stuck after `ms`: a stuck workflow task loops forever otherwise. */
/** Bytes of the payloads (binary fields) in a history event. */
function binaryBytes(value: unknown): number {
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return value.reduce((sum: number, inner) => sum + binaryBytes(inner), 0);
  if (value && typeof value === 'object')
    return Object.values(value).reduce((sum: number, v) => sum + binaryBytes(v), 0);
  return 0;
}

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)),
  ]);
}

const task: Subtask = {
  id: 't1',
  title: 'Test subtask',
  instructions: 'Do it.',
  milestone: 'It is done.',
  dependsOn: [],
};

describe('limits, side effects and workspaces', () => {
  let tandem: Tandem;
  beforeAll(async () => {
    tandem = await startTandem();
  });
  afterAll(async () => {
    await tandem.stop();
  });
  beforeEach(() => tandem.model.reset());

  const startExecutor = async (workflowId: string, input: Partial<ExecutorInput> = {}) =>
    (await tandem.startExecutor(workflowId, { subtask: task, ...input })).handle;

  it('finishes an executor whose steps write five 700 kB files: records keep previews (the example)', async () => {
    const body = (n: number) => `${n}`.repeat(700_000);
    tandem.model.on(match.any, [
      ...[1, 2, 3, 4, 5].map((n) => reply.toolCall('write_file', { path: `big${n}.txt`, content: body(n) })),
      reply.text('five files written'),
    ]);
    const id = tandem.goalId('big-writes');
    const handle = await startExecutor(id);
    const result = (await within(90_000, 'the executor', resultOf(handle))) as ExecutorResult;

    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'five files written', steps: 6 }));
    expect(payloadBytes(result)).toBeLessThan(PAYLOAD_BUDGET_BYTES);
    for (const call of result.toolCalls) expect(call.arguments.length).toBeLessThan(ARGUMENTS_PREVIEW_CHARS + 100);
    expect((await fs.stat(path.join(tandem.workspaceDir(id), 'big5.txt'))).size).toBe(700_000);
  });

  it('writes a 3 MB file in one call and five 700 kB files in one reply: arguments travel by reference', async () => {
    const body = (n: number, size: number) => `${n}`.repeat(size);
    tandem.model.on(match.any, [
      reply.toolCall('write_file', { path: 'huge.txt', content: body(7, 3_000_000) }),
      reply.toolCalls(
        [1, 2, 3, 4, 5].map((n) => ({
          name: 'write_file',
          arguments: { path: `big${n}.txt`, content: body(n, 700_000) },
        })),
      ),
      reply.text('all written'),
    ]);
    const id = tandem.goalId('by-reference');
    const handle = await startExecutor(id);
    const result = (await within(90_000, 'the executor', resultOf(handle))) as ExecutorResult;

    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'all written', steps: 3 }));
    expect(await fs.readFile(path.join(tandem.workspaceDir(id), 'huge.txt'), 'utf8')).toBe(body(7, 3_000_000));
    for (const n of [1, 2, 3, 4, 5]) {
      expect(await fs.readFile(path.join(tandem.workspaceDir(id), `big${n}.txt`), 'utf8')).toBe(body(n, 700_000));
    }
    const lastRequest = tandem.model.requests[2];
    const observations = lastRequest.messages.filter((m) => m.role === 'tool');
    expect(observations.map((m) => m.content)).toEqual([
      'wrote 3000000 bytes to huge.txt',
      ...[1, 2, 3, 4, 5].map((n) => `wrote 700000 bytes to big${n}.txt`),
    ]);
    // The model's own calls go back to it whole (the transcript is in the content store), not as the shortened copy.
    const assistant = lastRequest.messages.filter((m) => m.role === 'assistant');
    expect(assistant.flatMap((m) => m.tool_calls ?? []).map((c) => c.function.arguments.length)).toEqual([
      JSON.stringify({ path: 'huge.txt', content: body(7, 3_000_000) }).length,
      ...[1, 2, 3, 4, 5].map((n) => JSON.stringify({ path: `big${n}.txt`, content: body(n, 700_000) }).length),
    ]);
    // Every event of the history stays far under the payload limit, and the Web UI still names each file.
    const { events } = await handle.fetchHistory();
    for (const event of events ?? []) expect(binaryBytes(event)).toBeLessThan(PAYLOAD_BUDGET_BYTES);
    const summaries = (await activitySummaries(tandem.client, id)).map(([, summary]) => summary);
    expect(summaries).toEqual(expect.arrayContaining(['write_file huge.txt', 'write_file big5.txt']));
  });

  it('runs a side effect again in a second run under a reused id, and tells that run its own byte count (the example)', async () => {
    const id = tandem.goalId('reused');
    const writeCall = (content: string) =>
      reply.toolCalls([{ name: 'write_file', arguments: { path: 'a.txt', content }, id: 'call_same' }]);
    tandem.model.on(match.any, [writeCall('first'), reply.text('one'), writeCall('second run'), reply.text('two')]);
    await resultOf(await startExecutor(id));
    await resultOf(await startExecutor(id));

    expect(await fs.readFile(path.join(tandem.workspaceDir(id), 'a.txt'), 'utf8')).toBe('second run');
    const observations = tandem.model.requests.flatMap((req) => req.messages.filter((m) => m.role === 'tool'));
    expect(observations.map((m) => m.content)).toEqual(['wrote 5 bytes to a.txt', 'wrote 10 bytes to a.txt']);
  });

  it('refuses a write through a dangling link, a linked parent or a link at the leaf (the example and its kind)', async () => {
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-outside-'));
    const id = tandem.goalId('dangling');
    const ws = tandem.workspaceDir(id);
    await fs.mkdir(path.join(ws, 'inner'), { recursive: true });
    await fs.symlink(path.join(outside, 'escaped.txt'), path.join(ws, 'notes.txt'));
    await fs.symlink(outside, path.join(ws, 'out'));
    await fs.symlink(path.join(outside, 'deeper', 'x'), path.join(ws, 'inner', 'gone'));
    await fs.writeFile(path.join(outside, 'secret.txt'), 'top secret');
    await fs.symlink(path.join(outside, 'secret.txt'), path.join(ws, 'secret-link.txt'));
    tandem.model.on(match.any, [
      reply.toolCalls([
        { name: 'write_file', arguments: { path: 'notes.txt', content: 'escaped' } },
        { name: 'write_file', arguments: { path: 'out/planted.txt', content: 'x' } },
        { name: 'write_file', arguments: { path: 'inner/gone/y.txt', content: 'x' } },
        { name: 'read_file', arguments: { path: 'secret-link.txt' } },
        { name: 'write_file', arguments: { path: 'inner/ok.txt', content: 'inside' } },
      ]),
      reply.text('done'),
    ]);
    const result = (await resultOf(await startExecutor(id))) as ExecutorResult;

    expect(result.toolCalls.map((call) => call.ok)).toEqual([false, false, false, false, true]);
    expect(await fs.readdir(outside)).toEqual(['secret.txt']);
    expect(result.evidence).not.toContain('top secret');
    expect(await fs.readFile(path.join(ws, 'inner', 'ok.txt'), 'utf8')).toBe('inside');
  });

  it('refuses a hard link to an outside file, a NUL byte and a 260-byte name; reads 8 MiB of a 40 MB file', async () => {
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-outside-'));
    const id = tandem.goalId('hard-link');
    const ws = tandem.workspaceDir(id);
    await fs.mkdir(ws, { recursive: true });
    await fs.writeFile(path.join(outside, 'secret.txt'), 'top secret');
    await fs.link(path.join(outside, 'secret.txt'), path.join(ws, 'hard.txt'));
    await fs.writeFile(path.join(ws, 'big.log'), '');
    await fs.truncate(path.join(ws, 'big.log'), 40_000_000);
    tandem.model.on(match.any, [
      reply.toolCalls([
        { name: 'read_file', arguments: { path: 'hard.txt' } },
        { name: 'write_file', arguments: { path: 'hard.txt', content: 'overwritten' } },
        { name: 'write_file', arguments: { path: 'a\u0000b.txt', content: 'x' } },
        // 130 characters, 260 bytes: the limit is the file system's, in bytes.
        { name: 'write_file', arguments: { path: `${'é'.repeat(130)}.txt`, content: 'x' } },
        { name: 'read_file', arguments: { path: 'big.log' } },
      ]),
      reply.text('done'),
    ]);
    const result = (await resultOf(await startExecutor(id))) as ExecutorResult;

    expect(result.toolCalls.map((call) => call.ok)).toEqual([false, false, false, false, true]);
    expect(await fs.readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('top secret');
    const observations = tandem.model.requests[1].messages.filter((m) => m.role === 'tool').map((m) => m.content);
    expect(observations.slice(0, 4)).toEqual([
      expect.stringMatching(/^read_file refused: "hard.txt" is a hard link/),
      expect.stringMatching(/^write_file refused: "hard.txt" is a hard link/),
      'write_file refused: path "a\\u0000b.txt" contains a NUL character',
      expect.stringMatching(/^write_file refused: the name "é+…" is 264 bytes; a file or folder name is at most 255/),
    ]);
    expect(observations[4]).toMatch(/showing the first 4000 of 8388\d{3} characters/);
    expect(JSON.stringify(observations)).not.toContain(ws);
  });

  it('cuts emoji-heavy tool output and evidence between characters, so the model server takes the next step', async () => {
    const id = tandem.goalId('emoji');
    const ws = tandem.workspaceDir(id);
    await fs.mkdir(ws, { recursive: true });
    // The leading "a" puts each emoji's first half at an odd index: a cut at the 4,000-character observation limit
    // or the 1,000-character evidence line (35 characters of prefix) lands inside an emoji.
    await fs.writeFile(path.join(ws, 'emoji.txt'), `a${'😀'.repeat(5_000)}`);
    tandem.model.on(match.any, [reply.toolCall('read_file', { path: 'emoji.txt' }), reply.text('read it')]);
    const result = (await resultOf(await startExecutor(id))) as ExecutorResult;

    tandem.model.assertAllAnswered();
    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'read it' }));
    const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    const observation = tandem.model.requests[1].messages.find((m) => m.role === 'tool')!.content as string;
    expect(observation).toContain('[trimmed: showing the first');
    expect(observation).not.toMatch(lone);
    expect(result.evidence).toContain('read_file');
    expect(result.evidence).not.toMatch(lone);
  });

  it('answers a reply of 300 read_file calls: the outputs share one step budget, so the next step starts', async () => {
    const id = tandem.goalId('many-calls');
    const ws = tandem.workspaceDir(id);
    await fs.mkdir(ws, { recursive: true });
    // 4,000 three-byte characters, the observation limit: 300 of them are 3.6 MB, past Temporal's 2 MB.
    await fs.writeFile(path.join(ws, 'han.txt'), '中'.repeat(4_000));
    const calls = Array.from({ length: 300 }, () => ({ name: 'read_file', arguments: { path: 'han.txt' } }));
    tandem.model.on(match.any, [reply.toolCalls(calls), reply.text('read them all')]);
    const handle = await startExecutor(id, { budget: { maxSteps: 3 } });
    const result = (await within(120_000, 'the executor', resultOf(handle))) as ExecutorResult;

    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'read them all' }));
    const observations = tandem.model.requests[1].messages.filter((m) => m.role === 'tool');
    expect(observations).toHaveLength(300);
    expect(payloadBytes(observations)).toBeLessThan(PAYLOAD_BUDGET_BYTES);
    for (const m of observations)
      expect(m.content).toMatch(/^中+\n\[trimmed: showing the first \d+ of 4000 characters/);
    expect(result.toolCalls.every((call) => call.ok && call.outputRef)).toBe(true);
  });

  it('gives goal ids that differ in any character their own workspace folders', () => {
    const ids = ['a/b', 'a_b', 'A_b', 'a:b', '..', '.', 'x'.repeat(300), `${'x'.repeat(300)}y`, 'ä', 'a%2Fb'];
    const dirs = ids.map((id) => workspaceDir('/root', id));
    expect(new Set(dirs).size).toBe(ids.length);
    for (const dir of dirs) expect(path.dirname(dir)).toBe('/root');
  });

  it('keeps the goal result under the payload budget however many subtasks and replans it has', () => {
    const big = 'x'.repeat(64_000);
    const result = {
      ok: false,
      reason: 'replans_exhausted',
      report: big,
      planVersion: 40,
      subtasks: Array.from({ length: 300 }, (_, i) => ({
        id: `s${i}`,
        title: big.slice(0, 120),
        status: 'failed' as const,
        result: {
          ok: false,
          answer: null,
          reason: 'budget',
          budget: 'steps',
          partial: big.slice(0, 8_000),
          steps: 1,
          usage: { promptTokens: 0, completionTokens: 0 },
          toolCalls: Array.from({ length: 20 }, () => ({
            step: 1,
            name: 'write_file',
            arguments: big.slice(0, 2_000),
            ok: true,
          })),
          evidence: big.slice(0, 8_000),
        },
      })),
      usage: { promptTokens: 0, completionTokens: 0 },
      replans: Array.from({ length: 40 }, (_, i) => ({
        version: i + 2,
        reason: 'r',
        createdAt: '',
        subtasks: [{ ...task, instructions: big }],
      })),
    } satisfies GoalResult;
    expect(payloadBytes(result)).toBeGreaterThan(2 * 1024 * 1024);
    expect(payloadBytes(fitGoalResult(result))).toBeLessThanOrEqual(PAYLOAD_BUDGET_BYTES);
  });

  it('starts a 3 KB goal with TandemGoal cut to fit, and a 3 MB one from --goal-file by reference (the example)', async () => {
    tandem.model
      .on(match.responseFormat('plan'), reply.json({ subtasks: [task] }), { repeatLast: true })
      .on(match.responseFormat('verdict'), reply.json({ met: true, reason: 'ok' }), { repeatLast: true })
      .on(match.purpose('report'), reply.text('Report.'), { repeatLast: true })
      .on(match.any, reply.text('done'), { repeatLast: true });
    const env = { TANDEM_TASK_QUEUE: tandem.taskQueue };

    const mid = tandem.goalId('goal-3kb');
    const midGoal = `${'Compute the answer carefully. '.repeat(100)}END-OF-MID-GOAL`;
    const started = await runCli(['start', midGoal, '--id', mid, '--wait', '--json'], env);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const description = await tandem.client.workflow.getHandle(mid).describe();
    const attribute = description.typedSearchAttributes.get(goalSearchAttribute)!;
    expect(utf8Bytes(attribute)).toBeLessThanOrEqual(GOAL_ATTRIBUTE_BYTES);
    expect(midGoal.startsWith(attribute.slice(0, -1))).toBe(true);

    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-goal-'));
    const hugeGoal = `${'Read every line of this brief. '.repeat(100_000)}END-OF-HUGE-GOAL`;
    await fs.writeFile(path.join(dir, 'goal.txt'), hugeGoal);
    const huge = tandem.goalId('goal-3mb');
    const fromFile = await runCli(
      ['start', '--goal-file', path.join(dir, 'goal.txt'), '--id', huge, '--wait', '--json'],
      env,
    );
    expect(fromFile.stderr).toBe('');
    expect((JSON.parse(fromFile.stdout) as GoalResult & { id: string }).ok).toBe(true);
    const planRequest = tandem.model.requestsMatching(
      match.and(match.responseFormat('plan'), match.textContains('END-OF-HUGE-GOAL')),
    );
    expect(planRequest).toHaveLength(1);
    expect(planRequest[0].text.length).toBeGreaterThan(hugeGoal.length);
    const progress = await tandem.client.workflow.getHandle(huge).query(progressQuery);
    expect(utf8Bytes(progress.goal)).toBeLessThan(2_200);
    expect(progress.workspace).toBe(tandem.workspaceDir(huge));

    const piped = tandem.goalId('goal-stdin');
    const fromStdin = await runCliWithStdin(
      ['start', '--goal-file', '-', '--id', piped, '--wait', '--json'],
      'Goal from stdin END-OF-PIPED',
      env,
    );
    expect(fromStdin.stderr).toBe('');
    const pipedResult = JSON.parse(fromStdin.stdout) as GoalResult;
    expect(pipedResult.workspace).toBe(tandem.workspaceDir(piped));
    expect(tandem.model.requestsMatching(match.textContains('END-OF-PIPED')).length).toBeGreaterThan(0);
  });

  it('tells the model a plan over 64,000 characters is too long, not that it is not JSON, and takes its shorter one', async () => {
    const huge = { ...task, instructions: `${'Measure twice. '.repeat(5_000)}END` };
    tandem.model
      .on(match.responseFormat('plan'), [reply.json({ subtasks: [huge] }), reply.json({ subtasks: [task] })])
      .on(match.responseFormat('verdict'), reply.json({ met: true, reason: 'ok' }), { repeatLast: true })
      .on(match.purpose('report'), reply.text('Report.'), { repeatLast: true })
      .on(match.any, reply.text('done'), { repeatLast: true });
    const handle = await tandem.startPlanner('huge-plan', { goal: 'Plan at length' });
    const result = await within(60_000, 'the goal', resultOf(handle));

    expect(result.ok).toBe(true);
    expect(result.subtasks.map((s) => s.id)).toEqual(['t1']);
    const retry = tandem.model.requestsMatching(match.responseFormat('plan'))[1];
    expect(retry.text).toContain('the plan is longer than 64000 characters');
    expect(retry.text).not.toContain('not JSON');
  });

  it("prints the server's reason when it refuses to start a goal", async () => {
    const run = await runCli(['start', 'A goal', '--id', `g${'x'.repeat(1_100)}`], {
      TANDEM_TASK_QUEUE: tandem.taskQueue,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^tandem: could not start goal "gx+": Failed to start Workflow: .+/);
  });
});
