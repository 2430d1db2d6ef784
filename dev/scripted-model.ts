/**
 * The one scripted LLM for tandem's tests: a real HTTP server on 127.0.0.1 that speaks the OpenAI
 * chat-completions protocol, non-streaming and streaming (server-sent events for `stream: true`), so the code under
 * test runs its real client end to end.
 *
 * It can send every shape real servers send: `reply.message(...)` puts any assistant message (content parts, object
 * arguments, missing ids, ...) into an otherwise ordinary completion, `reply.completion(...)` sends a whole body as
 * given, `reply.chunks(...)` streams given chunks verbatim. With `{ strict: true }` it refuses, as OpenAI's own
 * validation does, a request whose transcript a strict server would reject (see `strictProblem`).
 *
 * How a test scripts it:
 *
 * ```ts
 * const model = await startScriptedModel();
 * model
 *   .on(match.responseFormat('plan'), [reply.json({ steps: ['add numbers'] })], { name: 'planner' })
 *   .on(match.hasTools(), [reply.toolCall('calculator', { expression: '2+2' }), reply.text('4')], { name: 'executor' });
 * const client = new OpenAI({ baseURL: model.baseURL, apiKey: 'test-key' });
 * // ... run the code under test ...
 * expect(model.requests[1].toolNames).toContain('calculator');
 * model.assertAllAnswered();
 * await model.close();
 * ```
 *
 * For each request the first rule (in registration order) whose `match` returns true and that still has replies
 * answers it; a rule hands out its replies in order, one per request, and with `repeatLast` reuses the last one
 * forever. A request no rule can answer gets HTTP 500 with a message naming the request and the rules, and lands in
 * `unmatched` and `failures` so the test can see why the code under test failed even if it swallowed the error.
 *
 * Keep in mind that the `openai` client retries 408/409/429/5xx (twice by default, honouring `retry-after`), so an
 * unscripted request shows up several times unless the client is built with `maxRetries: 0`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Token counts as the chat-completions API reports them. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** OpenAI's prompt-cache figure: `cached_tokens` of the prompt were read from the cache (a part of the prompt). */
  prompt_tokens_details: { cached_tokens: number };
}

/** One content part of a multi-part message (`{ type: 'text', text }`, images, ...). */
export interface ContentPart {
  type: string;
  text?: string;
  [key: string]: unknown;
}

/** A tool call as it appears in an assistant message sent back to the model. */
export interface RequestToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

/** A message of a chat-completions request. */
export interface RequestMessage {
  role: string;
  content: string | null | ContentPart[];
  tool_calls?: RequestToolCall[];
  tool_call_id?: string;
  name?: string;
}

/** The parsed JSON body of `POST /v1/chat/completions`; fields the scripted model does not read stay `unknown`. */
export interface ChatCompletionRequestBody {
  model?: string;
  messages: RequestMessage[];
  tools?: Array<{ type: string; function?: { name: string; description?: string; parameters?: unknown } }>;
  response_format?: { type: string; json_schema?: { name: string; schema?: unknown; strict?: boolean } };
  [key: string]: unknown;
}

/** A chat-completions request as the scripted model received it, with conveniences for assertions. */
export interface RecordedRequest {
  /** 1-based, in arrival order; restarts at 1 after `reset()`. */
  id: number;
  /** Milliseconds since the epoch when the request arrived. */
  at: number;
  body: ChatCompletionRequestBody;
  /** Lower-cased header names, as Node delivers them; includes `authorization`. */
  headers: Record<string, string | string[] | undefined>;
  messages: RequestMessage[];
  /** `response_format.json_schema.name`, when the request asked for structured output. */
  responseFormatName?: string;
  /** What tandem says the call is for (`X-Tandem-Purpose`: plan, judge, report, step), when it says. */
  purpose?: string;
  /** The subtask the call is about (`X-Tandem-Subtask`), when tandem says. */
  subtaskId?: string;
  /** `response_format.type` (`json_schema`, `json_object`, `text`), when present. */
  responseFormatType?: string;
  /** Names of the function tools offered to the model. */
  toolNames: string[];
  /** All message contents joined by newlines, for `toContain` assertions. */
  text: string;
  /** Text of the last `user` message, or `''`. */
  lastUserText: string;
  /** Set when the client hung up before the scripted model answered (an aborted or timed-out call). */
  clientAborted: boolean;
  /** The request asked for a stream (`stream: true`). */
  stream: boolean;
  /** The output cap the request carried (`max_tokens` or `max_completion_tokens`). */
  maxTokens?: number;
}

/** A tool call the scripted model makes; object arguments are JSON-encoded, as the real API sends a string. */
export interface ScriptedToolCall {
  name: string;
  arguments: string | object;
  /** Defaults to `call_<requestId>_<index>`. */
  id?: string;
}

interface Delayable {
  /** Wait this long before answering; the wait is abandoned if the client disconnects. */
  delayMs?: number;
  /** Streaming only: wait this long between chunks. */
  chunkDelayMs?: number;
  /** Streaming only: send this many chunks, then go silent (a stalled server) until the client hangs up. */
  stallAfterChunks?: number;
  /**
   * Streaming only: send this many events, then end the body cleanly, with no finish chunk and no `[DONE]` (a proxy or
   * server that closed the stream mid-reply).
   */
  endAfterChunks?: number;
  /**
   * Send only this many bytes of the body, then drop the connection: a body cut short mid-transfer (streamed or JSON;
   * a JSON body still announces its whole `content-length`).
   */
  dropAfterBytes?: number;
}

