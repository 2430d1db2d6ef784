/**
 * The messages of the next request, in a form a strict server (OpenAI's own validation, llama.cpp's template engine,
 * Mistral's) accepts whatever the model sent earlier:
 * - every assistant tool call has a non-empty id of at most 40 characters (OpenAI's limit, which ids made by Gemini,
 *   proxies and other providers exceed: autogen#6377, openclaw#875), unique in the request, `type: 'function'`, and
 *   a name OpenAI's pattern accepts (`^[a-zA-Z0-9_-]{1,64}$`: a name the model made up, `web.search`, is sent as
 *   `web_search`; mcp-use#90), and `arguments` that are a string of a JSON object (a malformed one was re-encoded at the boundary; an old
 *   transcript's is re-encoded here);
 * - every `tool` message answers exactly one call of the assistant message before it: a repeated answer is merged
 *   into the first, an answer to an unknown id becomes a user message, and a call left unanswered gets a tool message
 *   saying no result was recorded;
 * - an assistant message with neither text nor calls has `content: ''`.
 * Reasoning is never sent back (servers reject or re-bill it); Gemini's `extra_content` is, because it asks for it.
 */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ChatMessage, ToolCall } from '../../common/types';
import { normalizeArguments } from './arguments';

export const UNANSWERED_CALL = 'no result was recorded for this tool call';

/** The longest tool-call id OpenAI accepts ("string too long. Expected a string with maximum length 40"). */
export const MAX_TOOL_CALL_ID = 40;

interface PendingCall {
  id: string;
  originalId: string;
  answered: boolean;
}

/** A tool name as OpenAI accepts it in a transcript: other characters as `_`, at most 64 (mcp-use#90). */
function safeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) || 'missing_name';
}

function safeArguments(call: ToolCall): string {
  return normalizeArguments(call.arguments).json;
}

/** The messages of a chat-completions request for `messages`, repaired as described above. */
export function toRequestMessages(messages: readonly ChatMessage[]): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  const used = new Set<string>();
  let pending: PendingCall[] = [];
  let toolAnswers = new Map<string, { role: 'tool'; tool_call_id: string; content: string }>();
  /** Stray answers, sent as user messages once every call of the turn has its tool message. */
  let deferred: ChatCompletionMessageParam[] = [];

  const closeTurn = () => {
    for (const call of pending) {
      if (!call.answered) out.push({ role: 'tool', tool_call_id: call.id, content: UNANSWERED_CALL });
    }
    out.push(...deferred);
    pending = [];
    toolAnswers = new Map();
    deferred = [];
  };

  messages.forEach((message, index) => {
    if (message.role !== 'tool') closeTurn();
    switch (message.role) {
      case 'assistant': {
        const calls = message.toolCalls ?? [];
        const toolCalls = calls.map((call, n) => {
          let id = call.id.trim();
          if (id === '' || id.length > MAX_TOOL_CALL_ID || used.has(id)) {
            let k = n;
            do id = `call_m${index}_${k++}`;
            while (used.has(id));
          }
          used.add(id);
          pending.push({ id, originalId: call.id, answered: false });
          return {
            id,
            type: 'function' as const,
            function: { name: safeName(call.name), arguments: safeArguments(call) },
            ...(call.providerFields ?? {}),
          };
        });
        out.push({
          role: 'assistant',
          content: message.content ?? (toolCalls.length ? null : ''),
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        });
        break;
      }
      case 'tool': {
        // The first unanswered call with this id (renamed or not); a repeat goes into the first answer.
        const call =
          pending.find((c) => !c.answered && c.id === message.toolCallId) ??
          pending.find((c) => !c.answered && c.originalId === message.toolCallId);
        if (call) {
          call.answered = true;
          const answer = { role: 'tool' as const, tool_call_id: call.id, content: message.content };
          toolAnswers.set(call.id, answer);
          out.push(answer);
          break;
        }
        const earlier = [...toolAnswers.values()].find(
          (a) =>
            a.tool_call_id === message.toolCallId ||
            pending.some((c) => c.id === a.tool_call_id && c.originalId === message.toolCallId),
        );
        if (earlier) earlier.content += `\n${message.content}`;
        else
          deferred.push({
            role: 'user',
            content: `Tool result (for an unknown call ${message.toolCallId}): ${message.content}`,
          });
        break;
      }
      default:
        out.push({ role: message.role, content: message.content });
    }
  });
  closeTurn();
  return out;
}

/** Every tool-call id of a transcript, so a new reply's ids can be kept unique. */
export function toolCallIds(messages: readonly ChatMessage[]): Set<string> {
  const ids = new Set<string>();
  for (const message of messages) {
    if (message.role === 'assistant') for (const call of message.toolCalls ?? []) ids.add(call.id);
  }
  return ids;
}
