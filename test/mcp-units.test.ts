import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { approvalCallId, approvalWait } from '../workflows/executor/approvals';
import { mcpToolName } from '../activities/mcp/naming';
import { redact } from '../activities/mcp/output';
import { listMcpTools } from '../activities/mcp/discovery';
import { McpPool } from '../activities/mcp/pool';
import { mcpConfig } from './helpers/mcp-servers';
import { isMcpToolName } from '../common/mcp';
import { needsApproval } from '../common/approvals';
import { parseDuration } from '../common/durations';
import { subtaskSchema } from '../common/types';
import { loadConfig } from '../node/config';
import { forWorkspace, isPerWorkspace, type McpStdioServer } from '../node/mcp-config';

describe('MCP tool names', () => {
  it('names a tool <server>__<tool> when that fits the 64-character function name rules', () => {
    expect(mcpToolName('everything', 'get-sum')).toBe('everything__get-sum');
  });

  it('cuts a long or unusual name to 64 characters with a hash of the original, so distinct tools stay distinct', () => {
    const long = 'a'.repeat(80);
    const [first, second] = [mcpToolName('my.server', `${long}1`), mcpToolName('my.server', `${long}2`)];
    for (const name of [first, second]) {
      expect(name.length).toBeLessThanOrEqual(64);
      expect(name).toMatch(/^my_server__a+_[0-9a-f]{6}$/);
      expect(isMcpToolName(name)).toBe(true);
    }
    expect(first).not.toBe(second);
    expect(mcpToolName('my.server', `${long}1`)).toBe(first);
  });

  it('lets a subtask name MCP tools next to built-ins, and still refuses names that are neither', () => {
    const subtask = { id: 's1', title: 't', instructions: 'i', milestone: 'm', dependsOn: [] };
    expect(subtaskSchema.safeParse({ ...subtask, tools: ['write_file', 'files__read_text_file'] }).success).toBe(true);
    expect(subtaskSchema.safeParse({ ...subtask, tools: ['teleport'] }).success).toBe(false);
  });
});