/** An assistant message with text content. */
export interface TextReply extends Delayable {
  content: string;
  usage?: Partial<Usage>;
  /** `length` makes it look cut off by `max_tokens`. Defaults to `stop`. */
  finishReason?: 'stop' | 'length';
}

/** An assistant message that calls tools (`finish_reason: 'tool_calls'`). */
export interface ToolCallsReply extends Delayable {
  toolCalls: ScriptedToolCall[];
  content?: string;
  usage?: Partial<Usage>;
}

/** An assistant message whose content is `JSON.stringify(json)`, as for `response_format` requests. */
export interface JsonReply extends Delayable {
  json: unknown;
  usage?: Partial<Usage>;
}

/** An HTTP error response, e.g. 429 with `retry-after`, 401, 500, 503. */
export interface HttpErrorReply extends Delayable {
  status: number;
  /** JSON-encoded; defaults to an OpenAI-style `{ error: { message, type, code } }`. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** A body sent verbatim, e.g. something that is not JSON. */
export interface RawReply extends Delayable {
  raw: string;
  /** Defaults to 200. */
  status?: number;
  /** Defaults to `application/json`, so the client tries (and fails) to parse it. */
  contentType?: string;
}

/** Accept the request and never answer, until the client aborts or the server closes. */
export interface HangReply {
  hang: true;
}

/** A 200 whose assistant message has empty content and no tool calls. */
export interface EmptyReply extends Delayable {
  empty: true;
  /** Send `content: null` instead of `''`. */
  nullContent?: boolean;
  usage?: Partial<Usage>;
}

/**
 * A completion whose assistant message is sent exactly as given (content parts, object arguments, missing ids, an
 * in-text tool call, ...), with `finish_reason` and `usage` as given: `usage: null` sends null, absent sends none.
 * Streamed as chunks when the request asks for a stream.
 */
export interface MessageReply extends Delayable {
  message: Record<string, unknown>;
  finishReason?: string | null;
  usage?: Partial<Usage> | Record<string, unknown> | null;
}

/** A whole completion body sent as given (JSON), whether or not the request asked for a stream. */
export interface CompletionReply extends Delayable {
  completion: unknown;
}

/** A named server-sent event (`event: error` and its data), as some servers send errors mid-stream. */
export interface SseEvent {
  sseEvent: string;
  /** Sent as is when a string, JSON-encoded otherwise. */
  data: unknown;
}

/**
 * Server-sent events sent verbatim: each chunk (an object is JSON-encoded) as one `data:` event, an {@link SseEvent}
 * as a named event, then `[DONE]`.
 */
export interface ChunksReply extends Delayable {
  chunks: unknown[];
  /** Leave out the final `data: [DONE]`. */
  noDone?: boolean;
}

/**
 * Forwards the request, as received, to a real server and sends back its answer (status, headers, body streamed
 * through): the scripted model as a proxy that injects odd replies and lets the rest reach the real thing.
 */
export interface ForwardReply {
  /** The real server's base URL, e.g. `http://127.0.0.1:8080/v1`. */
  forward: string;
}

/** One scripted answer. */
export type Reply =
  | ForwardReply
  | TextReply
  | ToolCallsReply
  | JsonReply
  | HttpErrorReply
  | RawReply
  | HangReply
  | EmptyReply
  | MessageReply
  | CompletionReply
  | ChunksReply;

/** How the scripted model treats `stream: true`. */
export interface ScriptedModelOptions {
  /**
   * `sse` (default): stream server-sent events. `json`: ignore the flag and answer with JSON, as servers without
   * streaming do. `reject`: refuse it with a 400 naming `stream`, as some proxies do.
   */
  streaming?: 'sse' | 'json' | 'reject';
  /** Refuse, with OpenAI's 400, requests a strict server rejects (see {@link strictProblem}). */
  strict?: boolean;
  /** Refuse `response_format` types not listed, with a 400 naming the type (e.g. `['json_object']`). */
  responseFormats?: string[];
  /**
   * Answer no reply sooner than this (a reply's own `slow` delay still applies if longer), as a real endpoint takes
   * some time: the bench sets it so its figures do not flatter a loop that calls the model more often.
   */
  latencyMs?: number;
}

/** A reply, or a function that builds one from the request it answers. */
export type ScriptedReply = Reply | ((req: RecordedRequest) => Reply);

/** Decides whether a rule answers a request. */
export type Matcher = (req: RecordedRequest) => boolean;

/** A matcher and the replies it hands out in order. */
export interface Rule {
  name?: string;
  match: Matcher;
  replies: ScriptedReply[];
  repeatLast?: boolean;
}

/** Something the scripted model refused or could not answer: the test's script, not the model, is at fault. */
export interface ScriptFailure {
  at: number;
  status: number;
  message: string;
  /** Absent when the request could not be parsed. */
  request?: RecordedRequest;
}

/** A running scripted model server. */
export interface ScriptedModel {
  /** Pass as the `openai` client's `baseURL`, e.g. `http://127.0.0.1:PORT/v1`. */
  readonly baseURL: string;
  /** Every chat-completions request, answered or not, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Requests no rule could answer (they got a 500). */
  readonly unmatched: RecordedRequest[];
  /** Unmatched requests, unparseable bodies, unknown routes, and matchers or reply functions that threw. */
  readonly failures: ScriptFailure[];
  /** Appends a rule; returns the model for chaining. */
  on(
    match: Matcher,
    replies: ScriptedReply | ScriptedReply[],
    opts?: { name?: string; repeatLast?: boolean },
  ): ScriptedModel;
  /** Clears rules, requests and failures, and restarts request ids at 1. Calls in flight keep their replies. */
  reset(): void;
  requestsMatching(match: Matcher): RecordedRequest[];
  /** Resolves with the matching requests once at least `count` have arrived; rejects after `timeoutMs` (10s). */
  waitForRequests(count: number, opts?: { match?: Matcher; timeoutMs?: number }): Promise<RecordedRequest[]>;
  /** Throws, listing them, if any request was unmatched or refused. */
  assertAllAnswered(): void;
  /** Stops the server, ending hung and delayed calls. Safe to call twice. */
  close(): Promise<void>;
}

/** The model name it answers as when a request names none, and the one `tandem dev`/`demo` ask it for. */
export const SCRIPTED_MODEL_NAME = 'scripted-model';
const DEFAULT_WAIT_MS = 10_000;

/** Composable matchers for `ScriptedModel.on`. */
export const match = {
  /** Matches every request. */
  any: (() => true) as Matcher,
  /** Requests with a `response_format`; with a name, only `json_schema` formats of that name. */
  responseFormat:
    (name?: string): Matcher =>
    (req) =>
      name === undefined ? req.responseFormatType !== undefined : req.responseFormatName === name,
  /** tandem's `X-Tandem-Purpose` header says the call is for this (plan, judge, report, step); with a subtask id, about it. */
  purpose:
    (purpose: string, subtaskId?: string): Matcher =>
    (req) =>
      req.purpose === purpose && (subtaskId === undefined || req.subtaskId === subtaskId),
  /** A `system` or `developer` message contains the text. */
  systemContains:
    (text: string): Matcher =>
    (req) =>
      req.messages.some(
        (m) => (m.role === 'system' || m.role === 'developer') && contentText(m.content).includes(text),
      ),
  /** Some `user` message contains the text. */
  userContains:
    (text: string): Matcher =>
    (req) =>
      req.messages.some((m) => m.role === 'user' && contentText(m.content).includes(text)),
  /** Any message contains the text. */
  textContains:
    (text: string): Matcher =>
    (req) =>
      req.text.includes(text),
  /** The request offers tools; with a name, that tool among them. */
  hasTools:
    (name?: string): Matcher =>
    (req) =>
      name === undefined ? req.toolNames.length > 0 : req.toolNames.includes(name),
  /** The last message has this role, e.g. `'tool'` right after a tool result. */
  lastRole:
    (role: string): Matcher =>
    (req) =>
      req.messages[req.messages.length - 1]?.role === role,
  and:
    (...matchers: Matcher[]): Matcher =>
    (req) =>
      matchers.every((m) => m(req)),
  or:
    (...matchers: Matcher[]): Matcher =>
    (req) =>
      matchers.some((m) => m(req)),
  not:
    (matcher: Matcher): Matcher =>
    (req) =>
      !matcher(req),
};

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Builders for scripted replies. */
export const reply = {
  text: (content: string, usage?: Partial<Usage>): TextReply => ({ content, usage }),
  toolCall: (name: string, args: string | object, id?: string): ToolCallsReply => ({
    toolCalls: [{ name, arguments: args, id }],
  }),
  toolCalls: (calls: ScriptedToolCall[]): ToolCallsReply => ({ toolCalls: calls }),
  json: (json: unknown, usage?: Partial<Usage>): JsonReply => ({ json, usage }),
  error: (status: number, message: string, headers?: Record<string, string>): HttpErrorReply => ({
    status,
    headers,
    body: { error: { message, type: errorType(status), param: null, code: errorCode(status) } },
  }),
  rateLimited: (retryAfterSeconds: number): HttpErrorReply =>
    reply.error(429, `Rate limit reached (scripted). Please try again in ${retryAfterSeconds}s.`, {
      'retry-after': String(retryAfterSeconds),
    }),
  /** Delays any reply; reply functions are delayed too. A hang stays a hang. */
  slow: (ms: number, r: ScriptedReply): ScriptedReply =>
    typeof r === 'function' ? (req: RecordedRequest) => withDelay(ms, r(req)) : withDelay(ms, r),
  hang: (): HangReply => ({ hang: true }),
  /** A 200 with a JSON content type and a body that is not JSON. */
  garbage: (): RawReply => ({ raw: '{"id": "chatcmpl-garbage", "choices": [ <<not json', status: 200 }),
  empty: (opts?: { nullContent?: boolean }): EmptyReply => ({ empty: true, nullContent: opts?.nullContent }),
  /**
   * A reply the provider's content filter withheld (`finish_reason: 'content_filter'`, as Azure OpenAI sends it): no
   * content by default, or the partial message given (text, tool calls).
   */
  filtered: (message: Record<string, unknown> = { content: null }): MessageReply =>
    reply.message(message, { finishReason: 'content_filter' }),
  /** Content cut off by `max_tokens` (`finish_reason: 'length'`). */
  truncated: (content: string): TextReply => ({ content, finishReason: 'length' }),
  /** Any assistant message, sent as given (see {@link MessageReply}). */
  message: (
    message: Record<string, unknown>,
    opts: { finishReason?: string | null; usage?: MessageReply['usage'] } = {},
  ): MessageReply => ({ message: { role: 'assistant', ...message }, ...opts }),
  /** A whole body, sent as given. */
  completion: (completion: unknown): CompletionReply => ({ completion }),
  /** Server-sent events, sent as given. */
  chunks: (chunks: unknown[], opts: { noDone?: boolean } = {}): ChunksReply => ({ chunks, ...opts }),
  /** A named event for `chunks(...)`, e.g. `reply.sseEvent('error', { message: 'overloaded' })`. */
  sseEvent: (name: string, data: unknown): SseEvent => ({ sseEvent: name, data }),
  /** Forwards the request to a real server (see {@link ForwardReply}). */
  forward: (baseURL: string): ForwardReply => ({ forward: baseURL }),
  /** Streams a reply with a pause between chunks, or stalls after some chunks. */
  streamed: (r: Reply, opts: { chunkDelayMs?: number; stallAfterChunks?: number }): Reply =>
    'hang' in r ? r : { ...r, ...opts },
  /**
   * Cuts a reply short: `endAfterChunks` ends a stream cleanly after that many events (no finish reason, no `[DONE]`),
   * `dropAfterBytes` drops the connection after that many bytes of the body (see {@link Delayable}).
   */
  cutShort: (r: Reply, opts: { endAfterChunks?: number; dropAfterBytes?: number }): Reply =>
    'hang' in r || 'forward' in r ? r : { ...r, ...opts },
};

function isSseEvent(chunk: unknown): chunk is SseEvent {
  return typeof chunk === 'object' && chunk !== null && typeof (chunk as SseEvent).sseEvent === 'string';
}

function withDelay(ms: number, r: Reply): Reply {
  return 'hang' in r || 'forward' in r ? r : { ...r, delayMs: ms };
}

function errorType(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function errorCode(status: number): string | null {
  if (status === 401) return 'invalid_api_key';
  if (status === 429) return 'rate_limit_exceeded';
  return null;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        typeof part === 'object' && part !== null && typeof (part as ContentPart).text === 'string'
          ? (part as ContentPart).text
          : '',
      )
      .join('');
  }
  return '';
}

