/**
 * `tandem tools`: every tool a worker with this process's settings would offer, the built-ins and what each MCP server
 * in `TANDEM_MCP_CONFIG` lists. The servers are asked for real (started, then stopped), from a scratch workspace
 * folder standing in for a goal's, so what prints is what discovery would record.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listMcpTools } from '../activities/mcp/discovery';
import { McpPool } from '../activities/mcp/pool';
import { jsonSchemaOf } from '../common/json-schema';
import { TOOL_DEFINITIONS } from '../common/tools';
import type { TandemConfig } from '../node/config';

/** One tool as `tandem tools --json` prints it. */
export interface ToolListing {
  name: string;
  /** `built-in`, or `mcp:<server>`. */
  source: string;
  /** For an MCP tool: its own name on the server. */
  tool?: string;
  sideEffects: boolean;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface ToolList {
  tools: ToolListing[];
  /** MCP servers that could not be asked, one line each. */
  problems: string[];
}

export async function listTools(config: TandemConfig): Promise<ToolList> {
  const builtIns: ToolListing[] = Object.values(TOOL_DEFINITIONS).map((definition) => ({
    name: definition.name,
    source: 'built-in',
    sideEffects: definition.sideEffects,
    description: definition.description,
    inputSchema: jsonSchemaOf(definition.input),
  }));
  if (config.mcp.servers.length === 0) return { tools: builtIns, problems: [] };
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-tools-'));
  const pool = new McpPool(() => config.mcp);
  try {
    const { tools, problems } = await listMcpTools(pool, config.mcp, scratch);
    const mcp = tools.map((tool): ToolListing => ({
      name: tool.name,
      source: `mcp:${tool.server}`,
      tool: tool.tool,
      sideEffects: tool.sideEffects,
      description: tool.description,
      inputSchema: tool.inputSchema,
    }));
    return { tools: [...builtIns, ...mcp], problems };
  } finally {
    await pool.close();
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** One line per tool: name, source, whether it changes the world, and the first line of its description. */
export function formatToolList(list: ToolList): string {
  const width = Math.max(...list.tools.map((tool) => tool.name.length), 4) + 2;
  const sourceWidth = Math.max(...list.tools.map((tool) => tool.source.length), 6) + 2;
  const lines = list.tools.map(
    (tool) =>
      `${tool.name.padEnd(width)}${tool.source.padEnd(sourceWidth)}${(tool.sideEffects ? 'writes' : 'reads').padEnd(8)}` +
      `${tool.description.split('\n')[0].slice(0, 100)}`,
  );
  return [...lines, ...list.problems.map((problem) => `unavailable: ${problem}`)].join('\n');
}
