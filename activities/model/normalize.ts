/**
 * The model boundary: whatever an OpenAI-compatible server sent becomes tandem's own reply type here, validated with
 * zod before it leaves the activity, so workflow code never sees a provider's raw shape and cannot throw on one.
 *
 * Every field below is one a real server is known to omit, leave empty, repeat or type differently (the README's
 * "Model servers" table lists them with the servers that send them):
 * - `content`: a string, `null`, absent, or an array of parts (`text`, `thinking`, `refusal`, ...) as Mistral sends;
 * - reasoning: `reasoning_content` (llama.cpp, vLLM, DeepSeek), `reasoning` (Ollama, OpenRouter, vLLM), `thinking`
 *   parts (Mistral Magistral), `<think>...</think>` inline (servers without a reasoning parser); kept apart;
 * - `refusal`: a field or a part;
 * - tool calls: `tool_calls` as an array, a single object or `null`, the legacy `function_call`, calls without the
 *   `function` wrapper or `type`; ids missing, empty, numeric or repeated; names padded, `functions.`-prefixed or in
 *   another case; arguments as a string, an object (llama.cpp), a double-encoded string, fenced, empty or invalid;
 *   and calls written into the text (./in-text-tool-calls.ts);
 * - `finish_reason`: the OpenAI values, other servers' spellings (`end_turn`, `max_tokens`, `MAX_TOKENS`, `eos`,
 *   `tool_use`, ...), `null`, and `stop` on a reply that calls tools (Gemini, Ollama);
 * - `usage`: absent, `null`, partial, or under other names (`input_tokens`, Ollama's `prompt_eval_count`).
 */
import { isJsonObject } from '../../common/lenient-json';
import { z } from 'zod';
import { snippet } from '../../common/limits';
import { FINISH_REASONS, type FinishReason, type ToolCall } from '../../common/types';
import { normalizeArguments } from './arguments';
import { ModelTransportError } from './failures';
import { parseInTextToolCalls, quotedCallSignatures, type TextToolCall } from './in-text-tool-calls';

const toolCallSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  invalidArguments: z.object({ raw: z.string(), problem: z.string() }).optional(),
  providerFields: z.record(z.string(), z.unknown()).optional(),
});

/** tandem's reply type: what the activity keeps and (bounded) returns. */
export const normalizedReplySchema = z.object({
  content: z.string().nullable(),
  reasoning: z.string().optional(),
  refusal: z.string().optional(),
  toolCalls: z.array(toolCallSchema),
  finishReason: z.enum(FINISH_REASONS),
  /** The server's own value, when it differs from `finishReason`. */
  rawFinishReason: z.string().optional(),
  /** Usage as reported; a missing figure is counted later and marked estimated. */
  reportedUsage: z.object({
    promptTokens: z.number().int().nonnegative().optional(),
    completionTokens: z.number().int().nonnegative().optional(),
    /** Of the prompt, tokens read from the server's cache (OpenAI's `prompt_tokens_details.cached_tokens`). */
    cachedTokens: z.number().int().nonnegative().optional(),
  }),
  problem: z.string().optional(),
  repairs: z.array(z.string()),
});
export type NormalizedReply = z.infer<typeof normalizedReplySchema>;

/** A body that holds no reply at all (no choices, an error object): the activity turns it into a failure. */
export class ModelReplyError extends Error {
  constructor(
    message: string,
    /** The server's own error text, when it sent one: classified like an HTTP error body. */
    readonly serverError?: string,
  ) {
    super(message);
    this.name = 'ModelReplyError';
  }
}

export interface NormalizeContext {
  /** Tool names the request offered; names are matched to them and in-text calls need them. */
  offeredTools: readonly string[];
  /** Ids already used in the transcript: a repeated id is replaced so every id stays unique. */
  takenIds: ReadonlySet<string>;
  /** Makes generated ids unique and stable for this call (e.g. the prompt's transcript reference). */
  idSeed: string;
  /** `TANDEM_IN_TEXT_TOOL_CALLS`: false never reads tool calls out of the text (default true). */
  inTextToolCalls?: boolean;
  /**
   * The texts the model was shown but did not write (tool outputs, the goal and other user messages), read only when
   * the reply holds an in-text call: a call repeated from them is a quotation, never run.
   */
  quotedSources?: () => readonly string[];
}

