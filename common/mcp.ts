/**
 * MCP tools as the executor keeps them: what discovery found on the worker's MCP servers, recorded in workflow state so
 * that a replay, a continue-as-new or another worker never needs a worker-side cache to know what a run offered.
 * Sandbox-safe: pure types, zod and string checks.
 */
import { z } from 'zod';

/** The model-facing name of an MCP tool: `<server>__<tool>`, at most 64 characters of `[A-Za-z0-9_-]`. */
export type McpToolName = `${string}__${string}`;

/** The chat-completions limit on a function name, which every MCP tool name is cut or mapped to fit. */
export const TOOL_NAME_LIMIT = 64;

/**
 * What a subtask's `tools` may name besides the built-ins: `<server>__<tool>` as `tandem tools` prints it. Checked for
 * shape only, since which MCP tools exist is known only once a worker has asked its servers.
 */
export const mcpToolNameSchema = z
  .string()
  .max(TOOL_NAME_LIMIT)
  .regex(
    /^[A-Za-z0-9-]+(?:_[A-Za-z0-9-]+)*__[A-Za-z0-9_-]+$/,
    'an MCP tool is named <server>__<tool>, as `tandem tools` lists it (e.g. everything__echo)',
    // The regex guarantees the `__`; a plain string schema (no transform) keeps the plan's JSON schema generable.
  ) as unknown as z.ZodType<McpToolName, string>;

/** True when `name` has the shape of an MCP tool name (not whether such a tool exists). */
export function isMcpToolName(name: string): name is McpToolName {
  return mcpToolNameSchema.safeParse(name).success;
}

/** One MCP tool as discovery found it. The description and the input schema are the server's, unchanged. */
export interface McpToolDescriptor {
  /** What the model sees and calls; maps back to `server` and `tool` through this record, never by parsing. */
  name: McpToolName;
  /** The server's key in `TANDEM_MCP_CONFIG`'s `mcpServers`. */
  server: string;
  /** The tool's own name on that server. */
  tool: string;
  description: string;
  /** The tool's JSON schema (`inputSchema`) as the server sent it. */
  inputSchema: Record<string, unknown>;
  /**
   * False only when the server marks the tool `readOnlyHint: true`; the MCP spec's default for a tool without
   * annotations is "may change the world", and tandem follows it (journaled once per call, `--approve side-effects`).
   */
  sideEffects: boolean;
  /**
   * True when the server marks the tool `idempotentHint: true`: calling it again with the same arguments changes
   * nothing more, so a retried call runs again (docs/delivery.md). Absent in runs recorded before it existed.
   */
  idempotent?: boolean;
}

/** What the `discoverTools` activity returns. */
export interface ToolDiscovery {
  tools: McpToolDescriptor[];
  /**
   * Content-store reference of `tools` as JSON: model calls name it instead of carrying every schema through history
   * at each step (content-addressed, so it always means exactly this list).
   */
  toolsRef: string | null;
  /** Servers that could not be asked (not started, refused, timed out), one line each, without config values. */
  problems: string[];
}

/** The MCP part of a `callModel` request: which recorded tools to offer, and where their schemas are stored. */
export interface McpToolOffer {
  toolsRef: string;
  names: McpToolName[];
}

/** Which MCP tool a `runTool` call runs: the executor resolves the model's name through its recorded descriptors. */
export interface McpCallTarget {
  server: string;
  tool: string;
  sideEffects: boolean;
  idempotent?: boolean;
}
