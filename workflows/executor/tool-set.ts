/**
 * The tools one executor run offers: the built-ins its input names (all of them when it names none) and the MCP tools
 * discovery found. Discovery is one activity at the start of a run; its result lives in the loop's state and travels
 * across continue-as-new, so every later step, and every replay, offers exactly the tools the run started with,
 * whatever the MCP servers list by then.
 */
import { log } from '@temporalio/workflow';
import type { McpCallTarget, McpToolDescriptor, McpToolOffer, ToolDiscovery } from '../../common/mcp';
import { TOOL_DEFINITIONS, TOOL_NAMES, type ToolName } from '../../common/tools';
import type { ExecutorInput } from '../../common/types';
import { discoverTools } from '../activity-stubs';

/** What a run offers; kept in the loop state (`continued` carries it). */
export interface ToolSet {
  builtIns: ToolName[];
  mcp: McpToolDescriptor[];
  /** Content-store reference of the discovered list, which model calls name instead of repeating the schemas. */
  mcpRef: string | null;
}

/** Runs discovery for a fresh run (once; never again after continue-as-new) and picks the offered tools. */
export async function resolveToolSet(input: ExecutorInput): Promise<ToolSet> {
  const discovery: ToolDiscovery = await discoverTools.executeWithOptions({ summary: 'discover MCP tools' }, [
    { workspace: input.workspace },
  ]);
  for (const problem of discovery.problems) log.warn('an MCP server offered no tools', { problem });
  // `escalate` is always offered: however few tools a subtask gets, the model must be able to say it cannot be done.
  // An empty list means all tools, as the plan schema says: offering only `escalate` would make every subtask fail.
  const named = input.tools?.length === 0 ? undefined : input.tools;
  const builtIns: ToolName[] = named
    ? [...new Set<ToolName>([...named.filter((name): name is ToolName => name in TOOL_DEFINITIONS), 'escalate'])]
    : [...TOOL_NAMES];
  const mcp = named ? discovery.tools.filter((tool) => (named as string[]).includes(tool.name)) : discovery.tools;
  const missing = (named ?? []).filter(
    (name) => !(name in TOOL_DEFINITIONS) && !mcp.some((tool) => tool.name === name),
  );
  if (missing.length) log.warn('the subtask names tools no MCP server offers', { missing });
  return { builtIns, mcp, mcpRef: discovery.toolsRef };
}

/** Every offered name, built-ins first: what the model may call. */
export function offeredNames(tools: ToolSet): string[] {
  return [...tools.builtIns, ...tools.mcp.map((tool) => tool.name)];
}

/** The MCP part of a model call, or undefined when the run offers no MCP tool. */
export function mcpOffer(tools: ToolSet): McpToolOffer | undefined {
  if (tools.mcpRef === null || tools.mcp.length === 0) return undefined;
  return { toolsRef: tools.mcpRef, names: tools.mcp.map((tool) => tool.name) };
}

/** Where an offered MCP name runs, from the recorded descriptors (never by parsing the name). */
export function mcpTarget(tools: ToolSet, name: string): McpCallTarget | undefined {
  const tool = tools.mcp.find((candidate) => candidate.name === name);
  return (
    tool && {
      server: tool.server,
      tool: tool.tool,
      sideEffects: tool.sideEffects,
      ...(tool.idempotent ? { idempotent: true } : {}),
    }
  );
}

/** Whether running the named tool changes the world (for journaling and `--approve side-effects`). */
export function hasSideEffects(tools: ToolSet, name: string): boolean {
  return mcpTarget(tools, name)?.sideEffects ?? TOOL_DEFINITIONS[name as ToolName]?.sideEffects ?? true;
}