type Json = Record<string, unknown>;

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

interface ContentParts {
  text: string | null;
  reasoning: string[];
  refusal: string[];
  ignored: string[];
}

/** Text of a Mistral `thinking` part: a string, or a list of `{type:'text', text}`. */
function partText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(partText).join('');
  if (isJsonObject(value)) return str(value.text) ?? str(value.content) ?? partText(value.thinking ?? value.summary);
  return '';
}

/** What one content part is: answer text, reasoning, a refusal, or a kind tandem does not read (images, audio). */
export type PartKind = { kind: 'text' | 'reasoning' | 'refusal'; text: string } | { kind: 'ignored'; type: string };

/** Classifies one content part; the stream assembler (./stream.ts) uses it too, so a streamed reply reads the same. */
export function classifyPart(part: unknown): PartKind | undefined {
  if (typeof part === 'string') return { kind: 'text', text: part };
  if (!isJsonObject(part)) return undefined;
  if (part.type === 'thinking' || part.type === 'reasoning' || part.type === 'redacted_thinking') {
    return { kind: 'reasoning', text: partText(part.thinking ?? part.text ?? part.summary ?? part.content) };
  }
  if (part.type === 'refusal') return { kind: 'refusal', text: str(part.refusal) ?? partText(part) };
  if (part.type === undefined || part.type === 'text' || part.type === 'output_text') {
    // `text` is a string in chat completions; `{value, annotations}` where a proxy passes Assistants-style parts on.
    const text = str(part.text) ?? (isJsonObject(part.text) ? str(part.text.value) : undefined);
    return text === undefined ? undefined : { kind: 'text', text };
  }
  return { kind: 'ignored', type: String(part.type) };
}

function readContent(content: unknown): ContentParts {
  const out: ContentParts = { text: null, reasoning: [], refusal: [], ignored: [] };
  if (content === null || content === undefined) return out;
  if (typeof content === 'string') return { ...out, text: content };
  const parts = Array.isArray(content) ? content : [content];
  const texts: string[] = [];
  for (const part of parts.map(classifyPart)) {
    if (part?.kind === 'text') texts.push(part.text);
    else if (part?.kind === 'reasoning') out.reasoning.push(part.text);
    else if (part?.kind === 'refusal') out.refusal.push(part.text);
    else if (part?.kind === 'ignored') out.ignored.push(part.type);
  }
  if (!Array.isArray(content) && !isJsonObject(content)) texts.push(String(content));
  return { ...out, text: texts.length ? texts.join('') : null };
}

/**
 * `<think>...</think>` (or `<thinking>`, `<reasoning>`) at the start of the text, one never closed, or a text whose
 * opening tag was in the prompt (`...</think>answer`).
 */
function splitThink(text: string): { text: string; reasoning?: string } {
  const open = /^\s*<(think|thinking|reasoning)>([\s\S]*?)<\/\1>\s*/.exec(text);
  if (open) return { text: text.slice(open[0].length), reasoning: open[2].trim() };
  // Opened and never closed: the model stopped (or was cut off) while still thinking, so there is no answer yet.
  const unclosed = /^\s*<(think|thinking|reasoning)>([\s\S]*)$/.exec(text);
  if (unclosed) return { text: '', reasoning: unclosed[2].trim() };
  const close = text.indexOf('</think>');
  if (close >= 0 && !text.slice(0, close).includes('<think>')) {
    return { text: text.slice(close + '</think>'.length).trimStart(), reasoning: text.slice(0, close).trim() };
  }
  return { text };
}

function readReasoning(message: Json): string[] {
  const found: string[] = [];
  for (const key of ['reasoning_content', 'reasoning', 'thinking']) {
    const value = message[key];
    const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : partText(value);
    if (text.trim()) found.push(text);
  }
  return found;
}

/**
 * Finish reasons that say the server broke the generation off, whatever text came before (vLLM's `abort`, DeepSeek's
 * `insufficient_system_resource`, Mistral's and Gemini's `error`, `cancelled`/`interrupted` from proxies): the reply is
 * incomplete and the call is asked again, as for a stream cut short.
 */
