/**
 * Token counts for replies whose server reported none (or only part): budgets must hold on every server, so a missing
 * `usage` is counted here and marked `estimated`. js-tiktoken is the JavaScript port of OpenAI's own tokenizer
 * (tiktoken), pure JS, offline (its ranks ship in the package) and the most used of its kind on npm. o200k_base is the
 * encoding of OpenAI's current models; for other models' tokenizers it is an estimate, typically within 10-20%.
 */
import { getEncoding, type Tiktoken } from 'js-tiktoken';
import type { ChatMessage } from '../../common/types';

let encoder: Tiktoken | undefined;

/** Built on first use (about a second): a worker that only talks to servers reporting usage never pays for it. */
function encoding(): Tiktoken {
  encoder ??= getEncoding('o200k_base');
  return encoder;
}

/** Tokens of a text. */
export function countTokens(text: string): number {
  return text === '' ? 0 : encoding().encode(text, [], []).length;
}

/**
 * Chat overhead per message as OpenAI documents it for its chat formats (role and separators): 3 tokens per message
 * and 3 for the reply's priming.
 */
const PER_MESSAGE = 3;
const PER_REPLY = 3;

/** Prompt tokens of a request: every message's text, tool calls and the tools' JSON schemas. */
export function countPromptTokens(messages: readonly ChatMessage[], toolsJson = ''): number {
  let total = PER_REPLY + (toolsJson ? countTokens(toolsJson) : 0);
  for (const message of messages) {
    total += PER_MESSAGE + countTokens(message.content ?? '');
    if (message.role === 'assistant') {
      for (const call of message.toolCalls ?? []) total += countTokens(call.name) + countTokens(call.arguments);
    }
  }
  return total;
}

/** Completion tokens of a reply: its text, its reasoning and its tool calls. */
export function countCompletionTokens(reply: {
  content: string | null;
  reasoning?: string;
  toolCalls: ReadonlyArray<{ name: string; arguments: string }>;
}): number {
  return (
    countTokens(reply.content ?? '') +
    countTokens(reply.reasoning ?? '') +
    reply.toolCalls.reduce((n, call) => n + countTokens(call.name) + countTokens(call.arguments), 0)
  );
}