/** Roughly four characters per token, never zero: enough for budget and accounting tests. */
function estimateTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4));
}

function truncateForMessage(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

/** Why a parsed body is not a chat-completions request, or undefined if it is one. */
function invalidBodyReason(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object';
  const { messages, stream } = body as Record<string, unknown>;
  if (!Array.isArray(messages)) return '`messages` must be an array';
  const bad = messages.findIndex(
    (m: unknown) => typeof m !== 'object' || m === null || typeof (m as RequestMessage).role !== 'string',
  );
  if (bad >= 0) return `messages[${bad}] must be an object with a string \`role\``;
  if (stream !== undefined && typeof stream !== 'boolean') return '`stream` must be a boolean';
  return undefined;
}

/** Every string inside `value`, however deep (JSON.stringify would escape a lone surrogate and hide it). */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(stringsIn);
}

/**
 * Where the request carries half of a surrogate pair (a string cut inside an emoji), or undefined. Every real server
 * refuses that, strict or not: llama.cpp's JSON parser rejects the lone escape, Python servers cannot encode it.
 */
function loneSurrogateProblem(messages: RequestMessage[]): string | undefined {
  const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
  const at = messages.findIndex((message) => stringsIn(message).some((text) => lone.test(text)));
  return at < 0
    ? undefined
    : `messages[${at}]: invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF`;
}

