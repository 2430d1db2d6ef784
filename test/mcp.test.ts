import { Worker } from '@temporalio/worker';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { executorProgressQuery } from '../common/contract';
import { match, type RecordedRequest, reply } from '../dev/scripted-model';
import { runCli } from './helpers/cli';
import { activitySummaries, historyText } from './helpers/history';
import { everythingStdio, filesystemStdio, mcpConfig, startEverythingHttp } from './helpers/mcp-servers';
import { startTandem, type Tandem } from './helpers/tandem';
import { replayWorkerOptions } from '../worker/worker';

function toolMessages(req: RecordedRequest): string[] {
  return req.messages.filter((message) => message.role === 'tool').map((message) => String(message.content));
}

describe('MCP tools (real servers from npm, on a real dev server)', () => {
  let tandem: Tandem;
  afterEach(async () => {
    await tandem.stop();
  });

  it("offers each MCP tool as <server>__<tool> with the server's description and schema, one runTool per call", async () => {
    tandem = await startTandem();
    tandem.config.mcp = mcpConfig(everythingStdio());
    tandem.model.on(match.any, [
      reply.toolCall('everything__echo', { message: 'hello' }),
      reply.toolCall('everything__get-sum', { a: 'two', b: 3 }),
      reply.text('echoed'),
    ]);
    const run = await tandem.startExecutor(tandem.goalId('mcp-echo'));
    const result = await run.result();

    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'echoed', steps: 3 }));
    const [first, second, third] = tandem.model.requests;
    expect(first.toolNames).toEqual(expect.arrayContaining(['calculator', 'escalate', 'everything__echo']));
    const echo = first.body.tools!.find((tool) => tool.function?.name === 'everything__echo')!.function!;
    expect(echo.description).toBe('Echoes back the input string');
    expect(echo.parameters).toEqual(
      expect.objectContaining({
        type: 'object',
        properties: { message: { type: 'string', description: 'Message to echo' } },
        required: ['message'],
      }),
    );
    expect(toolMessages(second)).toEqual(['Echo: hello']);
    // An MCP error result (arguments the server's schema refuses) is an observation, and the run goes on.
    expect(toolMessages(third)[1]).toMatch(/^everything__get-sum failed: .*(number|invalid)/i);
    expect(result.toolCalls.map((call) => [call.name, call.ok])).toEqual([
      ['everything__echo', true],
      ['everything__get-sum', false],
    ]);
    expect(await activitySummaries(tandem.client, run.workflowId)).toEqual([
      ['discoverTools', 'discover MCP tools'],
      ['callModel', 'LLM step 1'],
      ['runTool', 'everything__echo hello'],
      ['callModel', 'LLM step 2'],
      ['runTool', 'everything__get-sum two'],
      ['callModel', 'LLM step 3'],
    ]);
    const progress = await run.handle.query(executorProgressQuery);
    expect(progress.mcpTools).toEqual(
      expect.arrayContaining([{ name: 'everything__echo', server: 'everything', tool: 'echo', sideEffects: false }]),
    );
  });

  it('never lets a value of the config env reach history, even when the server prints its environment', async () => {
    tandem = await startTandem();
    tandem.config.observationLimit = 200_000;
    tandem.config.mcp = mcpConfig(everythingStdio('everything', { env: { SECRET_TOKEN: 'mcp-env-secret-4711' } }));
    tandem.model.on(match.any, [reply.toolCall('everything__get-env', {}), reply.text('done')]);
    const run = await tandem.startExecutor(tandem.goalId('mcp-env'));
    await run.result();

    const observation = toolMessages(tandem.model.requests[1])[0];
    expect(observation).toContain('"SECRET_TOKEN": "[redacted]"');
    expect(await historyText(tandem.client, run.workflowId)).not.toContain('mcp-env-secret-4711');
    expect(JSON.stringify(tandem.model.requests)).not.toContain('mcp-env-secret-4711');
  });

  it('restarts a stdio server that died between calls and makes the call on the new one', async () => {
    tandem = await startTandem();
    const pidFile = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-mcp-')), 'pids');
    tandem.config.mcp = mcpConfig(everythingStdio('everything', { pidFile }));
    tandem.model.on(match.any, [
      reply.toolCall('everything__echo', { message: 'first' }),
      () => {
        // The server that answered the first call is killed before the model asks for the second.
        const [pid] = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
        process.kill(pid, 'SIGKILL');
        return reply.toolCall('everything__echo', { message: 'second' });
      },
      reply.text('both echoed'),
    ]);
    const result = await (await tandem.startExecutor(tandem.goalId('mcp-restart'))).result();

    expect(result.toolCalls.map((call) => call.ok)).toEqual([true, true]);
    expect(toolMessages(tandem.model.requests[2])).toEqual(['Echo: first', 'Echo: second']);
    const pids = (await fs.readFile(pidFile, 'utf8')).trim().split('\n');
    expect(pids).toHaveLength(2);
  });

  it('calls a streamable HTTP server with the configured headers, which stay out of history', async () => {
    const server = await startEverythingHttp();
    try {
      tandem = await startTandem();
      tandem.config.mcp = mcpConfig({
        name: 'remote',
        transport: 'http',
        url: server.url,
        headers: { Authorization: 'Bearer mcp-header-secret-0815' },
      });
      tandem.model.on(match.any, [reply.toolCall('remote__echo', { message: 'over http' }), reply.text('done')]);
      const run = await tandem.startExecutor(tandem.goalId('mcp-http'), { tools: ['remote__echo'] });
      const result = await run.result();

      expect(result.ok).toBe(true);
      // The subtask named one MCP tool: that one is offered, with escalate, and nothing else.
      expect(tandem.model.requests[0].toolNames).toEqual(['escalate', 'remote__echo']);
      expect(toolMessages(tandem.model.requests[1])).toEqual(['Echo: over http']);
      expect(await historyText(tandem.client, run.workflowId)).not.toContain('mcp-header-secret-0815');
    } finally {
      await server.stop();
    }
  });

  it('calls an HTTP server whose URL carries user:password and ?token=, neither of which reaches history', async () => {
    const server = await startEverythingHttp();
    try {
      tandem = await startTandem();
      const url = `${server.url.replace('http://', 'http://tandem:pw-url-secret-4711@')}?token=tok-url-secret-4712`;
      tandem.config.mcp = mcpConfig({ name: 'remote', transport: 'http', url, headers: {} });
      tandem.model.on(match.any, [reply.toolCall('remote__echo', { message: 'with credentials' }), reply.text('ok')]);
      const run = await tandem.startExecutor(tandem.goalId('mcp-url-credentials'), { tools: ['remote__echo'] });
      const result = await run.result();

      expect(result.ok).toBe(true);
      expect(toolMessages(tandem.model.requests[1])).toEqual(['Echo: with credentials']);
      const history = await historyText(tandem.client, run.workflowId);
      expect(history).not.toContain('pw-url-secret-4711');
      expect(history).not.toContain('tok-url-secret-4712');
    } finally {
      await server.stop();
    }
  });

  it("runs a filesystem server per workspace, rooted at the goal's workspace (${workspace})", async () => {
    tandem = await startTandem();
    tandem.config.mcp = mcpConfig(filesystemStdio());
    tandem.model.on(match.any, [
      reply.toolCall('files__write_file', { path: 'mcp.txt', content: 'written over MCP' }),
      reply.toolCall('files__list_allowed_directories', {}),
      reply.text('saved'),
    ]);
    const run = await tandem.startExecutor(tandem.goalId('mcp-files'));
    const result = await run.result();

    expect(result.toolCalls.map((call) => [call.name, call.ok])).toEqual([
      ['files__write_file', true],
      ['files__list_allowed_directories', true],
    ]);
    const workspace = tandem.workspaceDir(run.workflowId);
    expect(await fs.readFile(path.join(workspace, 'mcp.txt'), 'utf8')).toBe('written over MCP');
    expect(toolMessages(tandem.model.requests[2])[1]).toContain(await fs.realpath(workspace));
  });

  it('replays an executor that used MCP tools after the server changed its tool list', async () => {
    // No workflow cache: every workflow task replays the history from the start, as after a worker restart.
    tandem = await startTandem({ workerOptions: { maxCachedWorkflows: 0 } });
    tandem.config.mcp = mcpConfig(everythingStdio());
    tandem.model.on(match.any, [
      reply.toolCall('everything__echo', { message: 'before' }),
      () => {
        // The server named "everything" now lists other tools (it is a filesystem server).
        tandem.config.mcp = mcpConfig({ ...filesystemStdio(), name: 'everything' });
        return reply.toolCall('everything__echo', { message: 'after' });
      },
      reply.text('done'),
    ]);
    const run = await tandem.startExecutor(tandem.goalId('mcp-replay'));
    const result = await run.result();

    // Every step offered the tools the run discovered, although the server lists other tools by then.
    const offered = tandem.model.requests.map((req) => req.toolNames);
    expect(offered[1]).toEqual(offered[0]);
    expect(offered[2]).toEqual(offered[0]);
    expect(offered[0]).toContain('everything__echo');
    expect(offered[0]).not.toContain('everything__read_text_file');
    // The call went to the changed server, which has no `echo`: that is an observation, not a broken run.
    expect(result.toolCalls.map((call) => [call.name, call.ok])).toEqual([
      ['everything__echo', true],
      ['everything__echo', false],
    ]);
    await Worker.runReplayHistory(
      replayWorkerOptions(process.env.TANDEM_TEST_BUNDLE!),
      await run.handle.fetchHistory(),
      run.workflowId,
    );
  });

  it('lists built-in and MCP tools with `tandem tools --json`', async () => {
    tandem = await startTandem();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-mcp-'));
    const file = path.join(dir, 'mcp.json');
    const { args, env } = everythingStdio('everything', { env: { SECRET_TOKEN: 'cli-secret-1234' } });
    await fs.writeFile(file, JSON.stringify({ mcpServers: { everything: { command: 'node', args, env } } }));
    const run = await runCli(['tools', '--json'], { TANDEM_MCP_CONFIG: file });

    expect(run.code).toBe(0);
    const list = JSON.parse(run.stdout) as { tools: Array<{ name: string; source: string }>; problems: string[] };
    expect(list.tools).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'write_file', source: 'built-in', sideEffects: true }),
        expect.objectContaining({ name: 'everything__echo', source: 'mcp:everything', tool: 'echo' }),
      ]),
    );
    expect(list.problems).toEqual([]);
    expect(run.stdout + run.stderr).not.toContain('cli-secret-1234');
  });
});