const INTERRUPTED_FINISH_REASONS = [
  'abort',
  'aborted',
  'error',
  'insufficient_system_resource',
  'cancelled',
  'canceled',
  'interrupted',
  'malformed_function_call',
];

export function normalizeFinishReason(raw: unknown, hasToolCalls: boolean): FinishReason {
  const value = typeof raw === 'string' ? raw.toLowerCase() : '';
  const reason: FinishReason = [
    'length',
    'max_tokens',
    'max_output_tokens',
    'model_length',
    'model_context_window_exceeded',
  ].includes(value)
    ? 'length'
    : ['tool_calls', 'function_call', 'tool_use', 'tool', 'tool_call'].includes(value)
      ? 'tool_calls'
      : ['content_filter', 'safety', 'recitation', 'blocklist', 'prohibited_content', 'spii'].includes(value)
        ? 'content_filter'
        : ['stop', 'end_turn', 'eos', 'eos_token', 'stop_sequence', ''].includes(value)
          ? 'stop'
          : 'other';
  // A reply that calls tools was not "stopped": Gemini (streaming) and Ollama say `stop` there. One that says
  // `tool_calls` but carries none (its calls lost to a server's parser) stopped: what it holds is all there is.
  if (!hasToolCalls && reason === 'tool_calls') return 'stop';
  return hasToolCalls && (reason === 'stop' || reason === 'other') ? 'tool_calls' : reason;
}

function count(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.round(n) : undefined;
}

export function readUsage(raw: Json): NormalizedReply['reportedUsage'] {
  const usage = isJsonObject(raw.usage) ? raw.usage : isJsonObject(raw.usageMetadata) ? raw.usageMetadata : raw;
  const prompt = count(usage.prompt_tokens ?? usage.input_tokens ?? usage.promptTokenCount ?? usage.prompt_eval_count);
  let completion = count(
    usage.completion_tokens ?? usage.output_tokens ?? usage.candidatesTokenCount ?? usage.eval_count,
  );
  const total = count(usage.total_tokens ?? usage.totalTokenCount);
  if (completion === undefined && prompt !== undefined && total !== undefined && total >= prompt) {
    completion = total - prompt;
  }
  // Chat completions put cached tokens under `prompt_tokens_details`, the Responses API under `input_tokens_details`;
  // either way they are a part of the prompt count, not an addition to it.
  const details = isJsonObject(usage.prompt_tokens_details)
    ? usage.prompt_tokens_details
    : isJsonObject(usage.input_tokens_details)
      ? usage.input_tokens_details
      : {};
  const cached = count(details.cached_tokens);
  return {
    ...(prompt !== undefined ? { promptTokens: prompt } : {}),
    ...(completion !== undefined ? { completionTokens: completion } : {}),
    ...(cached ? { cachedTokens: prompt === undefined ? cached : Math.min(cached, prompt) } : {}),
  };
}

/**
 * Usage without the zeros some servers report when they did not count (vLLM and proxies streaming without usage):
 * no request has a prompt of 0 tokens, and no reply with text or calls has 0 completion tokens. A count dropped here
 * is counted by tandem and marked estimated, so budgets still hold.
 */
function plausibleUsage(usage: NormalizedReply['reportedUsage'], produced: boolean): NormalizedReply['reportedUsage'] {
  const { promptTokens, completionTokens, cachedTokens } = usage;
  return {
    ...(promptTokens ? { promptTokens, ...(cachedTokens ? { cachedTokens } : {}) } : {}),
    ...(completionTokens || (completionTokens === 0 && !produced) ? { completionTokens } : {}),
  };
}

/**
 * The offered tool a model's name means: exact, then trimmed, `functions.`-less, without the special tokens gpt-oss
 * leaks into it (`calculator<|channel|>commentary`) or a `json` glued on (`calculatorjson`, llama.cpp#15158), case-
 * and separator-insensitive.
 */
function matchName(raw: string, offered: readonly string[]): string {
  const trimmed = raw
    .replace(/<\|[^|]*\|>[\s\S]*$/, '')
    .trim()
    .replace(/^functions?[.:]/i, '');
  if (offered.includes(trimmed)) return trimmed;
  const key = (name: string) => name.toLowerCase().replace(/[\s-]+/g, '_');
  const unglued = trimmed.replace(/json$/i, '');
  return (
    offered.find((name) => key(name) === key(trimmed)) ?? offered.find((name) => key(name) === key(unglued)) ?? trimmed
  );
}