/**
 * Why a strict server (OpenAI's request validation) would refuse this transcript, or undefined. What it checks is
 * what tandem promises to send: every assistant tool call has a non-empty id of at most 40 characters, unique in the
 * request, `type: 'function'`, a name of `[a-zA-Z0-9_-]{1,64}` and `arguments` that are a string of valid JSON; every `tool` message answers one call
 * of the assistant message before it, exactly once, and every call is answered before the next non-tool message.
 */
export function strictProblem(messages: RequestMessage[]): string | undefined {
  const seen = new Set<string>();
  let open: Map<string, boolean> | undefined;
  let openAt = -1;
  const unanswered = (at: number) => {
    if (!open) return undefined;
    const missing = [...open].filter(([, answered]) => !answered).map(([id]) => id);
    return missing.length
      ? `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. ` +
          `The following tool_call_ids did not have response messages: ${missing.join(', ')} (messages[${openAt}], ` +
          `before messages[${at}])`
      : undefined;
  };
  for (const [i, m] of messages.entries()) {
    if (m.role === 'tool') {
      const id = m.tool_call_id;
      if (typeof id !== 'string' || id === '') return `messages[${i}].tool_call_id: expected a non-empty string`;
      if (!open || !open.has(id)) {
        return `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls' (messages[${i}].tool_call_id ${JSON.stringify(id)} is unknown)`;
      }
      if (open.get(id)) return `messages[${i}]: tool_call_id ${JSON.stringify(id)} is answered twice`;
      open.set(id, true);
      if (typeof m.content !== 'string' && !Array.isArray(m.content))
        return `messages[${i}].content: expected a string`;
      continue;
    }
    const missing = unanswered(i);
    if (missing) return missing;
    open = undefined;
    if (m.role !== 'assistant') continue;
    if (m.tool_calls === undefined || m.tool_calls === null) {
      if (m.content === null || m.content === undefined) {
        return `messages[${i}]: an assistant message needs 'content' or 'tool_calls'`;
      }
      continue;
    }
    if (!Array.isArray(m.tool_calls)) return `messages[${i}].tool_calls: expected an array`;
    open = new Map();
    openAt = i;
    for (const [k, call] of (m.tool_calls as unknown[]).entries()) {
      const at = `messages[${i}].tool_calls[${k}]`;
      const c = call as { id?: unknown; type?: unknown; function?: { name?: unknown; arguments?: unknown } };
      if (typeof c.id !== 'string' || c.id === '') return `${at}.id: expected a non-empty string`;
      if (c.id.length > 40) {
        return `Invalid '${at}.id': string too long. Expected a string with maximum length 40, but got a string with length ${c.id.length} instead.`;
      }
      if (seen.has(c.id)) return `Duplicate value for 'tool_call_id' of ${c.id} in ${at}`;
      seen.add(c.id);
      open.set(c.id, false);
      if (c.type !== 'function') return `${at}.type: expected 'function', got ${JSON.stringify(c.type)}`;
      if (typeof c.function?.name !== 'string' || c.function.name === '')
        return `${at}.function.name: expected a non-empty string`;
      if (!/^[a-zA-Z0-9_-]{1,64}$/.test(c.function.name)) {
        return `Invalid '${at}.function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`;
      }
      if (typeof c.function.arguments !== 'string') {
        return `Invalid type for '${at}.function.arguments': expected a string, but got ${Array.isArray(c.function.arguments) ? 'an array' : typeof c.function.arguments} instead.`;
      }
      try {
        JSON.parse(c.function.arguments);
      } catch {
        return `${at}.function.arguments: Failed to parse tool call arguments as JSON: ${JSON.stringify(c.function.arguments.slice(0, 100))}`;
      }
    }
  }
  return unanswered(messages.length);
}

