/**
 * MCP as the specification and the SDK intend it (issue 19, item 4): progress resets the timeout, a session lost by a
 * server restart is made again, a huge answer is an observation, and error results, tool-list changes and a server
 * that dies mid-call each end as an observation the model can act on. Real servers: server-everything from npm and
 * the SDK-built fixture server (test/helpers/mcp-fixture-server.ts).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { match, type RecordedRequest, reply } from '../dev/scripted-model';
import { activitySummaries, eventually } from './helpers/history';
import { everythingStdio, fixtureStdio, mcpConfig, startEverythingHttp } from './helpers/mcp-servers';
import { startTandem, type Tandem } from './helpers/tandem';

jest.setTimeout(120_000);

function toolMessages(req: RecordedRequest): string[] {
  return req.messages.filter((message) => message.role === 'tool').map((message) => String(message.content));
}

async function runToolCount(tandem: Tandem, workflowId: string): Promise<number> {
  return (await activitySummaries(tandem.client, workflowId)).filter(([type]) => type === 'runTool').length;
}

describe('MCP protocol behaviour', () => {
  let tandem: Tandem;
  afterEach(async () => {
    await tandem.stop();
  });

  it('sends a progressToken, so a 7 s tool reporting progress finishes under a 3 s timeout, started once', async () => {
    tandem = await startTandem();
    tandem.config.mcp = mcpConfig(everythingStdio());
    tandem.model.on(match.any, [
      () => {
        tandem.config.mcp.timeoutMs = 3_000; // after discovery, which a busy machine may make slow
        return reply.toolCall('everything__trigger-long-running-operation', { duration: 7, steps: 7 });
      },
      reply.text('finished'),
    ]);
    const run = await tandem.startExecutor(tandem.goalId('mcp-progress'));
    // Temporal sees the call alive and how far it is: the latest progress is in the activity's heartbeat details.
    const details = await eventually(async () => {
      const { raw } = await run.handle.describe();
      const pending = raw.pendingActivities?.find((activity) => activity.activityType?.name === 'runTool');
      const payload = pending?.heartbeatDetails?.payloads?.[0];
      return payload?.data ? JSON.parse(Buffer.from(payload.data).toString('utf8')) : undefined;
    }, 'progress in the heartbeat details');
    expect(details).toEqual({ progress: expect.objectContaining({ progress: expect.any(Number), total: 7 }) });
    const result = await run.result();

    expect(toolMessages(tandem.model.requests[1])).toEqual([
      'Long running operation completed. Duration: 7 seconds, Steps: 7.',
    ]);
    expect(result.toolCalls.map((call) => call.ok)).toEqual([true]);
    expect(await runToolCount(tandem, run.workflowId)).toBe(1);
  });

  it('ends a call with no answer and no progress within the timeout as one observation, not a retry storm', async () => {
    tandem = await startTandem();
    tandem.config.mcp = mcpConfig(fixtureStdio());
    tandem.model.on(match.any, [
      () => {
        // Short only once discovery is done: starting the server under tsx on a busy machine can take longer.
        tandem.config.mcp.timeoutMs = 1_500;
        return reply.toolCall('fixture__slow', { ms: 6_000 });
      },
      reply.text('gave up'),
    ]);
    const run = await tandem.startExecutor(tandem.goalId('mcp-timeout'));
    await run.result();

    const [observation] = toolMessages(tandem.model.requests[1]);
    expect(observation).toMatch(/^fixture__slow: no answer within 1500 ms .*TANDEM_MCP_TIMEOUT_MS/);
    expect(observation).not.toMatch(/unavailable/);
    const history = await tandem.client.workflow.getHandle(run.workflowId).fetchHistory();
    const attempts = (history.events ?? []).flatMap((event) => event.activityTaskStartedEventAttributes?.attempt ?? []);
    expect(attempts).toEqual([1, 1, 1, 1]); // discovery, model, the tool once, model
  });

  it('makes a new session when the HTTP server restarted between calls (it answers 400 to the old session id)', async () => {
    tandem = await startTandem();
    let server = await startEverythingHttp();
    const port = new URL(server.url).port;
    tandem.config.mcp = mcpConfig({ name: 'remote', transport: 'http', url: server.url, headers: {} });
    try {
      tandem.model.on(match.any, [reply.toolCall('remote__echo', { message: 'before' }), reply.text('echoed')]);
      await (await tandem.startExecutor(tandem.goalId('mcp-session-1'))).result();
      // The worker keeps its connection (and session id) between runs; the restarted server knows none of them.
      await server.stop();
      server = await startEverythingHttp({ port: Number(port) });
      tandem.model.on(match.any, [
        // Two calls at once on the forgotten session: both are refused, and one new session serves both.
        reply.toolCalls([
          { name: 'remote__echo', arguments: { message: 'after' } },
          { name: 'remote__echo', arguments: { message: 'also' } },
        ]),
        reply.toolCall('remote__echo', { message: 'later' }),
        reply.text('all echoed'),
      ]);
      const run = await tandem.startExecutor(tandem.goalId('mcp-session-2'));
      const result = await run.result();
      expect(result.toolCalls.map((call) => call.ok)).toEqual([true, true, true]);
      expect(toolMessages(tandem.model.requests.at(-1)!)).toEqual(['Echo: after', 'Echo: also', 'Echo: later']);
      expect(await runToolCount(tandem, run.workflowId)).toBe(3);
    } finally {
      await server.stop();
    }
  });

  it('stores an 11 MiB answer by reference and shows it trimmed, with the server started once', async () => {
    tandem = await startTandem();
    const pidFile = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-mcp-')), 'pids');
    tandem.config.mcp = mcpConfig(fixtureStdio('fixture', {}, { pidFile }));
    tandem.model.on(match.any, [reply.toolCall('fixture__huge', { bytes: 11 * 1024 * 1024 }), reply.text('read it')]);
    const run = await tandem.startExecutor(tandem.goalId('mcp-huge'));
    const result = await run.result();

    const [observation] = toolMessages(tandem.model.requests[1]);
    expect(observation).toMatch(/\[trimmed: showing the first \d+ of 11534336 characters; the full output is stored/);
    expect(result.toolCalls[0]).toEqual(expect.objectContaining({ ok: true, outputRef: expect.any(String) }));
    expect((await tandem.store.get(result.toolCalls[0].outputRef!)).length).toBe(11 * 1024 * 1024);
    expect((await fs.readFile(pidFile, 'utf8')).trim().split('\n')).toHaveLength(1);
    expect(await runToolCount(tandem, run.workflowId)).toBe(1);
  });

  it('tells the model an answer over TANDEM_MCP_MAX_RESULT_BYTES was too large, without restarting or asking again', async () => {
    tandem = await startTandem();
    const pidFile = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-mcp-')), 'pids');
    tandem.config.mcp = { ...mcpConfig(fixtureStdio('fixture', {}, { pidFile })), maxResultBytes: 1024 * 1024 };
    tandem.model.on(match.any, [
      reply.toolCall('fixture__huge', { bytes: 3 * 1024 * 1024 }),
      reply.toolCall('fixture__huge', { bytes: 10 }),
      reply.text('done'),
    ]);
    const run = await tandem.startExecutor(tandem.goalId('mcp-too-large'));
    const result = await run.result();

    expect(toolMessages(tandem.model.requests[1])).toEqual([
      'fixture__huge ran, but its result was larger than 1048576 bytes (TANDEM_MCP_MAX_RESULT_BYTES), so it was ' +
        'dropped; ask the tool for less (a narrower query, a page)',
    ]);
    expect(toolMessages(tandem.model.requests[2])[1]).toBe('xxxxxxxxxx');
    expect(result.toolCalls.map((call) => call.ok)).toEqual([false, true]);
    expect(await runToolCount(tandem, run.workflowId)).toBe(2);
    // The first server was closed for the oversized answer; the second call started one more, and nothing else did.
    expect((await fs.readFile(pidFile, 'utf8')).trim().split('\n')).toHaveLength(2);
  });

  it('passes an isError result to the model as a failed call, and the run goes on', async () => {
    tandem = await startTandem();
    tandem.config.mcp = mcpConfig(fixtureStdio());
    tandem.model.on(match.any, [reply.toolCall('fixture__locked', {}), reply.text('it is locked')]);
    const result = await (await tandem.startExecutor(tandem.goalId('mcp-is-error'))).result();

    expect(toolMessages(tandem.model.requests[1])).toEqual([
      'fixture__locked failed: the ledger is locked by another user',
    ]);
    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'it is locked' }));
    expect(result.toolCalls.map((call) => call.ok)).toEqual([false]);
  });

  it('keeps a run to its recorded tools after tools/list_changed, and offers the new tool to the next run', async () => {
    tandem = await startTandem();
    tandem.config.mcp = mcpConfig(fixtureStdio());
    tandem.model.on(match.any, [
      reply.toolCall('fixture__add_tool', {}),
      reply.toolCall('fixture__added', {}),
      reply.text('first run done'),
    ]);
    const first = await (await tandem.startExecutor(tandem.goalId('mcp-list-changed-1'))).result();
    expect(toolMessages(tandem.model.requests[1])).toEqual(['added the tool "added"']);
    expect(toolMessages(tandem.model.requests[2])[1]).toMatch(/fixture__added/);
    expect(first.toolCalls.map((call) => call.ok)).toEqual([true, false]);
    expect(tandem.model.requests[0].toolNames).not.toContain('fixture__added');

    // A new server process has only the tools it starts with; the point is that discovery asks again per run.
    tandem.model.on(match.any, [reply.toolCall('fixture__slow', { ms: 1 }), reply.text('second run done')]);
    const second = await (await tandem.startExecutor(tandem.goalId('mcp-list-changed-2'))).result();
    expect(second.ok).toBe(true);
    expect(tandem.model.requests[3].toolNames).toEqual(expect.arrayContaining(['fixture__add_tool', 'fixture__slow']));
  });

  it('tells the model a side-effecting call whose server died mid-call may already have run, and does not repeat it', async () => {
    tandem = await startTandem();
    const pidFile = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-mcp-')), 'pids');
    tandem.config.mcp = mcpConfig(fixtureStdio('fixture', {}, { pidFile }));
    tandem.model.on(match.any, [
      reply.toolCall('fixture__crash', {}),
      reply.toolCall('fixture__slow', { ms: 1 }),
      reply.text('checked'),
    ]);
    const run = await tandem.startExecutor(tandem.goalId('mcp-crash'));
    const result = await run.result();

    expect(toolMessages(tandem.model.requests[1])[0]).toMatch(
      /^fixture__crash: the MCP server "fixture" went away during it \(.*\), so this call may already have run; check before repeating it$/,
    );
    expect(toolMessages(tandem.model.requests[2])[1]).toBe('slow done');
    expect(result.toolCalls.map((call) => call.ok)).toEqual([false, true]);
    expect(await runToolCount(tandem, run.workflowId)).toBe(2);
    // Started for the crash, restarted once for the next call: the crashed call was not sent again.
    expect((await fs.readFile(pidFile, 'utf8')).trim().split('\n')).toHaveLength(2);
  });
});
