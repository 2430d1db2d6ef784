/**
 * One HTTP request to a chat-completions endpoint, streamed when asked, with Node's own `fetch`: tandem reads the raw
 * body itself (the openai client would reject or reshape what ./normalize.ts must see), and owns its timeouts:
 * - the time to the first byte, and the whole reply when it does not stream: `timeoutMs`;
 * - while streaming, the longest gap between tokens: `stallMs`, so a long generation is told apart from a dead server.
 * A server that answers a streaming request with plain JSON is read as JSON: non-streaming servers keep working.
 *
 * A stream is complete only when it says so: a `finish_reason` or `data: [DONE]`. One that ends without either (a
 * proxy or server that closed the connection cleanly mid-reply) is cut short, whatever text it carried, and fails as
 * `incomplete` so the call is asked again: half a sentence is never an answer (see docs/model-replies.md).
 */
import { sliceChars } from '../../common/limits';
import type { ModelEndpoint } from '../../node/config';
import { ModelHttpError, ModelTransportError } from './failures';
import { SseParser, StreamAssembler, type TextListener } from './stream';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

export interface PostOptions {
  endpoint: ModelEndpoint;
  timeoutMs: number;
  stallMs: number;
  /** The activity's cancellation: aborts the request, and its reason is rethrown. */
  signal: AbortSignal;
  headers: Record<string, string>;
  /** Called as tokens stream in, with the count so far. */
  onTokens?: (tokens: number) => void;
  /** Called with each piece of text or reasoning as it streams in. */
  onText?: TextListener;
}

export interface PostResult {
  /** The completion body (assembled from the stream when it streamed). */
  body: unknown;
  streamed: boolean;
  /** Tokens (chunks with text) that streamed in. */
  streamedTokens: number;
}

/** The endpoint's base URL as tandem calls it, for messages. */
export function endpointURL(endpoint: ModelEndpoint): string {
  return (endpoint.baseURL ?? OPENAI_BASE_URL).replace(/\/+$/, '');
}

export async function postChatCompletion(body: Record<string, unknown>, opts: PostOptions): Promise<PostResult> {
  const base = endpointURL(opts.endpoint);
  const controller = new AbortController();
  let failure: Error | undefined;
  const abort = (err: Error) => {
    failure ??= err;
    controller.abort(err);
  };
  const onCancel = () => abort(opts.signal.reason instanceof Error ? opts.signal.reason : new Error('cancelled'));
  if (opts.signal.aborted) onCancel();
  opts.signal.addEventListener('abort', onCancel);
  let timer = setTimeout(
    () => abort(new ModelTransportError('timeout', `${base} did not answer within ${opts.timeoutMs} ms`)),
    opts.timeoutMs,
  );
  const rearm = (tokens: number) => {
    clearTimeout(timer);
    timer = setTimeout(
      () =>
        abort(
          new ModelTransportError(
            'stalled',
            `${base} stalled: no token for ${opts.stallMs} ms after ${tokens} streamed (TANDEM_MODEL_STALL_MS)`,
          ),
        ),
      opts.stallMs,
    );
  };
  try {
    const send = () =>
      fetch(`${base}/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: body.stream ? 'text/event-stream, application/json' : 'application/json',
          authorization: `Bearer ${opts.endpoint.apiKey}`,
          ...opts.headers,
        },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
    // A kept-alive connection the server closed just as the request went out (ECONNRESET, "other side closed"): the
    // request never reached it, so it is sent once more at once instead of costing an activity retry with backoff.
    const response = await send().catch((err: unknown) => {
      if (failure || !isStaleConnection(err)) throw err;
      return send();
    });
    if (!response.ok) {
      throw new ModelHttpError(response.status, await response.text(), response.headers, base);
    }
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('text/event-stream')) {
      const text = await response.text();
      if (!text.trimStart().startsWith('data:'))
        return { body: parseBody(text, base), streamed: false, streamedTokens: 0 };
      return assemble([text], base, undefined, opts.onText);
    }
    if (!response.body) throw new ModelTransportError('malformed', `${base} sent an empty stream`);
    return await assemble(
      response.body,
      base,
      (tokens) => {
        rearm(tokens);
        opts.onTokens?.(tokens);
      },
      opts.onText,
    );
  } catch (err) {
    throw failure ?? (isError(err) && err.name !== 'AbortError' ? toTransportError(err, base) : err);
  } finally {
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', onCancel);
  }
}

/** An error from any realm: undici's (`TypeError: terminated` on a body cut short) fail `instanceof` under a VM. */
function isError(err: unknown): err is Error {
  return err instanceof Error || Object.prototype.toString.call(err) === '[object Error]';
}

function isStaleConnection(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause;
  return ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(cause?.code ?? '');
}

function toTransportError(err: Error, base: string): Error {
  if (err instanceof ModelHttpError || err instanceof ModelTransportError || err.name === 'ModelReplyError') return err;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return new ModelTransportError('network', `${base}: ${err.message}${cause?.message ? ` (${cause.message})` : ''}`);
}

/** The JSON of an event's data, or undefined when it is not JSON (cut off mid-way). */
function parseEvent(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

function incomplete(base: string, tokens: number, where: string): ModelTransportError {
  return new ModelTransportError(
    'incomplete',
    `${base} ended the stream ${where} after ${tokens} tokens: the reply was cut short, so it is not an answer ` +
      '(asking again)',
  );
}

function parseBody(text: string, base: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelTransportError(
      'malformed',
      `${base} sent a reply that is not JSON (${(err as Error).message}): ${sliceChars(text, 200)}`,
    );
  }
}

async function assemble(
  source: AsyncIterable<Uint8Array | string> | string[],
  base: string,
  onData: ((tokens: number) => void) | undefined,
  onText?: TextListener,
): Promise<PostResult> {
  const parser = new SseParser();
  const assembler = new StreamAssembler(onText);
  const decoder = new TextDecoder();
  let done = false;
  // Some servers label a whole JSON reply `text/event-stream` (stream ignored, header kept): kept until an event shows.
  let sawEvent = false;
  let unframed = '';
  const take = (events: string[]) => {
    for (const data of events) {
      sawEvent = true;
      if (data.trim() === '[DONE]') {
        done = true;
        continue;
      }
      assembler.add(parseBody(data, base));
      onData?.(assembler.tokens);
    }
  };
  for await (const piece of source) {
    const text = typeof piece === 'string' ? piece : decoder.decode(piece, { stream: true });
    if (!sawEvent) unframed += text;
    take(parser.push(text));
    if (done) break;
  }
  const last = done ? [] : parser.end();
  // A last event without its blank line is kept when whole; one that is not JSON was cut off mid-chunk.
  if (last.some((data) => data.trim() !== '[DONE]' && parseEvent(data) === undefined)) {
    throw incomplete(base, assembler.tokens, 'inside an event');
  }
  take(last);
  if (!sawEvent && unframed.trim() !== '')
    return { body: parseBody(unframed, base), streamed: false, streamedTokens: 0 };
  if (!done && !assembler.finished) throw incomplete(base, assembler.tokens, 'without a finish_reason or [DONE]');
  return { body: assembler.body(), streamed: true, streamedTokens: assembler.tokens };
}