function record(id: number, at: number, body: ChatCompletionRequestBody, headers: http.IncomingHttpHeaders) {
  const messages = body.messages;
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const recorded: RecordedRequest = {
    id,
    at,
    body,
    headers: { ...headers },
    messages,
    responseFormatName: body.response_format?.json_schema?.name,
    purpose: headerValue(headers['x-tandem-purpose']),
    subtaskId: headerValue(headers['x-tandem-subtask']),
    responseFormatType: body.response_format?.type,
    toolNames: (body.tools ?? []).flatMap((t) => (t.function?.name ? [t.function.name] : [])),
    text: messages.map((m) => contentText(m.content)).join('\n'),
    lastUserText: lastUser ? contentText(lastUser.content) : '',
    clientAborted: false,
    stream: body.stream === true,
    ...(typeof (body.max_tokens ?? body.max_completion_tokens) === 'number'
      ? { maxTokens: (body.max_tokens ?? body.max_completion_tokens) as number }
      : {}),
  };
  return recorded;
}

interface RuleState extends Rule {
  used: number;
}

function remaining(rule: RuleState): number {
  return rule.repeatLast && rule.replies.length > 0 ? Infinity : rule.replies.length - rule.used;
}

interface Waiter {
  count: number;
  match: Matcher;
  resolve: (reqs: RecordedRequest[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Starts a scripted model on an ephemeral port of 127.0.0.1. Close it in `afterAll`/`afterEach`. */
export async function startScriptedModel(options: ScriptedModelOptions = {}): Promise<ScriptedModel> {
  const streaming = options.streaming ?? 'sse';
  let rules: RuleState[] = [];
  let nextId = 1;
  let closed = false;
  const requests: RecordedRequest[] = [];
  const unmatched: RecordedRequest[] = [];
  const failures: ScriptFailure[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let waiters: Waiter[] = [];

  function send(
    res: http.ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
    dropAfterBytes?: number,
  ) {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    });
    if (dropAfterBytes === undefined) res.end(body);
    else dropAfter(res, body, dropAfterBytes);
  }

  /** Writes the first `bytes` bytes of `body`, then drops the connection (no clean end of the body). */
  function dropAfter(res: http.ServerResponse, body: string, bytes: number) {
    res.write(Buffer.from(body).subarray(0, bytes), () => res.destroy());
  }

  function sendError(res: http.ServerResponse, status: number, message: string, code: string) {
    send(res, status, JSON.stringify({ error: { message, type: 'scripted_model_error', param: null, code } }));
  }

  /** Answers with an error the test must notice, and keeps it for `assertAllAnswered`. */
  function fail(res: http.ServerResponse, status: number, message: string, code: string, request?: RecordedRequest) {
    failures.push({ at: Date.now(), status, message, request });
    sendError(res, status, message, code);
  }

  function notifyWaiters() {
    waiters = waiters.filter((w) => {
      const seen = requests.filter(w.match);
      if (seen.length < w.count) return true;
      clearTimeout(w.timer);
      w.resolve(seen);
      return false;
    });
  }

  function describeRules(): string {
    if (rules.length === 0) return '(none)';
    return rules
      .map((r, i) => {
        const left = remaining(r);
        return `${r.name ?? `rule ${i + 1}`}(${left === Infinity ? 'repeats last' : `${left} left`})`;
      })
      .join(', ');
  }

  function noReplyMessage(req: RecordedRequest): string {
    const asked = [
      req.responseFormatName ? `response_format: ${req.responseFormatName}` : undefined,
      req.toolNames.length > 0 ? `tools: ${req.toolNames.join(', ')}` : undefined,
      `last user message: ${JSON.stringify(truncateForMessage(req.lastUserText))}`,
    ].filter((s) => s !== undefined);
    return `scripted model: no scripted reply for request #${req.id} (${asked.join('; ')}); rules: ${describeRules()}`;
  }

  /** Picks and consumes the reply for a request, or says why the script cannot answer it. */
  function chooseReply(req: RecordedRequest): Reply | { scriptError: string; unmatched?: true } {
    for (const [i, rule] of rules.entries()) {
      if (remaining(rule) <= 0) continue;
      const ruleName = rule.name ?? `rule ${i + 1}`;
      let matched: boolean;
      try {
        matched = rule.match(req);
      } catch (err) {
        return { scriptError: `scripted model: the matcher of ${ruleName} threw on request #${req.id}: ${err}` };
      }
      if (!matched) continue;
      const entry = rule.replies[Math.min(rule.used, rule.replies.length - 1)];
      rule.used++;
      if (typeof entry !== 'function') return entry;
      try {
        return entry(req);
      } catch (err) {
        return { scriptError: `scripted model: the reply function of ${ruleName} threw on request #${req.id}: ${err}` };
      }
    }
    return { scriptError: noReplyMessage(req), unmatched: true };
  }

  function completion(
    req: RecordedRequest,
    r: TextReply | ToolCallsReply | JsonReply | EmptyReply | MessageReply,
  ): Record<string, unknown> {
    const base = {
      id: `chatcmpl-scripted-${req.id}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: req.body.model ?? SCRIPTED_MODEL_NAME,
    };
    if ('message' in r) {
      return {
        ...base,
        choices: [{ index: 0, message: r.message, logprobs: null, finish_reason: r.finishReason ?? 'stop' }],
        ...(r.usage !== undefined ? { usage: r.usage } : {}),
      };
    }
    let content: string | null;
    let toolCalls: RequestToolCall[] | undefined;
    let finishReason: 'stop' | 'length' | 'tool_calls' = 'stop';
    if ('toolCalls' in r) {
      content = r.content ?? null;
      finishReason = 'tool_calls';
      toolCalls = r.toolCalls.map((c, i) => ({
        id: c.id ?? `call_${req.id}_${i}`,
        type: 'function',
        function: {
          name: c.name,
          arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
        },
      }));
    } else if ('json' in r) {
      content = JSON.stringify(r.json);
    } else if ('empty' in r) {
      content = r.nullContent ? null : '';
    } else {
      content = r.content;
      finishReason = r.finishReason ?? 'stop';
    }
    const promptChars = req.messages.reduce(
      (n, m) =>
        n +
        contentText(m.content).length +
        (m.tool_calls ?? []).reduce(
          (k, c) => k + String(c.function?.name ?? '').length + String(c.function?.arguments ?? '').length,
          0,
        ),
      0,
    );
    const completionChars =
      (content ?? '').length +
      (toolCalls ?? []).reduce((n, c) => n + c.function.name.length + c.function.arguments.length, 0);
    const prompt = r.usage?.prompt_tokens ?? estimateTokens(promptChars);
    const completionTokens = r.usage?.completion_tokens ?? estimateTokens(completionChars);
    return {
      ...base,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: null, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      usage: {
        prompt_tokens: prompt,
        completion_tokens: completionTokens,
        total_tokens: r.usage?.total_tokens ?? prompt + completionTokens,
        ...(r.usage?.prompt_tokens_details ? { prompt_tokens_details: r.usage.prompt_tokens_details } : {}),
      },
    };
  }

  /** The chunks a streaming server sends for a completion: role, text pieces, tool-call pieces, finish, usage. */
  function chunksOf(req: RecordedRequest, body: Record<string, unknown>): unknown[] {
    const choice = (body.choices as Array<Record<string, unknown>>)[0];
    const message = (choice.message ?? {}) as Record<string, unknown>;
    const head = { id: body.id, object: 'chat.completion.chunk', created: body.created, model: body.model };
    const includeUsage = (req.body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    const chunk = (delta: Record<string, unknown>, finish: unknown = null) => ({
      ...head,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });
    // About four characters a chunk, as servers send tokens; long texts in at most ~64 chunks.
    const pieces = (text: string) => {
      const size = Math.max(4, Math.ceil(text.length / 64));
      return text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g')) ?? [];
    };
    const chunks: unknown[] = [chunk({ role: 'assistant', content: '' })];
    for (const key of ['reasoning_content', 'reasoning']) {
      if (typeof message[key] === 'string')
        for (const p of pieces(message[key] as string)) chunks.push(chunk({ [key]: p }));
    }
    if (typeof message.content === 'string')
      for (const p of pieces(message.content)) chunks.push(chunk({ content: p }));
    else if (Array.isArray(message.content)) chunks.push(chunk({ content: message.content }));
    if (typeof message.refusal === 'string')
      for (const p of pieces(message.refusal)) chunks.push(chunk({ refusal: p }));
    if (typeof message.function_call === 'object' && message.function_call !== null) {
      chunks.push(chunk({ function_call: message.function_call }));
    }
    // A single tool-call object (not an array) is streamed as sent, in one chunk.
    if (typeof message.tool_calls === 'object' && message.tool_calls !== null && !Array.isArray(message.tool_calls)) {
      chunks.push(chunk({ tool_calls: message.tool_calls }));
    }
    const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as Array<Record<string, unknown>>) : [];
    calls.forEach((call, index) => {
      const fn = (call.function ?? {}) as Record<string, unknown>;
      const args = fn.arguments;
      const first = { index, ...call, function: { ...fn, arguments: typeof args === 'string' ? '' : args } };
      chunks.push(chunk({ tool_calls: [first] }));
      if (typeof args === 'string') {
        for (const p of pieces(args)) chunks.push(chunk({ tool_calls: [{ index, function: { arguments: p } }] }));
      }
    });
    chunks.push(chunk({}, choice.finish_reason ?? null));
    if (includeUsage && body.usage !== undefined) chunks.push({ ...head, choices: [], usage: body.usage });
    return chunks;
  }

  /** Sends server-sent events, one chunk at a time, with the reply's pacing. */
  function stream(res: http.ServerResponse, chunks: unknown[], r: Delayable, done = true) {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const encode = (data: unknown) => (typeof data === 'string' ? data : JSON.stringify(data));
    const events = chunks.map((c) =>
      isSseEvent(c) ? `event: ${c.sseEvent}\ndata: ${encode(c.data)}\n\n` : `data: ${encode(c)}\n\n`,
    );
    if (done && r.endAfterChunks === undefined) events.push('data: [DONE]\n\n');
    if (r.endAfterChunks !== undefined) events.splice(r.endAfterChunks);
    if (r.dropAfterBytes !== undefined) {
      dropAfter(res, events.join(''), r.dropAfterBytes);
      return;
    }
    if (!r.chunkDelayMs && r.stallAfterChunks === undefined) {
      res.end(events.join(''));
      return;
    }
    let sent = 0;
    let pending: NodeJS.Timeout | undefined;
    res.on('close', () => clearTimeout(pending));
    const next = () => {
      if (res.writableEnded || res.destroyed || closed) return;
      if (r.stallAfterChunks !== undefined && sent >= r.stallAfterChunks) return;
      if (sent >= events.length) {
        res.end();
        return;
      }
      res.write(events[sent++]);
      if (!r.chunkDelayMs) next();
      else {
        const timer = setTimeout(() => {
          timers.delete(timer);
          next();
        }, r.chunkDelayMs);
        timers.add(timer);
        pending = timer;
      }
    };
    next();
  }

  /** Relays the request to a real server and its answer back; a failure to reach it is the script's fault. */
  async function forward(res: http.ServerResponse, req: RecordedRequest, baseURL: string) {
    const controller = new AbortController();
    res.on('close', () => controller.abort());
    try {
      const upstream = await fetch(`${baseURL.replace(/\/+$/, '')}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: headerValue(req.headers.authorization) ?? '' },
        body: JSON.stringify(req.body),
        signal: controller.signal,
      });
      res.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/json',
      });
      if (upstream.body) for await (const piece of upstream.body) res.write(piece);
      res.end();
    } catch (err) {
      if (!res.headersSent)
        fail(res, 502, `scripted model: forwarding to ${baseURL} failed: ${err}`, 'bad_gateway', req);
      else res.destroy();
    }
  }

  function answer(res: http.ServerResponse, req: RecordedRequest, r: Reply) {
    if ('hang' in r) return;
    if ('forward' in r) {
      void forward(res, req, r.forward);
      return;
    }
    if ('raw' in r) {
      send(res, r.status ?? 200, r.raw, { 'content-type': r.contentType ?? 'application/json' }, r.dropAfterBytes);
    } else if ('completion' in r) {
      send(res, 200, JSON.stringify(r.completion), {}, r.dropAfterBytes);
    } else if ('chunks' in r) {
      stream(res, r.chunks, r, !r.noDone);
    } else if ('toolCalls' in r || 'json' in r || 'empty' in r || 'content' in r || 'message' in r) {
      const body = completion(req, r);
      if (req.stream && streaming === 'sse') stream(res, chunksOf(req, body), r);
      else send(res, 200, JSON.stringify(body), {}, r.dropAfterBytes);
    } else if ('status' in r) {
      const body =
        r.body === undefined
          ? {
              error: {
                message: `scripted HTTP ${r.status}`,
                type: errorType(r.status),
                param: null,
                code: errorCode(r.status),
              },
            }
          : r.body;
      send(res, r.status, JSON.stringify(body), r.headers);
    } else {
      fail(
        res,
        500,
        `scripted model: unrecognised reply for request #${req.id}: ${JSON.stringify(r)}`,
        'bad_script',
        req,
      );
    }
  }

  /** A refusal a real server would send for this request (strict transcript, streaming, format), or undefined. */
  function serverRefusal(req: RecordedRequest): { message: string; param: string; record: boolean } | undefined {
    const unicode = loneSurrogateProblem(req.messages);
    if (unicode) return { message: unicode, param: 'messages', record: true };
    if (options.strict) {
      const problem = strictProblem(req.messages);
      if (problem) return { message: problem, param: 'messages', record: true };
    }
    if (req.stream && streaming === 'reject') {
      return {
        message: "Unsupported parameter: 'stream' is not supported by this endpoint.",
        param: 'stream',
        record: false,
      };
    }
    const format = req.responseFormatType;
    if (format && options.responseFormats && !options.responseFormats.includes(format)) {
      return {
        message: `Invalid parameter: 'response_format' of type '${format}' is not supported with this model.`,
        param: 'response_format',
        record: false,
      };
    }
    return undefined;
  }

  function handleCompletion(res: http.ServerResponse, req: RecordedRequest) {
    res.on('close', () => {
      // 'close' also fires after a normal response; only an unfinished one means the client hung up.
      if (!res.writableFinished && !closed) req.clientAborted = true;
    });
    const refusal = serverRefusal(req);
    if (refusal) {
      if (refusal.record) failures.push({ at: Date.now(), status: 400, message: refusal.message, request: req });
      send(
        res,
        400,
        JSON.stringify({
          error: { message: refusal.message, type: 'invalid_request_error', param: refusal.param, code: null },
        }),
      );
      return;
    }
    const chosen = chooseReply(req);
    if ('scriptError' in chosen) {
      if (chosen.unmatched) unmatched.push(req);
      fail(res, 500, chosen.scriptError, chosen.unmatched ? 'no_scripted_reply' : 'bad_script', req);
      return;
    }
    const scriptedDelayMs = 'delayMs' in chosen ? (chosen.delayMs ?? 0) : 0;
    const delayMs = 'hang' in chosen ? 0 : Math.max(scriptedDelayMs, options.latencyMs ?? 0);
    if (delayMs <= 0) {
      answer(res, req, chosen);
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      answer(res, req, chosen);
    }, delayMs);
    timers.add(timer);
    // A slow call the client gave up on must not answer into a dead socket or keep jest alive.
    res.on('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  }

  function onRequest(httpReq: http.IncomingMessage, res: http.ServerResponse) {
    const at = Date.now();
    const path = new URL(httpReq.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
    const method = httpReq.method ?? 'GET';
    if (method === 'GET' && path === '/v1/models') {
      const created = Math.floor(at / 1000);
      send(
        res,
        200,
        JSON.stringify({
          object: 'list',
          data: [{ id: SCRIPTED_MODEL_NAME, object: 'model', created, owned_by: 'tandem' }],
        }),
      );
      return;
    }
    if (path !== '/v1/chat/completions') {
      fail(
        res,
        404,
        `scripted model: no route ${method} ${httpReq.url}; it serves POST /v1/chat/completions`,
        'not_found',
      );
      return;
    }
    if (method !== 'POST') {
      fail(res, 405, `scripted model: ${method} ${path} is not allowed; use POST`, 'method_not_allowed');
      return;
    }
    const chunks: Buffer[] = [];
    httpReq.on('data', (chunk: Buffer) => chunks.push(chunk));
    httpReq.on('error', () => res.destroy());
    httpReq.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch (err) {
        const reason = `scripted model: the request body is not valid JSON (${(err as Error).message}): ${truncateForMessage(raw)}`;
        fail(res, 400, reason, 'invalid_json');
        return;
      }
      const reason = invalidBodyReason(body);
      if (reason) {
        fail(res, 400, `scripted model: not a chat-completions request: ${reason}`, 'invalid_request');
        return;
      }
      const req = record(nextId++, at, body as ChatCompletionRequestBody, httpReq.headers);
      requests.push(req);
      notifyWaiters();
      handleCompletion(res, req);
    });
  }

  const server = http.createServer(onRequest);
  // Longer than any pause between a test's calls: a kept-alive socket closed by the server just as a client reuses it
  // is a reset the test did not ask for.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const model: ScriptedModel = {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    unmatched,
    failures,
    on(matcher, replies, opts) {
      const list = Array.isArray(replies) ? replies : [replies];
      if (list.length === 0) throw new Error(`scripted model: rule ${opts?.name ?? rules.length + 1} has no replies`);
      rules.push({ name: opts?.name, match: matcher, replies: list, repeatLast: opts?.repeatLast, used: 0 });
      return model;
    },
    reset() {
      rules = [];
      nextId = 1;
      // Clear in place: tests may hold references to these arrays.
      requests.length = 0;
      unmatched.length = 0;
      failures.length = 0;
    },
    requestsMatching(matcher) {
      return requests.filter(matcher);
    },
    waitForRequests(count, opts) {
      const matcher = opts?.match ?? match.any;
      const timeoutMs = opts?.timeoutMs ?? DEFAULT_WAIT_MS;
      const seen = requests.filter(matcher);
      if (seen.length >= count) return Promise.resolve(seen);
      if (closed) return Promise.reject(new Error('scripted model: waitForRequests after close()'));
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          count,
          match: matcher,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters = waiters.filter((w) => w !== waiter);
            const got = requests.filter(matcher).length;
            reject(new Error(`scripted model: waited ${timeoutMs}ms for ${count} matching request(s), saw ${got}`));
          }, timeoutMs),
        };
        waiters.push(waiter);
      });
    },
    assertAllAnswered() {
      if (failures.length === 0) return;
      const lines = failures.map((f) => `  HTTP ${f.status}: ${f.message}`);
      throw new Error(
        `scripted model: ${failures.length} request(s) were not answered as scripted:\n${lines.join('\n')}`,
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(new Error(`scripted model closed while waiting for ${w.count} request(s)`));
      }
      waiters = [];
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      // Hung calls and idle keep-alive sockets would otherwise keep close() waiting forever.
      server.closeAllConnections();
      await done;
    },
  };
  return model;
}
