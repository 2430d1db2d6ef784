/**
 * A 1,000-step executor runs to the end through continue-as-new, with queries and signals working across the
 * continuations. The dev server here suggests continue-as-new at 300 events (the default is 4,096), so the run hands
 * over several times in one test. Slow: `npm run test:quick` leaves this file out.
 */
import { TOOL_CALL_RECORDS } from '../common/limits';
import { Client, Connection } from '@temporalio/client';
import * as path from 'node:path';
import { startDevServer, type DevServer } from '../dev/dev-server';
import { executorProgressQuery, interruptSignal, progressQuery } from '../common/contract';
import { type ExecutorInput, type ExecutorResult } from '../common/types';
import { match, reply, startScriptedModel, type ScriptedModel } from '../dev/scripted-model';
import { resultOf, startTandem } from './helpers/tandem';
import { startWorkerProcess, type WorkerProcess } from '../dev/worker-process';

jest.setTimeout(600_000);

const STEPS = 1_000;

describe('a long executor run', () => {
  let server: DevServer;
  let model: ScriptedModel;
  let worker: WorkerProcess;
  let connection: Connection;

  beforeAll(async () => {
    server = await startDevServer({
      port: 0,
      uiPort: 0,
      dbFile: path.join(process.env.TANDEM_TEST_STATE_DIR ?? '.', `long-run-${Date.now()}.db`),
      headless: true,
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 300 },
    });
    model = await startScriptedModel();
    worker = await startWorkerProcess({
      TANDEM_TASK_QUEUE: 'long-run',
      TEMPORAL_ADDRESS: server.address,
      OPENAI_BASE_URL: model.baseURL,
    });
    connection = await Connection.connect({ address: server.address });
  });
  afterAll(async () => {
    await connection?.close();
    await worker?.kill();
    await model?.close();
    await server?.stop();
  });

  it('runs 1,000 steps through continue-as-new; queries and signals follow it across runs', async () => {
    // Each request calls the calculator until the conversation holds STEPS model turns, then answers.
    model.on(
      match.hasTools(),
      (req) => {
        const turn = req.messages.filter((message) => message.role === 'assistant').length + 1;
        return turn < STEPS ? reply.toolCall('calculator', { expression: `${turn} + 1` }) : reply.text('done');
      },
      { repeatLast: true },
    );
    const client = new Client({ connection });
    const input: ExecutorInput = {
      subtask: { id: 'long', title: 'Long run', instructions: 'Count.', milestone: 'done', dependsOn: [] },
      workspace: 'long-run',
      tools: ['calculator'],
      budget: { maxSteps: STEPS + 10 },
    };
    const handle = await client.workflow.start('executorWorkflow', {
      taskQueue: 'long-run',
      workflowId: `long-run-${Date.now()}`,
      args: [input],
    });
    const firstRunId = handle.firstExecutionRunId;

    // Wait until the run has continued at least once, then query and signal the current run through the same id.
    const deadline = Date.now() + 300_000;
    while ((await handle.describe()).runId === firstRunId) {
      if (Date.now() > deadline) throw new Error('the executor never continued as new');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const progress = await handle.query(executorProgressQuery);
    expect(progress.step).toBeGreaterThan(20);
    await handle.signal(interruptSignal, { message: 'still counting?' });

    const result = (await resultOf(handle)) as ExecutorResult;
    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'done', steps: STEPS }));
    // The result keeps the latest TOOL_CALL_RECORDS records (a bounded payload) and counts them all.
    expect(result.toolCalls).toHaveLength(TOOL_CALL_RECORDS);
    expect(result.toolCallCount).toBe(STEPS - 1);
    expect(model.requests.some((req) => req.text.includes('still counting?'))).toBe(true);

    const runs: string[] = [];
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) {
      runs.push(execution.runId);
    }
    expect(runs.length).toBeGreaterThan(3);
    // No run grew past what continue-as-new allows: each history stayed small.
    const last = await handle.describe();
    expect(last.historyLength).toBeLessThan(1_000);
  });
});

describe('a long planner run', () => {
  it('runs to the end through 50 automatic replans, answering progress throughout', async () => {
    const tandem = await startTandem();
    try {
      const REPLANS = 50;
      const missed = reply.json({ met: false, reason: 'not yet: try again' });
      const met = reply.json({ met: true, reason: 'done at last' });
      // Each plan differs from the last: a replan that repeats the plan that just failed is refused (docs/budgets.md).
      let plans = 0;
      tandem.model
        .on(
          match.responseFormat('plan'),
          () => {
            plans += 1;
            const instructions = `Try once more (attempt ${plans}).`;
            return reply.json({
              subtasks: [{ id: 's1', title: 'Try', instructions, milestone: 'met', dependsOn: [] }],
            });
          },
          { repeatLast: true },
        )
        .on(match.responseFormat('verdict'), [...Array.from({ length: REPLANS }, () => missed), met], {
          repeatLast: true,
        })
        .on(match.systemContains('final report'), reply.text('Report.'), { repeatLast: true })
        .on(match.hasTools(), reply.text('an attempt'), { repeatLast: true });
      const handle = await tandem.startPlanner('fifty-replans', { goal: 'Keep trying', maxReplans: REPLANS + 5 });
      await tandem.model.waitForRequests(REPLANS / 2, { match: match.responseFormat('verdict'), timeoutMs: 300_000 });
      expect((await handle.query(progressQuery)).planVersion).toBeGreaterThan(REPLANS / 4);

      const result = await resultOf(handle);
      expect(result).toEqual(expect.objectContaining({ ok: true, planVersion: REPLANS + 1 }));
      expect(result.replans).toHaveLength(REPLANS);
      const description = await handle.describe();
      // Far from the 51,200-event and 50 MiB limits (and from the 4,096-event continue-as-new suggestion).
      expect(description.historyLength).toBeLessThan(4_096);
    } finally {
      await tandem.stop();
    }
  });
});