interface RawCall {
  id?: unknown;
  name?: unknown;
  arguments?: unknown;
  providerFields?: Record<string, unknown>;
}

/** `{id, type, function: {name, arguments}}`, or the same without the wrapper or type. */
function rawCallOf(value: unknown): RawCall | undefined {
  if (!isJsonObject(value)) return undefined;
  const fn = isJsonObject(value.function) ? value.function : value;
  if (value.type !== undefined && value.type !== 'function' && !isJsonObject(value.function)) return undefined;
  const providerFields = isJsonObject(value.extra_content) ? { extra_content: value.extra_content } : undefined;
  return {
    id: value.id ?? value.call_id,
    name: fn.name,
    arguments: 'arguments' in fn ? fn.arguments : fn.parameters,
    ...(providerFields ? { providerFields } : {}),
  };
}

function toToolCalls(raws: RawCall[], ctx: NormalizeContext, repairs: string[]): ToolCall[] {
  const taken = new Set(ctx.takenIds);
  return raws.map((raw, index) => {
    let id = str(raw.id)?.trim() ?? '';
    if (id === '' || taken.has(id)) {
      const why = id === '' ? 'missing' : `repeated (${id})`;
      let n = index;
      do id = `call_${ctx.idSeed}_${n++}`;
      while (taken.has(id));
      repairs.push(`tool call ${index} had a ${why} id; it is now ${id}`);
    }
    taken.add(id);
    const rawName = str(raw.name) ?? '';
    let name = matchName(rawName, ctx.offeredTools);
    if (name === '') {
      name = 'missing_name';
      repairs.push(`tool call ${index} had no name`);
    } else if (name !== rawName) repairs.push(`tool name ${JSON.stringify(rawName)} read as ${name}`);
    const args = normalizeArguments(raw.arguments);
    if (args.repair) repairs.push(`${name}: ${args.repair}`);
    return {
      id,
      name,
      arguments: args.json,
      ...(args.invalid ? { invalidArguments: args.invalid } : {}),
      ...(raw.providerFields ? { providerFields: raw.providerFields } : {}),
    };
  });
}

function readToolCalls(message: Json): RawCall[] {
  const list = message.tool_calls;
  const raws = (Array.isArray(list) ? list : isJsonObject(list) ? [list] : []).flatMap(
    (value) => rawCallOf(value) ?? [],
  );
  if (raws.length === 0 && isJsonObject(message.function_call)) {
    raws.push({ name: message.function_call.name, arguments: message.function_call.arguments });
  }
  return raws;
}

/** The one choice tandem reads, from `choices[0]`, Ollama's native `message`, or a chunk-shaped `delta`. */
function readChoice(raw: Json): { message: Json; finishReason: unknown } {
  const choices = Array.isArray(raw.choices) ? raw.choices : isJsonObject(raw.choices) ? [raw.choices] : undefined;
  const choice = choices?.find(isJsonObject);
  // `{"object": "error", "message": ...}` is the error itself (vLLM's error body), as in a stream (./stream.ts).
  const error = choice?.error ?? (raw.object === 'error' ? raw : raw.error);
  if (error !== undefined && error !== null && (!choice || choice.finish_reason === 'error')) {
    const text = isJsonObject(error) ? (str(error.message) ?? JSON.stringify(error)) : String(error);
    throw new ModelReplyError(`the server sent an error instead of a reply: ${snippet(text, 200)}`, text);
  }
  if (choice) {
    const message = isJsonObject(choice.message)
      ? choice.message
      : isJsonObject(choice.delta)
        ? choice.delta
        : undefined;
    if (message) return { message, finishReason: choice.finish_reason };
    if (typeof choice.text === 'string')
      return { message: { content: choice.text }, finishReason: choice.finish_reason };
    // A finished choice with no message (Gemini's endpoint when its safety filter ends the reply): an empty reply,
    // which the caller asks again for, not a malformed body retried as an outage.
    if (typeof choice.finish_reason === 'string') return { message: {}, finishReason: choice.finish_reason };
  }
  if (isJsonObject(raw.message)) return { message: raw.message, finishReason: raw.done_reason ?? raw.finish_reason };
  throw new ModelReplyError(`the server sent a reply without choices: ${snippet(raw, 200)}`);
}

