/**
 * Token counts for replies whose server reported none (or only part): budgets must hold on every server, so a missing
 * `usage` is counted here and marked `estimated`. js-tiktoken is the JavaScript port of OpenAI's own tokenizer
 * (tiktoken), pure JS, offline (its ranks ship in the package) and the most used of its kind on npm. o200k_base is the
 * encoding of OpenAI's current models; for other models' tokenizers it is an estimate, typically within 10-20%.
 */
import type { Tiktoken } from 'js-tiktoken';
import type { ChatMessage } from '../../common/types';

let encoder: Promise<Tiktoken> | undefined;

/**
 * Loaded and built on first use (the ranks are megabytes of JavaScript; about a second): a worker that only talks to
 * servers reporting usage never pays for it, and worker start-up stays fast.
 */
function encoding(): Promise<Tiktoken> {
  encoder ??= import('js-tiktoken').then(({ getEncoding }) => getEncoding('o200k_base'));
  return encoder;
}

/** Tokens of a text. */
export async function countTokens(text: string): Promise<number> {
  return text === '' ? 0 : (await encoding()).encode(text, [], []).length;
}

/**
 * Chat overhead per message as OpenAI documents it for its chat formats (role and separators): 3 tokens per message
 * and 3 for the reply's priming.
 */
const PER_MESSAGE = 3;
const PER_REPLY = 3;

/** Prompt tokens of a request: every message's text, tool calls and the tools' JSON schemas. */
export async function countPromptTokens(messages: readonly ChatMessage[], toolsJson = ''): Promise<number> {
  let total = PER_REPLY + (toolsJson ? await countTokens(toolsJson) : 0);
  for (const message of messages) {
    total += PER_MESSAGE + (await countTokens(message.content ?? ''));
    if (message.role === 'assistant') {
      for (const call of message.toolCalls ?? []) total += await countTokens(`${call.name}${call.arguments}`);
    }
  }
  return total;
}

/** Completion tokens of a reply: its text, its reasoning and its tool calls. */
export async function countCompletionTokens(reply: {
  content: string | null;
  reasoning?: string;
  toolCalls: ReadonlyArray<{ name: string; arguments: string }>;
}): Promise<number> {
  const calls = reply.toolCalls.map((call) => `${call.name}${call.arguments}`).join('');
  return countTokens(`${reply.content ?? ''}${reply.reasoning ?? ''}${calls}`);
}
