/**
 * The `discoverTools` activity: asks every configured MCP server for its tools and names them for the model. Its
 * result is recorded in the executor's history and kept in its state, which is what makes a run's tool list survive a
 * worker restart, a replay or a change of the server's tools.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpToolDescriptor, McpToolOffer, ToolDiscovery } from '../../common/mcp';
import type { FunctionToolSpec } from '../../common/tools';
import type { ContentStore } from '../content-store';
import type { McpConfig } from '../../node/mcp-config';
import { secretValues } from '../../node/mcp-config';
import { mcpToolName } from './naming';
import { redact } from './output';
import type { McpPool } from './pool';

/** Tools of one server's list beyond this are ignored: a server paging forever must not stall the executor. */
const MAX_PAGES = 20;

function descriptor(server: string, tool: Tool): McpToolDescriptor {
  return {
    name: mcpToolName(server, tool.name),
    server,
    tool: tool.name,
    description: tool.description ?? tool.title ?? '',
    inputSchema: tool.inputSchema as Record<string, unknown>,
    sideEffects: tool.annotations?.readOnlyHint !== true,
    idempotent: tool.annotations?.idempotentHint === true,
  };
}

/** Every tool of every configured server, as seen from `workspaceDir`; servers that fail are named in `problems`. */
export async function listMcpTools(
  pool: McpPool,
  config: McpConfig,
  workspaceDir: string,
): Promise<Omit<ToolDiscovery, 'toolsRef'>> {
  const found = await Promise.all(
    config.servers.map(async (server): Promise<Omit<ToolDiscovery, 'toolsRef'>> => {
      try {
        const tools = await pool.use(server, workspaceDir, async (client) => {
          const all: Tool[] = [];
          let cursor: string | undefined;
          for (let page = 0; page < MAX_PAGES; page += 1) {
            const listed = await client.listTools(cursor ? { cursor } : {}, { timeout: config.timeoutMs });
            all.push(...listed.tools);
            cursor = listed.nextCursor;
            if (!cursor) break;
          }
          return all;
        });
        return { tools: tools.map((tool) => descriptor(server.name, tool)), problems: [] };
      } catch (err) {
        await pool.drop(server, workspaceDir);
        return { tools: [], problems: [`${server.name}: ${redact((err as Error).message, secretValues(config))}`] };
      }
    }),
  );
  const seen = new Set<string>();
  const tools = found
    .flatMap((discovery) => discovery.tools)
    .filter((tool) => !seen.has(tool.name) && Boolean(seen.add(tool.name)));
  return { tools, problems: found.flatMap((discovery) => discovery.problems) };
}

/** The `discoverTools` activity: {@link listMcpTools}, with the list stored for model calls to name by reference. */
export async function discoverMcpTools(
  pool: McpPool,
  config: McpConfig,
  workspaceDir: string,
  store: ContentStore,
): Promise<ToolDiscovery> {
  const { tools, problems } = await listMcpTools(pool, config, workspaceDir);
  return { tools, toolsRef: tools.length ? await store.put(JSON.stringify(tools)) : null, problems };
}

/** The chat-completions `tools` entries of the offered MCP tools: each server's description and schema, unchanged. */
export async function mcpToolSpecs(store: ContentStore, offer: McpToolOffer | undefined): Promise<FunctionToolSpec[]> {
  if (!offer || offer.names.length === 0) return [];
  const recorded = JSON.parse(await store.get(offer.toolsRef)) as McpToolDescriptor[];
  const wanted = new Set<string>(offer.names);
  return recorded
    .filter((tool) => wanted.has(tool.name))
    .map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
    }));
}
