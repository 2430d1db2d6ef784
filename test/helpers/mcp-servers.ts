/**
 * The real MCP servers from npm the tests run: `@modelcontextprotocol/server-everything` (stdio and streamable HTTP)
 * and `@modelcontextprotocol/server-filesystem` rooted at the goal's workspace, as `TANDEM_MCP_CONFIG` entries.
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { freePort } from '../../dev/dev-server';
import {
  DEFAULT_MCP_MAX_RESULT_BYTES,
  type McpConfig,
  type McpServerConfig,
  type McpStdioServer,
} from '../../node/mcp-config';

export const EVERYTHING_SERVER = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
export const FILESYSTEM_SERVER = require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');

/** A worker's MCP settings for these servers; a short timeout so a broken test fails fast. */
export function mcpConfig(...servers: McpServerConfig[]): McpConfig {
  return { file: undefined, servers, timeoutMs: 20_000, maxResultBytes: DEFAULT_MCP_MAX_RESULT_BYTES };
}

/**
 * server-everything over stdio. With `pidFile`, it starts through `sh`, which appends its pid to the file and then
 * `exec`s node (same pid): a test can kill exactly that server, and count how often it was started.
 */
export function everythingStdio(
  name = 'everything',
  opts: { env?: Record<string, string>; pidFile?: string } = {},
): McpStdioServer {
  const args = opts.pidFile
    ? ['-c', 'echo $$ >> "$0"; exec node "$1" stdio', opts.pidFile, EVERYTHING_SERVER]
    : [EVERYTHING_SERVER, 'stdio'];
  return { name, transport: 'stdio', command: opts.pidFile ? 'sh' : 'node', args, env: opts.env ?? {} };
}

/** server-filesystem allowed only the goal's workspace folder, and started in it (relative paths land there). */
export function filesystemStdio(name = 'files'): McpStdioServer {
  return {
    name,
    transport: 'stdio',
    command: 'node',
    args: [FILESYSTEM_SERVER, '${workspace}'],
    env: {},
    cwd: '${workspace}',
  };
}

/**
 * server-everything over streamable HTTP on `port` (a free one by default; the same one again to restart it);
 * `stop` ends that process (by its pid).
 */
export async function startEverythingHttp(
  opts: { port?: number } = {},
): Promise<{ url: string; stop(): Promise<void> }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await everythingHttpOn(opts.port ?? (await freePort()));
    } catch (error) {
      // A port picked here was taken before the server bound it (freePort's race): pick again. A port the test
      // named (a restart on the same one) is not moved.
      const raced = opts.port === undefined && /EADDRINUSE/.test(String(error));
      if (!raced || attempt >= 3) throw error;
    }
  }
}

async function everythingHttpOn(port: number): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [EVERYTHING_SERVER, 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`server-everything (HTTP) did not start: ${seen}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes('listening on port')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`server-everything (HTTP) exited with ${code}: ${seen}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        process.kill(child.pid!, 'SIGTERM');
      }),
  };
}

/** tsx as a loader in the server's own node process (its cli would add a process between the worker and the server). */
const TSX_LOADER = pathToFileURL(require.resolve('tsx')).href;
const FIXTURE_SERVER = require.resolve('./mcp-fixture-server.ts');

/**
 * test/helpers/mcp-fixture-server.ts over stdio (through tsx); `env` sets its ledger and delay. With `pidFile`, as
 * {@link everythingStdio}: each start appends its pid to the file; with `failStart` too, that start (1 for the first)
 * exits at once instead, as a server that cannot start would.
 */
export function fixtureStdio(
  name = 'fixture',
  env: Record<string, string> = {},
  opts: { pidFile?: string; failStart?: number } = {},
): McpStdioServer {
  const node = [process.execPath, '--import', TSX_LOADER, FIXTURE_SERVER];
  if (!opts.pidFile) return { name, transport: 'stdio', command: node[0], args: node.slice(1), env };
  const fail = opts.failStart ? `[ "$(wc -l < "$0")" -eq ${opts.failStart} ] && exit 1; ` : '';
  return {
    name,
    transport: 'stdio',
    command: 'sh',
    args: ['-c', `echo $$ >> "$0"; ${fail}exec "$@"`, opts.pidFile, ...node],
    env,
  };
}