/**
 * Turns a parsed chat-completions body (or a streamed one, assembled) into tandem's reply. Throws
 * {@link ModelReplyError} only when there is no reply in it at all.
 */
export function normalizeCompletion(raw: unknown, ctx: NormalizeContext): NormalizedReply {
  if (!isJsonObject(raw)) throw new ModelReplyError(`the server sent ${snippet(raw, 200)} instead of a JSON object`);
  const { message, finishReason } = readChoice(raw);
  if (typeof finishReason === 'string' && INTERRUPTED_FINISH_REASONS.includes(finishReason.toLowerCase())) {
    throw new ModelTransportError(
      'incomplete',
      `the server ended the reply with finish_reason ${JSON.stringify(finishReason)}: it broke the generation off, ` +
        'so the reply is not an answer (asking again)',
    );
  }
  const repairs: string[] = [];
  const parts = readContent(message.content);
  if (parts.ignored.length) repairs.push(`content parts ignored: ${parts.ignored.join(', ')}`);
  if (Array.isArray(message.content)) repairs.push('content parts joined into text');
  const reasoning = [...readReasoning(message), ...parts.reasoning];
  let text = parts.text;
  if (text !== null) {
    const split = splitThink(text);
    if (split.reasoning !== undefined) {
      reasoning.push(split.reasoning);
      text = split.text;
      repairs.push('<think> text moved to reasoning');
    }
  }
  const refusal = [str(message.refusal) ?? '', ...parts.refusal].filter((s) => s.trim() !== '').join('\n');

  let rawCalls = readToolCalls(message);
  let problem: string | undefined;
  const inText = ctx.inTextToolCalls ?? true;
  let quoted: ReadonlySet<string> | undefined;
  const quotedCalls = () => (quoted ??= quotedCallSignatures(ctx.quotedSources?.() ?? []));
  if (rawCalls.length === 0 && text && inText) {
    const found = parseInTextToolCalls(text, ctx.offeredTools, false, quotedCalls);
    if (found?.quoted)
      repairs.push(`a tool call quoted from a tool output or the goal was read as text (${found.form})`);
    else if (found?.problem) problem = found.problem;
    else if (found && found.calls.length > 0) {
      rawCalls = found.calls.map((call: TextToolCall) => ({ id: call.id, name: call.name, arguments: call.arguments }));
      text = found.rest.trim();
      repairs.push(`${found.calls.length} tool call(s) read from the text (${found.form})`);
    }
  }
  // No answer, but a call with a marker in the reasoning: a server's reasoning parser took the call in with the
  // thinking (Qwen3 and gpt-oss on vLLM and llama.cpp). Unmarked JSON there is only thought, never a call.
  if (rawCalls.length === 0 && !problem && !text?.trim() && reasoning.length && inText) {
    const found = parseInTextToolCalls(reasoning.join('\n'), ctx.offeredTools, true, quotedCalls);
    if (found && !found.quoted) {
      rawCalls = found.calls.map((call: TextToolCall) => ({ id: call.id, name: call.name, arguments: call.arguments }));
      repairs.push(`${found.calls.length} tool call(s) read from the reasoning (${found.form})`);
    }
  }
  const toolCalls = toToolCalls(rawCalls, ctx, repairs);
  const normalizedFinish = normalizeFinishReason(finishReason, toolCalls.length > 0);
  const reply: NormalizedReply = {
    content: text !== null && text.trim() === '' && toolCalls.length > 0 ? null : text,
    ...(reasoning.length ? { reasoning: reasoning.join('\n') } : {}),
    ...(refusal ? { refusal } : {}),
    toolCalls,
    finishReason: normalizedFinish,
    ...(typeof finishReason === 'string' && finishReason !== normalizedFinish ? { rawFinishReason: finishReason } : {}),
    reportedUsage: plausibleUsage(readUsage(raw), Boolean(text?.trim() || reasoning.length || toolCalls.length)),
    ...(problem ? { problem } : {}),
    repairs,
  };
  return normalizedReplySchema.parse(reply);
}
