/**
 * The `append_line` case of issue 19: two `tandem worker` processes, an MCP tool that appends to a ledger and then
 * takes 8 s, and the worker making the call SIGKILLed mid-call. Slow: the retry waits out the 10 s heartbeat timeout.
 */
import { Client, Connection } from '@temporalio/client';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { McpToolName } from '../common/mcp';
import type { ExecutorInput, ExecutorResult } from '../common/types';
import { match, reply, startScriptedModel, type ScriptedModel } from '../dev/scripted-model';
import { eventually } from './helpers/history';
import { fixtureStdio } from './helpers/mcp-servers';
import { startWorkerProcess, type WorkerProcess } from '../dev/worker-process';

jest.setTimeout(240_000);

describe('tool call delivery across a worker crash', () => {
  let model: ScriptedModel;
  let workers: WorkerProcess[];
  let connection: Connection;
  let dir: string;

  beforeEach(async () => {
    model = await startScriptedModel();
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-ledger-'));
    workers = [];
  });
  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    await connection.close();
    await model.close();
  });

  /**
   * Two workers on one queue, both with the fixture server (writing one ledger, 8 s per call); runs `tool` once, kills
   * the worker whose server logged the call, and returns the result and what the ledger and the call log hold.
   */
  async function callThroughCrash(
    tool: McpToolName,
  ): Promise<{ result: ExecutorResult; ledger: string; calls: string[] }> {
    const ledger = path.join(dir, 'ledger');
    const callLog = path.join(dir, 'calls');
    const server = fixtureStdio('fixture', {
      FIXTURE_LEDGER: ledger,
      FIXTURE_DELAY_MS: '8000',
      FIXTURE_CALL_LOG: callLog,
    });
    const configFile = path.join(dir, 'mcp.json');
    await fs.writeFile(
      configFile,
      JSON.stringify({ mcpServers: { fixture: { command: server.command, args: server.args, env: server.env } } }),
    );
    model.on(match.lastRole('user'), reply.toolCall(tool, { line: 'pay invoice 42' }));
    model.on(match.lastRole('tool'), reply.text('settled'));
    const queue = `ledger-${process.pid}-${Date.now()}`;
    const env = { TANDEM_TASK_QUEUE: queue, OPENAI_BASE_URL: model.baseURL, TANDEM_MCP_CONFIG: configFile };
    workers.push(await startWorkerProcess(env), await startWorkerProcess(env));
    const id = `ledger-${tool.replace(/_/g, '-')}-${Date.now()}`;
    const input: ExecutorInput = {
      subtask: { id: 't1', title: 'Pay', instructions: 'Record the payment.', milestone: 'done', dependsOn: [] },
      workspace: id,
      tools: [tool],
    };
    const client = new Client({ connection });
    const handle = await client.workflow.start('executorWorkflow', { taskQueue: queue, workflowId: id, args: [input] });

    const caller = await eventually(async () => {
      const [first] = (await fs.readFile(callLog, 'utf8').catch(() => '')).trim().split('\n');
      return first ? Number(first.split(' ')[0]) : undefined;
    }, 'the first call');
    const victim = workers.find((worker) => worker.child.pid === caller);
    if (!victim)
      throw new Error(`no worker has pid ${caller}: ${workers.map((worker) => worker.child.pid).join(', ')}`);
    await victim.kill('SIGKILL');

    const result = (await handle.result()) as ExecutorResult;
    return {
      result,
      ledger: await fs.readFile(ledger, 'utf8'),
      calls: (await fs.readFile(callLog, 'utf8')).trim().split('\n'),
    };
  }

  it('does not append again on the other worker, and tells the model the call may already have run', async () => {
    const { result, ledger, calls } = await callThroughCrash('fixture__append_line');

    expect(ledger).toBe('pay invoice 42\n');
    expect(calls).toHaveLength(1);
    const observation = model
      .requestsMatching(match.lastRole('tool'))[0]
      .messages.filter((message) => message.role === 'tool')
      .map((message) => String(message.content));
    expect(observation).toEqual([
      'fixture__append_line: attempt 1 of this call was lost before it reported an outcome (its worker stopped or it ' +
        'timed out), so this call may already have run; check before repeating it',
    ]);
    expect(result.toolCalls).toEqual([
      expect.objectContaining({ name: 'fixture__append_line', ok: false, outcomeUnknown: true }),
    ]);
  });

  it('runs an idempotent tool (idempotentHint) again on the other worker, with one line in the ledger', async () => {
    const { result, ledger, calls } = await callThroughCrash('fixture__put_line');

    expect(ledger).toBe('pay invoice 42\n');
    expect(calls).toHaveLength(2);
    expect(new Set(calls.map((call) => call.split(' ')[0])).size).toBe(2);
    expect(result.toolCalls).toEqual([expect.objectContaining({ name: 'fixture__put_line', ok: true })]);
    expect(result.toolCalls[0].outcomeUnknown).toBeUndefined();
  });
});
