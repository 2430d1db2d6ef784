/**
 * Faults on purpose: a worker SIGKILLed mid-step and a dev server restarted mid-run. Slow (each waits out a heartbeat
 * timeout), so `npm run test:quick` leaves this file out.
 */
import { Client, Connection } from '@temporalio/client';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { workspaceDir } from '../activities/run-tool';
import { loadConfig } from '../node/config';
import { DEMO_EXPRESSION, scriptDemo } from '../dev/demo-model';
import { startDevServer } from '../dev/dev-server';
import { startGoal } from '../client/goals';
import type { ExecutorInput, ExecutorResult } from '../common/types';
import { match, reply, startScriptedModel, type RecordedRequest, type ScriptedModel } from '../dev/scripted-model';
import { startWorkerProcess, type WorkerProcess } from '../dev/worker-process';
import { resultOf } from './helpers/tandem';

jest.setTimeout(240_000);

const s1Answer = match.and(match.purpose('step', 's1'), match.lastRole('tool'));

/** The demo plan, with s1's final answer slow the first time so a fault can land in the middle of that LLM call. */
function scriptSlowDemo(model: ScriptedModel): void {
  model.on(s1Answer, [
    reply.slow(10_000, reply.text(`${DEMO_EXPRESSION} = 395`)),
    reply.text(`${DEMO_EXPRESSION} = 395`),
  ]);
  scriptDemo(model);
}

/** No completed model call was made twice: every answered request has a different conversation. */
function expectNoRepeatedCompletedCall(requests: RecordedRequest[]): void {
  const completed = requests.filter((req) => !req.clientAborted).map((req) => JSON.stringify(req.body.messages));
  expect(new Set(completed).size).toBe(completed.length);
}

/** Tool calls an executor's history records: `runTool` activities, and local activities (the calculator's). */
async function runToolSchedules(client: Client, workflowId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter(
    (event) =>
      event.activityTaskScheduledEventAttributes?.activityType?.name === 'runTool' ||
      event.markerRecordedEventAttributes?.markerName === 'core_local_activity',
  ).length;
}

