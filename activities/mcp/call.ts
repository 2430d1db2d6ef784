/**
 * One MCP tool call, for the `runTool` activity. What the server answers, error results included, becomes the
 * observation; what keeps the server from answering is retried: a dead stdio server is restarted (the pool makes a new
 * connection) and a read-only call is made again. A side-effecting call that lost its server mid-way is not repeated,
 * since it may have run: the model is told so instead.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { McpCallTarget } from '../../common/mcp';
import { FailureType } from '../../common/failures';
import { type McpConfig, secretValues } from '../../node/mcp-config';
import { redact, resultText } from './output';
import { McpUnavailableError, type McpPool } from './pool';

/** Calls of a read-only tool made in this activity attempt when the connection breaks (then Temporal retries). */
const ATTEMPTS = 2;

/** The connection broke (server exited, session gone, network), as opposed to the server refusing the call. */
function connectionLost(err: unknown): boolean {
  if (err instanceof McpError) return err.code === ErrorCode.ConnectionClosed;
  if (err instanceof StreamableHTTPError) return err.code === undefined || err.code === 404 || err.code >= 500;
  const code = (err as { code?: unknown; cause?: { code?: unknown } }).cause?.code ?? (err as { code?: unknown }).code;
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED'].includes(String(code)) ||
    /fetch failed|not connected/i.test(String((err as Error).message))
  );
}

function timedOut(err: unknown): boolean {
  return err instanceof McpError && err.code === ErrorCode.RequestTimeout;
}

function unavailable(message: string): ApplicationFailure {
  return ApplicationFailure.retryable(message, FailureType.McpServerUnavailable);
}

export interface McpCall {
  /** The model-facing name, for messages. */
  name: string;
  target: McpCallTarget;
  arguments: Record<string, unknown>;
  workspaceDir: string;
  signal: AbortSignal;
}

/** Runs the call and returns the observation; throws a retryable `McpServerUnavailable` when the server is out of reach. */
export async function callMcpTool(
  pool: McpPool,
  config: McpConfig,
  call: McpCall,
): Promise<{ ok: boolean; output: string }> {
  const secrets = secretValues(config);
  const server = config.servers.find((candidate) => candidate.name === call.target.server);
  if (!server) {
    return {
      ok: false,
      output:
        `${call.name} is unavailable: this worker has no MCP server "${call.target.server}" in TANDEM_MCP_CONFIG; ` +
        'use another tool',
    };
  }
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await pool.use(server, call.workspaceDir, (client) =>
        client.callTool({ name: call.target.tool, arguments: call.arguments }, undefined, {
          timeout: config.timeoutMs,
          signal: call.signal,
        }),
      );
      const text = redact(resultText(result as Parameters<typeof resultText>[0]), secrets);
      return result.isError ? { ok: false, output: `${call.name} failed: ${text}` } : { ok: true, output: text };
    } catch (err) {
      if (call.signal.aborted) throw err;
      const message = redact((err as Error).message, secrets);
      // Nothing was sent: the server could not be started or reached. Safe to retry whatever the tool does.
      if (err instanceof McpUnavailableError) throw unavailable(message);
      if (connectionLost(err)) {
        const stderr = await pool.stderrOf(server, call.workspaceDir);
        await pool.drop(server, call.workspaceDir);
        if (call.target.sideEffects) {
          return {
            ok: false,
            output:
              `${call.name}: the MCP server "${server.name}" went away during the call (${message}), so it may or ` +
              'may not have run; check its effect before calling it again',
          };
        }
        if (attempt < ATTEMPTS) continue;
        throw unavailable(`MCP server "${server.name}" lost the connection: ${message}${stderr ? `; ${stderr}` : ''}`);
      }
      if (timedOut(err)) {
        if (!call.target.sideEffects) throw unavailable(`MCP server "${server.name}": ${message}`);
        return {
          ok: false,
          output: `${call.name}: no answer in ${config.timeoutMs} ms, so it may or may not have run; check before retrying`,
        };
      }
      // The server refused the call (unknown tool, invalid arguments): the model can fix that.
      return { ok: false, output: `${call.name} failed: ${message}` };
    }
  }
}
