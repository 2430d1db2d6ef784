/**
 * Side-effecting tool calls whose outcome may be unknown (issue 19, item 1; docs/delivery.md), on one in-process
 * worker: an attempt that sent nothing lets the retry run the call; a call that may have run warns the approver of
 * the next call of that tool. The two-worker SIGKILL cases are in test/delivery.slow.test.ts.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decideApprovalUpdate, executorProgressQuery } from '../common/contract';
import { match, type RecordedRequest, reply } from '../dev/scripted-model';
import { eventually } from './helpers/history';
import { fixtureStdio, mcpConfig } from './helpers/mcp-servers';
import { startTandem, type Tandem } from './helpers/tandem';

jest.setTimeout(120_000);

function toolMessages(req: RecordedRequest): string[] {
  return req.messages.filter((message) => message.role === 'tool').map((message) => String(message.content));
}

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'tandem-delivery-'));
}

function killFirstServer(pidFile: string): void {
  const [pid] = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
  process.kill(pid, 'SIGKILL');
}

describe('tool call delivery', () => {
  let tandem: Tandem;
  afterEach(async () => {
    await tandem.stop();
  });

  it('runs an at-most-once call on the retry when the attempt before it could not start its server', async () => {
    tandem = await startTandem();
    const dir = await tempDir();
    const ledger = path.join(dir, 'ledger');
    const pidFile = path.join(dir, 'pids');
    // Start 1 answers discovery; it is killed before the call, whose restart (start 2) fails: nothing was sent.
    tandem.config.mcp = mcpConfig(fixtureStdio('fixture', { FIXTURE_LEDGER: ledger }, { pidFile, failStart: 2 }));
    tandem.model.on(match.any, [
      () => {
        killFirstServer(pidFile);
        return reply.toolCall('fixture__append_line', { line: 'pay invoice 42' });
      },
      reply.text('paid'),
    ]);
    const run = await tandem.startExecutor(tandem.goalId('delivery-not-sent'));
    const result = await run.result();

    expect(toolMessages(tandem.model.requests[1])).toEqual(['appended']);
    expect(result.toolCalls).toEqual([expect.objectContaining({ name: 'fixture__append_line', ok: true })]);
    expect(await fs.readFile(ledger, 'utf8')).toBe('pay invoice 42\n');
    const history = await tandem.client.workflow.getHandle(run.workflowId).fetchHistory();
    const attempts = (history.events ?? []).flatMap((event) => event.activityTaskStartedEventAttributes?.attempt ?? []);
    expect(attempts).toEqual([1, 1, 2, 1]); // discovery, model, the call's second attempt, model
  });

  it('warns the approver of a call whose earlier call of the same tool may already have run', async () => {
    tandem = await startTandem();
    tandem.config.mcp = mcpConfig(fixtureStdio());
    tandem.model.on(match.any, [
      reply.toolCall('fixture__crash', {}),
      reply.toolCall('fixture__crash', {}),
      reply.text('gave up'),
    ]);
    const workflowId = tandem.goalId('delivery-approval');
    const { handle } = await tandem.startExecutor(workflowId, { approval: { tools: ['fixture__crash'] } });
    const held = async (step: number) =>
      eventually(async () => {
        const pending = (await handle.query(executorProgressQuery)).pendingApprovals;
        return pending.find((approval) => approval.callId.startsWith(`${workflowId}:${step}:`));
      }, `the held call of step ${step}`);

    const first = await held(1);
    expect(first.warning).toBeUndefined();
    await handle.executeUpdate(decideApprovalUpdate, { args: [{ callId: first.callId, approve: true }] });
    const second = await held(2);
    expect(second.warning).toBe(
      'a call of fixture__crash at step 1 ({}) may already have run; check before approving this one',
    );
    await handle.executeUpdate(decideApprovalUpdate, { args: [{ callId: second.callId, approve: false }] });
    const result = await handle.result();

    expect(toolMessages(tandem.model.requests[1])[0]).toMatch(
      /so this call may already have run; check before repeating it$/,
    );
    expect(result.toolCalls.map((call) => [call.ok, call.outcomeUnknown])).toEqual([
      [false, true],
      [false, undefined],
    ]);
  });
});