describe('durability', () => {
  let model: ScriptedModel;
  let workers: WorkerProcess[] = [];
  const taskQueue = () => `durable-${process.pid}-${workers.length}`;

  beforeEach(async () => {
    model = await startScriptedModel();
    workers = [];
  });
  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    await model.close();
  });

  it('finishes a goal after its worker is SIGKILLed during a slow LLM call, without repeating a completed call', async () => {
    scriptSlowDemo(model);
    const queue = taskQueue();
    const env = { TANDEM_TASK_QUEUE: queue, OPENAI_BASE_URL: model.baseURL, OPENAI_API_KEY: 'sk-durable' };
    workers.push(await startWorkerProcess(env));
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    const client = new Client({ connection });
    const id = `killed-${Date.now()}`;
    const handle = await startGoal(client, { goal: 'Compute and save', id, taskQueue: queue });

    await model.waitForRequests(1, { match: s1Answer, timeoutMs: 60_000 });
    await workers[0].kill('SIGKILL');
    workers.push(await startWorkerProcess(env));
    const result = await resultOf(handle);

    expect(result.ok).toBe(true);
    expect(await fs.readFile(path.join(workspaceDir(loadConfig().workspaceRoot, id), 'answer.txt'), 'utf8')).toBe(
      '395\n',
    );
    const killedCall = model.requestsMatching(s1Answer);
    expect(killedCall).toHaveLength(2);
    expect(killedCall[0].clientAborted).toBe(true);
    expect(model.requestsMatching(match.responseFormat('plan'))).toHaveLength(1);
    expectNoRepeatedCompletedCall(model.requests);
    expect(await runToolSchedules(client, `${id}.v1.s1`)).toBe(1);
    expect(await runToolSchedules(client, `${id}.v1.s2`)).toBe(1);
    await connection.close();
  });

  it('finishes an executor whose worker is SIGKILLed during a slow tool call, without repeating its file write', async () => {
    // A slow page: the http_get activity is in flight when the worker dies, and is retried on the next worker.
    let pageRequests = 0;
    const page = http.createServer((_req, res) => {
      pageRequests += 1;
      setTimeout(() => res.end('the page'), 6_000);
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(page.address() as AddressInfo).port}/page`;
    model.on(
      match.lastRole('user'),
      reply.toolCalls([
        { name: 'write_file', arguments: { path: 'once.txt', content: 'written once' } },
        { name: 'http_get', arguments: { url } },
      ]),
    );
    model.on(match.lastRole('tool'), reply.text('fetched'));
    const queue = taskQueue();
    const env = {
      TANDEM_TASK_QUEUE: queue,
      OPENAI_BASE_URL: model.baseURL,
      TANDEM_HTTP_ALLOW: `127.0.0.1:${(page.address() as AddressInfo).port}`,
    };
    workers.push(await startWorkerProcess(env));
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    const client = new Client({ connection });
    const id = `tool-killed-${Date.now()}`;
    const input: ExecutorInput = {
      subtask: { id: 't1', title: 'Fetch', instructions: 'Write and fetch.', milestone: 'done', dependsOn: [] },
      workspace: id,
      tools: ['write_file', 'http_get'],
    };
    const handle = await client.workflow.start('executorWorkflow', { taskQueue: queue, workflowId: id, args: [input] });

    while (pageRequests === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    await workers[0].kill('SIGKILL');
    workers.push(await startWorkerProcess(env));
    const result = (await resultOf(handle)) as ExecutorResult;
    page.close();

    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'fetched' }));
    expect(pageRequests).toBe(2);
    expect(await fs.readFile(path.join(workspaceDir(loadConfig().workspaceRoot, id), 'once.txt'), 'utf8')).toBe(
      'written once',
    );
    expect(await runToolSchedules(client, id)).toBe(2);
    const lastRequest = model.requestsMatching(match.lastRole('tool'))[0];
    expect(lastRequest.text).toContain('the page');
    expectNoRepeatedCompletedCall(model.requests);
    await connection.close();
  });

  it('finishes a goal when the dev server is stopped and started again on the same database mid-run', async () => {
    scriptSlowDemo(model);
    const dbFile = path.join(process.env.TANDEM_TEST_STATE_DIR ?? '.', `restart-${Date.now()}.db`);
    let server = await startDevServer({ port: 0, uiPort: 0, dbFile, headless: true });
    const port = Number(server.address.split(':').at(-1));
    const queue = taskQueue();
    workers.push(
      await startWorkerProcess({
        TANDEM_TASK_QUEUE: queue,
        TEMPORAL_ADDRESS: server.address,
        OPENAI_BASE_URL: model.baseURL,
      }),
    );
    const id = `restart-${Date.now()}`;
    let connection = await Connection.connect({ address: server.address });
    await startGoal(new Client({ connection }), { goal: 'Compute and save', id, taskQueue: queue });
    await model.waitForRequests(1, { match: s1Answer, timeoutMs: 60_000 });
    await connection.close();

    await server.stop();
    server = await startDevServer({ port, uiPort: 0, dbFile, headless: true });
    try {
      connection = await Connection.connect({ address: server.address });
      const result = await resultOf(new Client({ connection }).workflow.getHandle(id));
      expect(result.ok).toBe(true);
      expect(await fs.readFile(path.join(workspaceDir(loadConfig().workspaceRoot, id), 'answer.txt'), 'utf8')).toBe(
        '395\n',
      );
      expect(model.requestsMatching(match.responseFormat('plan'))).toHaveLength(1);
      expectNoRepeatedCompletedCall(model.requests);
      await connection.close();
    } finally {
      await Promise.all(workers.map((worker) => worker.kill()));
      await server.stop();
    }
  });
});
