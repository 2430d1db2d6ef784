/**
 * How an MCP tool is named for the model: `<server>__<tool>`. Chat-completions function names are at most 64
 * characters of `[A-Za-z0-9_-]`, so a name with other characters, or a longer one, is cut and given a short hash of
 * the original pair: distinct tools keep distinct names. The mapping back is the discovered descriptor, not parsing.
 */
import { createHash } from 'node:crypto';
import { TOOL_NAME_LIMIT, type McpToolName } from '../../common/mcp';

/** The server part keeps at most this much when a name must be cut, so the tool's own name stays recognisable. */
const SERVER_PART_LIMIT = 24;
const HASH_LENGTH = 6;

function clean(part: string): string {
  return part.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The server part: single underscores only, so `__` always separates server from tool. */
function cleanServer(server: string): string {
  return clean(server).replace(/_+/g, '_').replace(/^_|_$/g, '') || 'mcp';
}

/** The model-facing name of `tool` on `server`; the same pair always gets the same name. */
export function mcpToolName(server: string, tool: string): McpToolName {
  const serverPart = cleanServer(server);
  const toolPart = clean(tool) || 'tool';
  const plain = `${serverPart}__${toolPart}`;
  if (plain.length <= TOOL_NAME_LIMIT && serverPart === server && toolPart === tool) return plain as McpToolName;
  const hash = createHash('sha256').update(`${server}\0${tool}`).digest('hex').slice(0, HASH_LENGTH);
  const head = `${serverPart.slice(0, SERVER_PART_LIMIT)}__`;
  const room = TOOL_NAME_LIMIT - head.length - HASH_LENGTH - 1;
  return `${head}${toolPart.slice(0, room)}_${hash}` as McpToolName;
}
