/**
 * Assembles a streamed chat completion (server-sent events of `chat.completion.chunk`) into the body a non-streaming
 * call would have returned, so one normaliser (./normalize.ts) reads both. Tolerates what servers are known to stream:
 * - tool-call deltas without `index` (Gemini's compatible endpoint), several calls all at index 0 with different ids
 *   (Gemini through proxies), the id only in the first delta (LiteLLM), argument-only deltas without id or name;
 * - arguments streamed as text pieces, or as one object (llama.cpp with object arguments);
 * - content as text pieces or as parts (Mistral), `reasoning_content` / `reasoning` pieces;
 * - `usage: null` on every chunk and the usage in a final chunk with `choices: []` (OpenAI, Ollama), or on the
 *   finishing chunk (vLLM, llama.cpp), or none at all;
 * - an error in the stream, surfaced as the call's failure: an `error` object (OpenRouter, llama.cpp), a chunk that is
 *   the error itself (`"object": "error"`, older vLLM), or an `event: error` event whatever its data;
 * - content parts of every kind ./normalize.ts reads (reasoning parts stay reasoning), and an object's arguments
 *   followed by empty argument deltas.
 */
import { isJsonObject } from '../../common/lenient-json';
import { classifyPart, ModelReplyError } from './normalize';

type Json = Record<string, unknown>;
interface CallSlot {
  index?: number;
  id?: string;
  type?: unknown;
  name?: string;
  arguments?: string | Json;
  extra_content?: unknown;
}

/** Hears each piece of text as it arrives (the live event stream, activities/event-stream.ts). */
export type TextListener = (kind: 'content' | 'reasoning', text: string) => void;

/** Collects chunks; `body()` is the assembled completion. */
export class StreamAssembler {
  private content: string | null = null;
  private reasoning = '';
  private refusal = '';
  private readonly calls: CallSlot[] = [];
  private finishReason: unknown = null;
  private usage: Json | undefined;
  private model: unknown;
  /** Chunks that carried text, reasoning or arguments: about one token each on every server tandem was tried on. */
  tokens = 0;

  constructor(private readonly onText?: TextListener) {}

  /** A chunk carried a `finish_reason`: the server said the reply ended (what `[DONE]` also says). */
  get finished(): boolean {
    return this.finishReason !== null;
  }

