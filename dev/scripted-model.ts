/**
 * The one scripted LLM for tandem's tests: a real HTTP server on 127.0.0.1 that speaks the OpenAI
 * chat-completions protocol (non-streaming), so the code under test runs its real `openai` client end to end.
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

/** One scripted answer. */
export type Reply = TextReply | ToolCallsReply | JsonReply | HttpErrorReply | RawReply | HangReply | EmptyReply;

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

const DEFAULT_MODEL = 'scripted-model';
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
  json: (json: unknown): JsonReply => ({ json }),
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
  /** Content cut off by `max_tokens` (`finish_reason: 'length'`). */
  truncated: (content: string): TextReply => ({ content, finishReason: 'length' }),
};

function withDelay(ms: number, r: Reply): Reply {
  return 'hang' in r ? r : { ...r, delayMs: ms };
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
  if (stream === true) return 'streaming is not supported; call the scripted model with `stream: false`';
  return undefined;
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
export async function startScriptedModel(): Promise<ScriptedModel> {
  let rules: RuleState[] = [];
  let nextId = 1;
  let closed = false;
  const requests: RecordedRequest[] = [];
  const unmatched: RecordedRequest[] = [];
  const failures: ScriptFailure[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let waiters: Waiter[] = [];

  function send(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    });
    res.end(body);
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

  function completion(req: RecordedRequest, r: TextReply | ToolCallsReply | JsonReply | EmptyReply): string {
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
        (m.tool_calls ?? []).reduce((k, c) => k + c.function.name.length + c.function.arguments.length, 0),
      0,
    );
    const completionChars =
      (content ?? '').length +
      (toolCalls ?? []).reduce((n, c) => n + c.function.name.length + c.function.arguments.length, 0);
    const prompt = r.usage?.prompt_tokens ?? estimateTokens(promptChars);
    const completionTokens = r.usage?.completion_tokens ?? estimateTokens(completionChars);
    return JSON.stringify({
      id: `chatcmpl-scripted-${req.id}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: req.body.model ?? DEFAULT_MODEL,
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
      },
    });
  }

  function answer(res: http.ServerResponse, req: RecordedRequest, r: Reply) {
    if ('hang' in r) return;
    if ('raw' in r) {
      send(res, r.status ?? 200, r.raw, { 'content-type': r.contentType ?? 'application/json' });
    } else if ('toolCalls' in r || 'json' in r || 'empty' in r || 'content' in r) {
      send(res, 200, completion(req, r));
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

  function handleCompletion(res: http.ServerResponse, req: RecordedRequest) {
    res.on('close', () => {
      // 'close' also fires after a normal response; only an unfinished one means the client hung up.
      if (!res.writableFinished && !closed) req.clientAborted = true;
    });
    const chosen = chooseReply(req);
    if ('scriptError' in chosen) {
      if (chosen.unmatched) unmatched.push(req);
      fail(res, 500, chosen.scriptError, chosen.unmatched ? 'no_scripted_reply' : 'bad_script', req);
      return;
    }
    const delayMs = 'delayMs' in chosen ? (chosen.delayMs ?? 0) : 0;
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
        JSON.stringify({ object: 'list', data: [{ id: DEFAULT_MODEL, object: 'model', created, owned_by: 'tandem' }] }),
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
