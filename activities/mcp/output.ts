/**
 * An MCP tool result as the model's observation text, with every configured secret blanked out: a server may echo
 * its environment (server-everything's `get-env` does) and that must not reach history.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** Replaces each of `secrets` in `text` with `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}

function partText(part: CallToolResult['content'][number]): string {
  switch (part.type) {
    case 'text':
      return part.text;
    case 'image':
    case 'audio':
      // Binary content is not text the model can read here: say what it was rather than pasting base64.
      return `[${part.type} ${part.mimeType}, ${Math.round((part.data.length * 3) / 4)} bytes]`;
    case 'resource_link':
      return `[resource link ${part.uri}${part.name ? ` (${part.name})` : ''}]`;
    case 'resource':
      return 'text' in part.resource && typeof part.resource.text === 'string'
        ? part.resource.text
        : `[resource ${part.resource.uri}${part.resource.mimeType ? ` (${part.resource.mimeType})` : ''}]`;
    default:
      return JSON.stringify(part);
  }
}

/** The result's content as one text: its parts in order, or the structured content when there is no part. */
export function resultText(result: CallToolResult): string {
  const parts = (result.content ?? []).map(partText);
  if (parts.length === 0 && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  return parts.join('\n');
}