  /** Adds one parsed `data:` payload. */
  add(chunk: unknown): void {
    if (!isJsonObject(chunk)) return;
    // `{"error": ...}` (OpenRouter, llama.cpp, newer vLLM) or the error itself, `{"object": "error", ...}` (older vLLM).
    const error = chunk.object === 'error' ? chunk : chunk.error;
    if (error !== undefined && error !== null) {
      const text = isJsonObject(error) ? String(error.message ?? JSON.stringify(error)) : String(error);
      throw new ModelReplyError(`the server sent an error in the stream: ${text.slice(0, 300)}`, text);
    }
    this.model ??= chunk.model;
    if (isJsonObject(chunk.usage) && Object.values(chunk.usage).some((v) => typeof v === 'number' && v > 0)) {
      this.usage = chunk.usage;
    }
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    for (const choice of choices) {
      if (!isJsonObject(choice) || (typeof choice.index === 'number' && choice.index !== 0)) continue;
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) this.finishReason = choice.finish_reason;
      const delta = isJsonObject(choice.delta)
        ? choice.delta
        : isJsonObject(choice.message)
          ? choice.message
          : undefined;
      if (delta) this.addDelta(delta);
    }
  }

  private addDelta(delta: Json): void {
    let counted = false;
    const text = (value: string, kind?: 'content' | 'reasoning') => {
      if (value !== '') {
        counted = true;
        if (kind) this.onText?.(kind, value);
      }
      return value;
    };
    if (typeof delta.content === 'string') this.content = (this.content ?? '') + text(delta.content, 'content');
    else if (Array.isArray(delta.content)) {
      for (const part of delta.content.map(classifyPart)) {
        if (part?.kind === 'text') this.content = (this.content ?? '') + text(part.text, 'content');
        else if (part?.kind === 'reasoning') this.reasoning += text(part.text, 'reasoning');
        else if (part?.kind === 'refusal') this.refusal += text(part.text);
      }
    }
    for (const key of ['reasoning_content', 'reasoning'] as const) {
      if (typeof delta[key] === 'string') this.reasoning += text(delta[key] as string, 'reasoning');
    }
    if (typeof delta.refusal === 'string') this.refusal += text(delta.refusal);
    const toolCalls = Array.isArray(delta.tool_calls)
      ? delta.tool_calls
      : isJsonObject(delta.tool_calls)
        ? [delta.tool_calls]
        : [];
    for (const raw of toolCalls) if (isJsonObject(raw) && this.addCall(raw)) counted = true;
    // The legacy `function_call` delta: one call, streamed like a tool call.
    if (isJsonObject(delta.function_call) && this.addCall({ index: 0, function: delta.function_call })) counted = true;
    if (counted) this.tokens++;
  }

  /** Finds the call a delta continues, or starts a new one; returns whether it carried any text. */
  private addCall(raw: Json): boolean {
    const fn = isJsonObject(raw.function) ? raw.function : {};
    const id = typeof raw.id === 'string' && raw.id !== '' ? raw.id : undefined;
    const name = typeof fn.name === 'string' && fn.name !== '' ? fn.name : undefined;
    const index = typeof raw.index === 'number' ? raw.index : undefined;
    let slot: CallSlot | undefined;
    if (index !== undefined) {
      const atIndex = this.calls.find((c) => c.index === index);
      // Same index, another id and a name: a new call from a server that numbers every call 0.
      const isNew = atIndex && id !== undefined && atIndex.id !== undefined && atIndex.id !== id && name !== undefined;
      if (atIndex && !isNew) slot = atIndex;
    } else if (id !== undefined) slot = this.calls.find((c) => c.id === id);
    // A delta with neither index, id nor name continues the last call (argument-only deltas).
    if (!slot && index === undefined && id === undefined && name === undefined) slot = this.calls.at(-1);
    if (!slot) {
      slot = { index: index ?? Math.max(this.calls.length, ...this.calls.map((c) => (c.index ?? 0) + 1)) };
      this.calls.push(slot);
    }
    if (id !== undefined) slot.id ??= id;
    if (raw.type !== undefined) slot.type ??= raw.type;
    if (name !== undefined && !slot.name) slot.name = name;
    if (raw.extra_content !== undefined) slot.extra_content = raw.extra_content;
    const args = fn.arguments;
    // An empty piece adds nothing; it must not replace arguments a server sent whole, as an object, before it.
    if (args === '') return name !== undefined;
    if (typeof args === 'string') {
      slot.arguments =
        typeof slot.arguments === 'string' || slot.arguments === undefined ? (slot.arguments ?? '') + args : args;
      return true;
    }
    if (isJsonObject(args)) {
      slot.arguments = args;
      return true;
    }
    return name !== undefined;
  }

  /** The completion as a non-streaming call would have returned it. */
  body(): Json {
    // The first chunk's `content: ''` is not an answer: a stream that sent no text has no content.
    const message: Json = { role: 'assistant', content: this.content === '' ? null : this.content };
    if (this.reasoning) message.reasoning_content = this.reasoning;
    if (this.refusal) message.refusal = this.refusal;
    if (this.calls.length) {
      message.tool_calls = this.calls.map((c) => ({
        id: c.id,
        type: c.type ?? 'function',
        function: { name: c.name, arguments: c.arguments },
        ...(c.extra_content !== undefined ? { extra_content: c.extra_content } : {}),
      }));
    }
    return {
      object: 'chat.completion',
      model: this.model,
      choices: [{ index: 0, message, finish_reason: this.finishReason }],
      ...(this.usage ? { usage: this.usage } : {}),
    };
  }
}

/** Splits server-sent events out of a text stream; yields each event's `data` (joined lines). */
export class SseParser {
  private buffer = '';

  /** Feeds text; returns the complete events' data strings. */
  push(text: string): string[] {
    this.buffer += text;
    const events: string[] = [];
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.buffer);
      if (!m) break;
      const block = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const data = dataOf(block);
      if (data !== undefined) events.push(data);
    }
    return events;
  }

  /** What is left when the stream ends (a last event without its blank line). */
  end(): string[] {
    const data = dataOf(this.buffer);
    this.buffer = '';
    return data === undefined ? [] : [data];
  }
}

function dataOf(block: string): string | undefined {
  const lines = block.split(/\r?\n/);
  const data = lines.filter((line) => line.startsWith('data:')).map((line) => line.slice(5).replace(/^ /, ''));
  if (data.length === 0) return undefined;
  const text = data.join('\n');
  // An `event: error` is the server's error whatever its data looks like (a bare `{"message"}`, plain text): it is
  // handed on in the in-band shape, so it fails the call instead of being read as an empty chunk.
  if (!lines.some((line) => /^event:\s*error\s*$/.test(line))) return text;
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // plain text: the error's message
  }
  const inner = typeof parsed === 'object' && parsed !== null && 'error' in parsed ? parsed.error : parsed;
  return JSON.stringify({ error: inner ?? text });
}
