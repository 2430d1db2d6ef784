/**
 * `TANDEM_MCP_CONFIG`: the MCP servers a worker offers tools from, in the JSON format Claude Desktop, Cursor and
 * VS Code use (`{"mcpServers": {"<name>": {...}}}`). Read once at process start by {@link loadConfig}; the values of
 * `env` and `headers` stay in the worker's memory and are never logged, recorded in history or shown.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ConfigError, UserError } from './errors';

const stringMap = z.record(z.string(), z.string());

const stdioServerSchema = z
  .object({
    type: z.literal('stdio').optional(),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    env: stringMap.default({}),
    cwd: z.string().min(1).optional(),
  })
  .strict();

const httpServerSchema = z
  .object({
    type: z.enum(['http', 'streamable-http', 'streamableHttp']).optional(),
    url: z.url({ protocol: /^https?$/ }),
    headers: stringMap.default({}),
  })
  .strict();

const configFileSchema = z.object({
  mcpServers: z.record(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'server names are letters, digits, "_", "." or "-"'),
    z.union([stdioServerSchema, httpServerSchema]),
  ),
});

/** A stdio server: tandem starts `command args` and speaks MCP on its stdin/stdout. */
export interface McpStdioServer {
  name: string;
  transport: 'stdio';
  command: string;
  /** May contain `${workspace}`, replaced by the goal's workspace folder when the server starts. */
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

/** A streamable HTTP server at `url`; `headers` go with every request (e.g. `Authorization`). */
export interface McpHttpServer {
  name: string;
  transport: 'http';
  url: string;
  headers: Record<string, string>;
}

export type McpServerConfig = McpStdioServer | McpHttpServer;

export interface McpConfig {
  /** `TANDEM_MCP_CONFIG`: the file the servers came from, if any. */
  file: string | undefined;
  servers: McpServerConfig[];
  /**
   * `TANDEM_MCP_TIMEOUT_MS`: one MCP request (start-up, tool list, tool call). A tool call's timer starts again at
   * each progress notification, within the `runTool` activity's own limit.
   */
  timeoutMs: number;
  /**
   * `TANDEM_MCP_MAX_RESULT_BYTES`: the largest answer (one JSON-RPC message) read from a server. A larger one becomes
   * an observation saying so; the call is not made again.
   */
  maxResultBytes: number;
}

/**
 * 16 MiB: above the stdio transport's own 10 MiB buffer (which otherwise closes the connection mid-answer), and small
 * enough that a worker holding a few such answers at once stays well within memory.
 */
export const DEFAULT_MCP_MAX_RESULT_BYTES = 16 * 1024 * 1024;

/** The placeholder a stdio server's `args`, `env` or `cwd` may use for the goal's workspace folder. */
export const WORKSPACE_PLACEHOLDER = '${workspace}';

/** True when the server must run once per workspace (its start-up mentions `${workspace}`). */
export function isPerWorkspace(server: McpServerConfig): boolean {
  if (server.transport !== 'stdio') return false;
  return [...server.args, ...Object.values(server.env), server.cwd ?? ''].some((value) =>
    value.includes(WORKSPACE_PLACEHOLDER),
  );
}

/** The server's start-up with `${workspace}` replaced by `workspaceDir`. */
export function forWorkspace(server: McpStdioServer, workspaceDir: string): McpStdioServer {
  const fill = (value: string) => value.split(WORKSPACE_PLACEHOLDER).join(workspaceDir);
  return {
    ...server,
    args: server.args.map(fill),
    env: Object.fromEntries(Object.entries(server.env).map(([key, value]) => [key, fill(value)])),
    ...(server.cwd === undefined ? {} : { cwd: fill(server.cwd) }),
  };
}

/**
 * Where and how to reach an HTTP server: its URL without credentials, and its headers with them as Basic auth (unless
 * an `Authorization` header is set). fetch refuses a URL with `user:password@` outright, echoing the whole URL in its
 * error, so without this such a server never worked and its password reached the discovery problems in history.
 */
export function httpEndpoint(server: McpHttpServer): { url: URL; headers: Record<string, string> } {
  const url = new URL(server.url);
  if (url.username === '' && url.password === '') return { url, headers: server.headers };
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = '';
  url.password = '';
  const hasAuthorization = Object.keys(server.headers).some((name) => name.toLowerCase() === 'authorization');
  return {
    url,
    headers: hasAuthorization
      ? server.headers
      : { ...server.headers, Authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
  };
}

/** A flag or variable name that says its value is a credential. */
const SECRET_NAME = /key|token|secret|passw(or)?d|auth|credential|bearer/i;

/**
 * The values of a stdio server's command line that are credentials by their name: `--api-key X`, `--token=X`,
 * `-e GITHUB_TOKEN=X` (docker). A server that fails at start-up often prints its command line, and its stderr goes
 * into the error that discovery records.
 */
function argSecrets(args: readonly string[]): string[] {
  return args.flatMap((arg, index) => {
    const assigned = /^-{0,2}([^=\s]+)=(.+)$/s.exec(arg);
    if (assigned) return SECRET_NAME.test(assigned[1]) ? [assigned[2]] : [];
    const flag = args[index - 1];
    return flag !== undefined && /^--?[^=\s]+$/.test(flag) && SECRET_NAME.test(flag) ? [arg] : [];
  });
}

/** The secret-bearing parts of an HTTP server's URL: its user, password and query values (`?api_key=...`). */
function urlSecrets(raw: string): string[] {
  const url = new URL(raw);
  return [url.username, url.password, decodeURIComponent(url.password), ...url.searchParams.values()];
}

/**
 * Every configured secret-bearing value (env and header values, credentials in a command line, a URL's credentials
 * and query values), for
 * redacting them from anything shown. Values under 4 characters are left out: blanking "1" or "on" everywhere would
 * garble every message and hide nothing.
 */
export function secretValues(config: McpConfig): string[] {
  return config.servers
    .flatMap((server) =>
      server.transport === 'stdio'
        ? [...Object.values(server.env), ...argSecrets(server.args)]
        : [...Object.values(server.headers), ...urlSecrets(server.url)],
    )
    .filter((value) => value.length >= 4);
}

/** Parses the file `TANDEM_MCP_CONFIG` names; its errors name the file and the field, never a value. */
export function readMcpConfigFile(file: string): McpServerConfig[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    // V8 quotes the text around a syntax error ("Unexpected token 's', ...\"KEY\": sk-live-99\"... is not valid
    // JSON"), and that text can be a secret: keep the reason, drop the quote.
    const reason = (err as Error).message.replace(/^(Unexpected token .+?), .* is not valid JSON$/s, '$1');
    throw new ConfigError('TANDEM_MCP_CONFIG', file, `a readable JSON file (${reason})`);
  }
  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success) {
    // Issues name paths and expectations, not the offending values, so a bad header cannot leak through the message.
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`);
    throw new UserError(
      `TANDEM_MCP_CONFIG=${JSON.stringify(file)} is not a valid MCP config (${problems.join('; ')}); expected ` +
        '{"mcpServers": {"<name>": {"command": "...", "args": [...], "env": {...}}}} or {"url": "http://...", "headers": {...}}',
    );
  }
  const baseDir = path.dirname(path.resolve(file));
  return Object.entries(parsed.data.mcpServers).map(([name, server]): McpServerConfig => {
    if ('url' in server) return { name, transport: 'http', url: server.url, headers: server.headers };
    return {
      name,
      transport: 'stdio',
      command: server.command,
      args: server.args,
      env: server.env,
      // A relative cwd is relative to the config file, as a path in a config file is expected to be.
      ...(server.cwd === undefined
        ? {}
        : { cwd: server.cwd.includes(WORKSPACE_PLACEHOLDER) ? server.cwd : path.resolve(baseDir, server.cwd) }),
    };
  });
}
