/**
 * One MCP tool call, for the `runTool` activity. What the server answers, error results included, becomes the
 * observation; what keeps the server from answering is retried where that is safe:
 * - a request refused for its session (an HTTP server that restarted) never reached the tool: the pool makes a new
 *   session and sends it once more, whatever the tool does (activities/mcp/pool.ts);
 * - a connection lost mid-call (a stdio server that exited, an HTTP 5xx or reset) is made again on a new connection
 *   only for a repeatable tool (read-only or idempotent); for any other the model is told it may have run;
 * - no answer within `TANDEM_MCP_TIMEOUT_MS` of the last sign of life (the request, or a progress notification) is an
 *   observation, never a retry: a tool that runs longer than the timeout would run again every attempt;
 * - an answer over `TANDEM_MCP_MAX_RESULT_BYTES` is an observation saying so, not a broken connection to retry.
 */
import { ErrorCode, McpError, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ApplicationFailure } from '@temporalio/activity';
import type { McpCallTarget } from '../../common/mcp';
import { FailureType } from '../../common/failures';
import { type McpConfig, secretValues } from '../../node/mcp-config';
import { deliveryOf, mayHaveRunObservation, notSentFailure, type ToolOutcome } from '../tool-delivery';
import { redact, resultText } from './output';
import { McpResultTooLargeError, McpUnavailableError, type McpPool } from './pool';

/** Calls of a repeatable tool made in this activity attempt when the connection breaks (then Temporal retries). */
const ATTEMPTS = 2;

/** The connection broke (server exited, HTTP 5xx, network), as opposed to the server refusing or answering the call. */
function connectionLost(err: unknown): boolean {
  if (err instanceof McpError) return err.code === ErrorCode.ConnectionClosed;
  if (err instanceof StreamableHTTPError) return err.code === undefined || err.code >= 500;
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
  /**
   * The longest the call may take however often the server reports progress (ms): what is left of the activity's
   * own limit, so a tool that reports progress forever ends as an observation, not an activity timeout.
   */
  maxTotalMs: number;
  /** Called at each progress notification (the call sends a `progressToken`). */
  onProgress(progress: Progress): void;
}

/** Runs the call and returns the observation; throws a retryable `McpServerUnavailable` when the server is out of reach. */
export async function callMcpTool(pool: McpPool, config: McpConfig, call: McpCall): Promise<ToolOutcome> {
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
  const repeatable = deliveryOf(call.target) === 'repeatable';
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await pool.use(server, call.workspaceDir, (client) =>
        client.callTool({ name: call.target.tool, arguments: call.arguments }, undefined, {
          timeout: config.timeoutMs,
          resetTimeoutOnProgress: true,
          maxTotalTimeout: call.maxTotalMs,
          onprogress: call.onProgress,
          signal: call.signal,
        }),
      );
      const text = redact(resultText(result as Parameters<typeof resultText>[0]), secrets);
      // An HTTP answer is read whole by fetch; the limit holds for it as for stdio, where the pool enforces it.
      if (Buffer.byteLength(text) > config.maxResultBytes) throw new McpResultTooLargeError(config.maxResultBytes);
      return result.isError ? { ok: false, output: `${call.name} failed: ${text}` } : { ok: true, output: text };
    } catch (err) {
      if (call.signal.aborted) throw err;
      const message = redact((err as Error).message, secrets);
      // Nothing was sent: the server could not be started or reached. Safe to retry whatever the tool does.
      if (err instanceof McpUnavailableError) throw notSentFailure(message, FailureType.McpServerUnavailable);
      if (err instanceof McpResultTooLargeError) {
        return {
          ok: false,
          output:
            `${call.name} ran, but its result was larger than ${config.maxResultBytes} bytes ` +
            '(TANDEM_MCP_MAX_RESULT_BYTES), so it was dropped; ask the tool for less (a narrower query, a page)',
        };
      }
      if (connectionLost(err)) {
        const stderr = await pool.stderrOf(server, call.workspaceDir);
        await pool.drop(server, call.workspaceDir);
        if (!repeatable) {
          return {
            ok: false,
            output: mayHaveRunObservation(
              call.name,
              `the MCP server "${server.name}" went away during it (${message})`,
            ),
            outcomeUnknown: true,
          };
        }
        if (attempt < ATTEMPTS) continue;
        throw unavailable(`MCP server "${server.name}" lost the connection: ${message}${stderr ? `; ${stderr}` : ''}`);
      }
      if (timedOut(err)) {
        const why =
          `no answer within ${config.timeoutMs} ms of its start or last progress (TANDEM_MCP_TIMEOUT_MS), or within ` +
          `${call.maxTotalMs} ms in all (${message}); it was cancelled`;
        return repeatable
          ? { ok: false, output: `${call.name}: ${why}` }
          : { ok: false, output: mayHaveRunObservation(call.name, why), outcomeUnknown: true };
      }
      // The server refused the call (unknown tool, invalid arguments): the model can fix that.
      return { ok: false, output: `${call.name} failed: ${message}` };
    }
  }
}
