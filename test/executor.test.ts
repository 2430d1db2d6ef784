import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { executorProgressQuery, interruptSignal, pauseSignal, resumeSignal } from '../common/contract';
import { match, type RecordedRequest, reply } from '../dev/scripted-model';
import { startTandem, stopped, type Tandem } from './helpers/tandem';
import { replayWorkerOptions } from '../worker/worker';

/** A loopback HTTP server whose answers take `delayMs(path)`; it records when each request arrived and was answered. */
async function startSlowServer(delayMs: (path: string) => number) {
  const hits: Array<{ path: string; start: number; end?: number }> = [];
  const server = http.createServer((req, res) => {
    const hit = { path: req.url ?? '/', start: Date.now() } as (typeof hits)[number];
    hits.push(hit);
    setTimeout(() => {
      hit.end = Date.now();
      res.end(`page ${hit.path}`);
    }, delayMs(hit.path));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url: (p: string) => `http://${host}${p}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Replays a finished run's history on the current workflow code: a nondeterminism error fails the test. */
async function expectReplays(handle: WorkflowHandle): Promise<void> {
  const codePath = process.env.TANDEM_TEST_BUNDLE!;
  await Worker.runReplayHistory(replayWorkerOptions(codePath), await handle.fetchHistory(), handle.workflowId);
}

function lastMessageText(req: RecordedRequest): string {
  const last = req.messages.at(-1);
  return typeof last?.content === 'string' ? last.content : '';
}

describe('executor (the inner loop, on a real dev server)', () => {
  let tandem: Tandem;
  beforeEach(async () => {
    tandem = await startTandem();
  });
  afterEach(async () => {
    await tandem.stop();
  });

  it('runs parallel tool calls as concurrent activities and observes them in the model order', async () => {
    // /a answers after /b, so a loop that appended outcomes as they finished would put b first.
    const web = await startSlowServer((p) => (p === '/a' ? 2_500 : 1_000));
    try {
      tandem.config.http.allow = [web.host];
      tandem.model.on(match.lastRole('tool'), reply.text('both fetched')).on(
        match.any,
        reply.toolCalls([
          { name: 'http_get', arguments: { url: web.url('/a') }, id: 'call_a' },
          { name: 'http_get', arguments: { url: web.url('/b') }, id: 'call_b' },
        ]),
      );
      const run = await tandem.startExecutor(tandem.goalId('parallel'));
      const result = await run.result();

      expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'both fetched', steps: 2 }));
      const [a, b] = ['/a', '/b'].map((p) => web.hits.find((hit) => hit.path === p)!);
      expect(b.start).toBeLessThan(a.end!);
      expect(a.start).toBeLessThan(b.end!);
      const toolMessages = tandem.model.requests[1].messages.filter((message) => message.role === 'tool');
      expect(toolMessages.map((message) => [message.tool_call_id, message.content])).toEqual([
        ['call_a', expect.stringContaining('page /a')],
        ['call_b', expect.stringContaining('page /b')],
      ]);
      expect(result.toolCalls.map((call) => [call.name, call.ok])).toEqual([
        ['http_get', true],
        ['http_get', true],
      ]);
    } finally {
      await web.close();
    }
  });

  it.each([
    ['an unknown tool', reply.toolCall('teleport', { to: 'mars' }), 'unknown tool "teleport"; the tools you can call'],
    [
      'arguments that are not JSON',
      reply.toolCall('calculator', '{"expression": 1+'),
      'arguments of calculator are not valid',
    ],
    [
      'arguments that fail the schema',
      reply.toolCall('calculator', { expr: '1+1' }),
      'do not match the calculator schema',
    ],
    ['an empty reply', reply.empty({ nullContent: true }), 'your reply was empty'],
    ['a reply cut off by the length limit', reply.truncated('The answer is'), 'cut off by the length limit'],
  ])('turns %s into an observation the model can correct, and counts it as a step', async (_case, bad, says) => {
    tandem.model.on(match.any, [bad, reply.text('corrected answer')]);
    const result = await (await tandem.startExecutor(tandem.goalId('bad-output'))).result();

    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'corrected answer', steps: 2 }));
    expect(tandem.model.requests).toHaveLength(2);
    expect(lastMessageText(tandem.model.requests[1])).toContain(says);
    tandem.model.assertAllAnswered();
  });

  it('sends a large tool output to the model trimmed with a note, and keeps the full text by reference', async () => {
    tandem.config.observationLimit = 500;
    const big = Array.from({ length: 400 }, (_, i) => `line ${i}`).join('\n');
    tandem.model.on(match.any, [reply.toolCall('read_file', { path: 'big.txt' }), reply.text('read it')]);
    const workflowId = tandem.goalId('trim');
    await fs.mkdir(tandem.workspaceDir(workflowId), { recursive: true });
    await fs.writeFile(path.join(tandem.workspaceDir(workflowId), 'big.txt'), big);
    const { handle, result: finished } = await tandem.startExecutor(workflowId);
    const result = await finished();

    const seen = lastMessageText(tandem.model.requests[1]);
    expect(seen).toContain(`[trimmed: showing the first 500 of ${big.length} characters`);
    expect(seen).not.toContain('line 399');
    const ref = result.toolCalls[0].outputRef;
    expect(ref).toMatch(/^sha256:/);
    expect(seen).toContain(ref);
    expect(await tandem.store.get(ref!)).toBe(big);
    expect(JSON.stringify(await handle.fetchHistory())).not.toContain('line 399');
  });

  it('survives a 5 MB tool output: the model and the history see the trimmed text, the store keeps all of it', async () => {
    const huge = `${'0123456789'.repeat(500_000)}THE END`;
    tandem.model.on(match.any, [reply.toolCall('read_file', { path: 'huge.txt' }), reply.text('read it')]);
    const workflowId = tandem.goalId('five-mb');
    await fs.mkdir(tandem.workspaceDir(workflowId), { recursive: true });
    await fs.writeFile(path.join(tandem.workspaceDir(workflowId), 'huge.txt'), huge);
    const { handle, result: finished } = await tandem.startExecutor(workflowId);
    const result = await finished();

    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'read it' }));
    expect(await tandem.store.get(result.toolCalls[0].outputRef!)).toBe(huge);
    const history = JSON.stringify(await handle.fetchHistory());
    expect(history).not.toContain('THE END');
    expect(history.length).toBeLessThan(100_000);
  });

  it('retries a 429 after its Retry-After, then succeeds', async () => {
    tandem.model.on(match.any, [reply.rateLimited(1), reply.text('after the wait')]);
    const result = await (await tandem.startExecutor(tandem.goalId('rate-limited'))).result();

    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'after the wait', steps: 1 }));
    expect(tandem.model.requests).toHaveLength(2);
    expect(tandem.model.requests[1].at - tandem.model.requests[0].at).toBeGreaterThanOrEqual(900);
  });

  it('ends the subtask at once on a 429 that says the quota is used up (OpenAI insufficient_quota): waiting adds none', async () => {
    const message = 'You exceeded your current quota, please check your plan and billing details.';
    tandem.model.on(
      match.any,
      {
        status: 429,
        body: { error: { message, type: 'insufficient_quota', param: null, code: 'insufficient_quota' } },
      },
      { repeatLast: true },
    );
    const result = await (await tandem.startExecutor(tandem.goalId('no-quota'))).result();

    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'model_error', answer: null }));
    expect(stopped(result).partial).toContain(`HTTP 429: ${message}`);
    expect(stopped(result).partial).toContain(
      'retrying cannot help: add credit or raise the limit, or use another key',
    );
    expect(tandem.model.requests).toHaveLength(1);
  });

  it('waits the Retry-After of a 503 (an overloaded server says when to come back) before asking again', async () => {
    tandem.model.on(match.any, [reply.error(503, 'overloaded', { 'retry-after': '3' }), reply.text('back')]);
    const result = await (await tandem.startExecutor(tandem.goalId('overloaded'))).result();

    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'back', steps: 1 }));
    expect(tandem.model.requests).toHaveLength(2);
    // The policy's first backoff is 1 s: only the header makes it 3.
    expect(tandem.model.requests[1].at - tandem.model.requests[0].at).toBeGreaterThanOrEqual(2_900);
  });

  it('retries a burst of 500 and 503 with backoff, then succeeds', async () => {
    tandem.model.on(match.any, [reply.error(500, 'boom'), reply.error(503, 'overloaded'), reply.text('recovered')]);
    const result = await (await tandem.startExecutor(tandem.goalId('server-errors'))).result();

    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'recovered', steps: 1 }));
    expect(tandem.model.requests).toHaveLength(3);
  });

  it('retries a reply that is not JSON, then succeeds', async () => {
    tandem.model.on(match.any, [reply.garbage(), reply.text('parsed')]);
    const result = await (await tandem.startExecutor(tandem.goalId('garbage'))).result();

    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'parsed' }));
    expect(tandem.model.requests).toHaveLength(2);
  });

  it('times out a hung connection (TANDEM_MODEL_TIMEOUT_MS) and retries it', async () => {
    tandem.config.model.timeoutMs = 1000;
    tandem.model.on(match.any, [reply.hang(), reply.text('answered')]);
    const result = await (await tandem.startExecutor(tandem.goalId('hung'))).result();

    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'answered' }));
    expect(tandem.model.requests).toHaveLength(2);
    expect(tandem.model.requests[0].clientAborted).toBe(true);
  });

  it('ends the subtask on a 401 without retrying, with reason model_error', async () => {
    tandem.model.on(match.any, reply.error(401, 'Incorrect API key provided'), { repeatLast: true });
    const result = await (await tandem.startExecutor(tandem.goalId('unauthorized'))).result();

    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'model_error', answer: null }));
    expect(stopped(result).partial).toMatch(/model call failed: .*HTTP 401/);
    expect(result.evidence).toMatch(/HTTP 401/);
    expect(tandem.model.requests).toHaveLength(1);
  });

  it('keeps a reply near the model output limit out of history, by reference, and fails fast on one of 2,000 calls', async () => {
    const longAnswer = `${'a'.repeat(300_000)} end`;
    // Large arguments go by reference (test/limits.test.ts); only a reply of thousands of calls stays too big.
    const manyCalls = Array.from({ length: 2_000 }, (_, n) => ({
      name: 'write_file',
      arguments: { path: `f${n}.txt`, content: 'b'.repeat(900) },
    }));
    tandem.model
      .on(match.textContains('Long'), reply.text(longAnswer))
      .on(match.textContains('Huge'), reply.toolCalls(manyCalls));
    const long = await tandem.startExecutor(tandem.goalId('long-reply'), {
      subtask: { id: 't1', title: 'Long', instructions: 'Long', milestone: 'm', dependsOn: [] },
    });
    const result = await long.result();
    expect(result.ok).toBe(true);
    expect(result.answer).toMatch(
      /\[trimmed: showing the first 64000 of 300004 characters; the full output is stored as sha256:/,
    );
    const ref = /(sha256:[0-9a-f]{64})/.exec(String(result.answer))![1];
    expect(await tandem.store.get(ref)).toBe(longAnswer);
    // The 300 kB reply is not in history: only the 64 kB inline copy, as the activity result and the workflow result.
    expect(JSON.stringify(await long.handle.fetchHistory())).not.toContain(longAnswer);

    const huge = await (
      await tandem.startExecutor(tandem.goalId('huge-reply'), {
        subtask: { id: 't1', title: 'Huge', instructions: 'Huge', milestone: 'm', dependsOn: [] },
      })
    ).result();
    expect(huge).toEqual(expect.objectContaining({ ok: false, reason: 'model_error' }));
    expect(stopped(huge).partial).toMatch(
      /over the 1500000-byte limit for workflow history \(it makes too many tool calls at once\)/,
    );
    expect(tandem.model.requestsMatching(match.textContains('Huge'))).toHaveLength(1);
  });

  describe('budgets', () => {
    const calculate = { toolCalls: [{ name: 'calculator', arguments: { expression: '1+1' } }] };

    it('ends at the step budget; the planner budget wins over the subtask one', async () => {
      tandem.model.on(match.any, calculate, { repeatLast: true });
      const subtask = {
        ...{ id: 't1', title: 'Loop', instructions: 'Loop', milestone: 'never', dependsOn: [] },
        budget: { maxSteps: 5 },
      };
      const result = await (
        await tandem.startExecutor(tandem.goalId('steps'), { subtask, budget: { maxSteps: 2 } })
      ).result();

      expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'budget', budget: 'steps', steps: 2 }));
      expect(stopped(result).partial).toMatch(/the steps budget \(2 steps\) ran out/);
      expect(tandem.model.requests).toHaveLength(2);
    });

    it("ends at the token budget, counted from the endpoint's usage (the subtask's own budget)", async () => {
      tandem.model.on(
        match.any,
        { ...calculate, usage: { prompt_tokens: 60, completion_tokens: 10 } },
        { repeatLast: true },
      );
      const subtask = {
        ...{ id: 't1', title: 'Loop', instructions: 'Loop', milestone: 'never', dependsOn: [] },
        budget: { maxTokens: 100 },
      };
      const result = await (await tandem.startExecutor(tandem.goalId('tokens'), { subtask })).result();

      expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'budget', budget: 'tokens', steps: 2 }));
      expect(result.usage).toEqual({ promptTokens: 120, completionTokens: 20 });
      expect(tandem.model.requests).toHaveLength(2);
    });

    it('ends at the time budget, cancelling a slow LLM call instead of waiting it out', async () => {
      tandem.model.on(match.any, reply.hang());
      const started = Date.now();
      const run = await tandem.startExecutor(tandem.goalId('time'), { budget: { maxSeconds: 2 } });
      const result = await run.result();

      expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'budget', budget: 'time', steps: 1 }));
      expect(Date.now() - started).toBeLessThan(20_000);
      await eventually(() => tandem.model.requests[0]?.clientAborted || undefined);
      await expectReplays(run.handle);
    });
  });

  it('hands an interrupt that arrives during a slow LLM call to the model at the next step, without a repeat call', async () => {
    tandem.model.on(match.any, [
      reply.slow(3_000, reply.toolCall('calculator', { expression: '6*7' })),
      reply.text('42, with units'),
    ]);
    const run = await tandem.startExecutor(tandem.goalId('interrupt'));
    await tandem.model.waitForRequests(1);
    await run.handle.signal(interruptSignal, { message: 'Please state the units too.' });
    const progress = await run.handle.query(executorProgressQuery);
    expect(progress.pendingInterrupts).toEqual(['Please state the units too.']);

    const result = await run.result();
    expect(result).toEqual(expect.objectContaining({ ok: true, answer: '42, with units', steps: 2 }));
    expect(tandem.model.requests).toHaveLength(2);
    expect(tandem.model.requests[0].clientAborted).toBe(false);
    expect(tandem.model.requests[1].lastUserText).toContain('Please state the units too.');
    expect(tandem.model.requests[1].messages.some((message) => message.role === 'tool')).toBe(true);
    await expectReplays(run.handle);
  });

  it('gives the model one more step when an interrupt arrives during what would have been its final answer', async () => {
    tandem.model.on(match.any, [reply.slow(3_000, reply.text('first answer')), reply.text('revised answer')]);
    const run = await tandem.startExecutor(tandem.goalId('late-interrupt'));
    await tandem.model.waitForRequests(1);
    await run.handle.signal(interruptSignal, { message: 'Round to whole numbers.' });

    const result = await run.result();
    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'revised answer', steps: 2 }));
    const second = tandem.model.requests[1].messages;
    expect(second.at(-2)).toEqual(expect.objectContaining({ role: 'assistant', content: 'first answer' }));
    expect(lastMessageText(tandem.model.requests[1])).toContain('Round to whole numbers.');
  });

  it('pauses before the next LLM call, answers queries while paused, and goes on after resume', async () => {
    tandem.model.on(match.any, [
      reply.slow(1_500, reply.toolCall('calculator', { expression: '2+2' })),
      reply.text('4'),
    ]);
    const run = await tandem.startExecutor(tandem.goalId('pause'), { budget: { maxSteps: 7, maxTokens: 10_000 } });
    await tandem.model.waitForRequests(1);
    await run.handle.signal(pauseSignal);

    const paused = await eventually(async () => {
      const progress = await run.handle.query(executorProgressQuery);
      return progress.phase === 'paused' ? progress : undefined;
    });
    expect(paused).toEqual(
      expect.objectContaining({ subtaskId: 't1', status: 'running', step: 1, paused: true, pendingInterrupts: [] }),
    );
    expect(paused.lastToolCalls).toEqual([expect.objectContaining({ name: 'calculator', ok: true, step: 1 })]);
    expect(paused.budget).toEqual(
      expect.objectContaining({ maxSteps: 7, stepsLeft: 6, maxTokens: 10_000, maxSeconds: null, secondsLeft: null }),
    );
    expect(paused.budget.tokensLeft).toBeLessThan(10_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(tandem.model.requests).toHaveLength(1);

    await run.handle.signal(resumeSignal);
    expect(await run.result()).toEqual(expect.objectContaining({ ok: true, answer: '4', steps: 2 }));
    expect(tandem.model.requests).toHaveLength(2);
    await expectReplays(run.handle);
  });

  it('returns its partial result when cancelled mid-LLM-call, and aborts the call', async () => {
    tandem.model.on(match.any, [reply.toolCall('calculator', { expression: '6*7' }), reply.hang()]);
    const run = await tandem.startExecutor(tandem.goalId('cancel'));
    await tandem.model.waitForRequests(2);
    await run.handle.cancel();

    const result = await run.result();
    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'cancelled', steps: 2 }));
    expect(stopped(result).partial).toMatch(/cancelled[\s\S]*calculator/);
    expect(result.toolCalls).toEqual([expect.objectContaining({ name: 'calculator', ok: true })]);
    await eventually(() => tandem.model.requests[1].clientAborted || undefined);
    expect((await run.handle.describe()).status.name).toBe('CANCELLED');
    await expectReplays(run.handle);
  });

  it('returns at once when the model escalates, without running the other calls of that reply', async () => {
    tandem.model.on(
      match.any,
      reply.toolCalls([
        { name: 'write_file', arguments: { path: 'x.txt', content: 'x' } },
        { name: 'escalate', arguments: { reason: 'the source data does not exist' } },
      ]),
    );
    const run = await tandem.startExecutor(tandem.goalId('escalate'));
    const result = await run.result();

    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'escalated', steps: 1, toolCalls: [] }));
    expect(stopped(result).partial).toContain('the source data does not exist');
    await expect(fs.access(path.join(run.workspace, 'x.txt'))).rejects.toThrow();
    expect(tandem.model.requests).toHaveLength(1);
  });

  it('refuses file paths that leave the workspace, through .. or a symlink; tool activities carry readable summaries', async () => {
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-outside-'));
    await fs.writeFile(path.join(outside, 'secret.txt'), 'top secret');
    const workflowId = tandem.goalId('escape');
    await fs.mkdir(tandem.workspaceDir(workflowId), { recursive: true });
    await fs.symlink(outside, path.join(tandem.workspaceDir(workflowId), 'link'));
    tandem.model.on(match.any, [
      reply.toolCalls([
        { name: 'read_file', arguments: { path: '../../secret.txt' } },
        { name: 'read_file', arguments: { path: 'link/secret.txt' } },
        { name: 'write_file', arguments: { path: 'link/planted.txt', content: 'x' } },
        { name: 'list_files', arguments: { path: 'link' } },
        { name: 'write_file', arguments: { path: 'notes/answer.txt', content: 'inside' } },
      ]),
      reply.text('done'),
    ]);
    const { handle, result: finished } = await tandem.startExecutor(workflowId);
    const result = await finished();

    expect(result.toolCalls.map((call) => call.ok)).toEqual([false, false, false, false, true]);
    const observations = tandem.model.requests[1].messages.filter((message) => message.role === 'tool');
    for (const observation of observations.slice(0, 4)) expect(observation.content).toMatch(/leaves the workspace/);
    expect(result.evidence).not.toContain('top secret');
    await expect(fs.access(path.join(outside, 'planted.txt'))).rejects.toThrow();
    expect(await fs.readFile(path.join(tandem.workspaceDir(workflowId), 'notes/answer.txt'), 'utf8')).toBe('inside');

    const history = await handle.fetchHistory();
    const summaries = (history.events ?? []).flatMap((event) => {
      const summary = event.activityTaskScheduledEventAttributes ? event.userMetadata?.summary?.data : undefined;
      return summary ? [JSON.parse(Buffer.from(summary).toString('utf8')) as string] : [];
    });
    expect(summaries).toEqual([
      // Every executor run starts with MCP discovery (an empty list when no server is configured).
      'discover MCP tools',
      'LLM step 1',
      'read_file ../../secret.txt',
      'read_file link/secret.txt',
      'write_file link/planted.txt',
      'list_files link',
      'write_file notes/answer.txt',
      'LLM step 2',
    ]);
    await fs.rm(outside, { recursive: true, force: true });
  });

  it('refuses http_get to a host that is not on TANDEM_HTTP_ALLOW (nothing is allowed by default)', async () => {
    const web = await startSlowServer(() => 0);
    try {
      tandem.config.http.allow = [];
      tandem.model.on(match.any, [reply.toolCall('http_get', { url: web.url('/private') }), reply.text('refused')]);
      const result = await (await tandem.startExecutor(tandem.goalId('http-refused'))).result();

      expect(result.toolCalls).toEqual([expect.objectContaining({ name: 'http_get', ok: false })]);
      expect(lastMessageText(tandem.model.requests[1])).toMatch(/host "127\.0\.0\.1:\d+" is not allowed.*\(none\)/);
      expect(web.hits).toHaveLength(0);
    } finally {
      await web.close();
    }
  });
});