describe('TANDEM_MCP_CONFIG', () => {
  async function configFile(json: unknown): Promise<string> {
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-mcp-config-')), 'mcp.json');
    await fs.writeFile(file, JSON.stringify(json));
    return file;
  }

  it('reads the Claude Desktop format: stdio servers and streamable HTTP servers', async () => {
    const file = await configFile({
      mcpServers: {
        files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '${workspace}'] },
        remote: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer x-secret' } },
      },
    });
    const { mcp } = loadConfig({ TANDEM_MCP_CONFIG: file });
    expect(mcp.servers).toEqual([
      expect.objectContaining({ name: 'files', transport: 'stdio', command: 'npx', env: {} }),
      {
        name: 'remote',
        transport: 'http',
        url: 'https://mcp.example.com/mcp',
        headers: { Authorization: 'Bearer x-secret' },
      },
    ]);
    expect(mcp.timeoutMs).toBe(60_000);
  });

  it('replaces ${workspace} in args, env and cwd, and runs such a server once per workspace', () => {
    const server: McpStdioServer = {
      name: 'files',
      transport: 'stdio',
      command: 'node',
      args: ['server.js', '${workspace}'],
      env: { ROOT: '${workspace}/data' },
      cwd: '${workspace}',
    };
    expect(isPerWorkspace(server)).toBe(true);
    expect(forWorkspace(server, '/w/goal-1')).toEqual(
      expect.objectContaining({ args: ['server.js', '/w/goal-1'], env: { ROOT: '/w/goal-1/data' }, cwd: '/w/goal-1' }),
    );
    expect(isPerWorkspace({ ...server, args: [], env: {}, cwd: undefined })).toBe(false);
  });

  it('refuses an invalid file naming the field, never the values in it', async () => {
    const file = await configFile({
      mcpServers: { bad: { url: 'ftp://x', headers: { Authorization: 'tok-998877' } } },
    });
    let message = '';
    try {
      loadConfig({ TANDEM_MCP_CONFIG: file });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/is not a valid MCP config \(mcpServers\.bad/);
    expect(message).not.toContain('tok-998877');
  });

  it('refuses a file that is not JSON without quoting the text around the error, which may be a secret', async () => {
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-mcp-')), 'mcp.json');
    await fs.writeFile(file, '{"mcpServers": {"a": {"command": "x", "env": {"KEY": sk-live-998877}}}}');
    expect(() => loadConfig({ TANDEM_MCP_CONFIG: file })).toThrow(
      `TANDEM_MCP_CONFIG=${JSON.stringify(file)} is not a readable JSON file (Unexpected token 's'); fix it, or unset ` +
        'it to use the default',
    );
  });

  it("keeps the password and query token of an unreachable HTTP server's URL out of its discovery problem", async () => {
    const config = mcpConfig({
      name: 'remote',
      transport: 'http',
      url: 'http://tandem:pw-hidden-4242@127.0.0.1:1/mcp?api_key=key-hidden-4343',
      headers: {},
    });
    const pool = new McpPool(() => config);
    try {
      const { problems } = await listMcpTools(pool, config, os.tmpdir());
      expect(problems).toEqual([
        expect.stringMatching(/^remote: MCP server "remote" \(http: http:\/\/127\.0\.0\.1:1\/mcp\)/),
      ]);
      expect(problems.join()).not.toMatch(/pw-hidden|key-hidden/);
    } finally {
      await pool.close();
    }
  });

  it('keeps credentials in a failing stdio command line out of its discovery problem, though it prints its argv', async () => {
    const config = mcpConfig({
      name: 'cli',
      transport: 'stdio',
      command: process.execPath,
      args: [
        '-e',
        'console.error("usage error:", process.argv.slice(1).join(" ")); process.exit(3)',
        '--',
        '--api-key',
        'sk-arg-secret-1234',
        '--token=tok-arg-secret-5678',
        '-e',
        'GITHUB_TOKEN=ghp-arg-secret-9012',
        '--verbose',
      ],
      env: {},
    });
    const pool = new McpPool(() => config);
    try {
      const { problems } = await listMcpTools(pool, config, os.tmpdir());
      expect(problems).toEqual([expect.stringContaining('usage error: --api-key [redacted] --token=[redacted] -e')]);
      expect(problems.join()).not.toMatch(/arg-secret/);
      expect(problems.join()).toContain('--verbose');
    } finally {
      await pool.close();
    }
  });

  it('blanks every configured secret out of a text', () => {
    expect(redact('TOKEN=abcd1234 and abcd1234', ['abcd1234'])).toBe('TOKEN=[redacted] and [redacted]');
  });
});

describe('approval policy', () => {
  it('holds the named tools, or with side-effects every tool that changes the world', () => {
    expect(needsApproval({ tools: ['write_file'] }, 'write_file', true)).toBe(true);
    expect(needsApproval({ tools: ['side-effects'] }, 'files__write_file', true)).toBe(true);
    expect(needsApproval({ tools: ['side-effects'] }, 'calculator', false)).toBe(false);
    expect(needsApproval(undefined, 'write_file', true)).toBe(false);
  });

  it('times a wait out at the approval timeout, or at the time budget when that ends first', () => {
    expect(approvalWait(60_000, undefined)).toEqual({
      timeoutMs: 60_000,
      reason: 'nobody decided within 1m (the approval timeout)',
    });
    expect(approvalWait(60_000, 5_000)).toEqual({ timeoutMs: 5_000, reason: expect.stringContaining('time budget') });
    expect(approvalWait(undefined, undefined).timeoutMs).toBeUndefined();
  });

  it('parses --approval-timeout durations and names calls uniquely within a goal', () => {
    expect([parseDuration('90s'), parseDuration('15m'), parseDuration('2h'), parseDuration('30')]).toEqual([
      90_000, 900_000, 7_200_000, 30_000,
    ]);
    expect(parseDuration('soon')).toBeUndefined();
    expect(approvalCallId('goal-1.v2.s1', 'goal-1', 3, 'call_x')).toBe('v2.s1:3:call_x');
    expect(approvalCallId('solo', undefined, 1, 'call_x')).toBe('solo:1:call_x');
  });
});
