/**
 * Requests each server accepts, and streams as servers really send them: the model boundary's HTTP side against the
 * scripted model (streaming chunk shapes, fallbacks a refusal calls for, output caps, stalls, failure classes, per-role
 * endpoints) and its transcript repair.
 */
import type { ChatMessage } from '../common/types';
import { FailureType } from '../common/failures';
import { match, reply, startScriptedModel, strictProblem, type ScriptedModel } from '../dev/scripted-model';
import { forgetCapabilities, requestModelReply, type ModelRequest } from '../activities/model/request';
import { httpFailure, ModelHttpError, ModelTransportError } from '../activities/model/failures';
import { toRequestMessages, UNANSWERED_CALL } from '../activities/model/request-messages';
import { loadConfig, type ModelConfig } from '../node/config';

const PROMPT: ChatMessage[] = [
  { role: 'system', content: 'You are an executor.' },
  { role: 'user', content: 'Compute 17 * 23 + 4.' },
];

const step = (messages: ChatMessage[] = PROMPT): ModelRequest => ({
  input: { purpose: 'step', subtaskId: 's1', tools: ['calculator'] },
  messages,
  idSeed: 'seed',
});

const VERDICT_SCHEMA = {
  type: 'object',
  properties: { met: { type: 'boolean' }, reason: { type: 'string' }, note: { type: 'string' } },
  required: ['met', 'reason'],
  additionalProperties: false,
};

const judge = (): ModelRequest => ({
  input: { purpose: 'judge', subtaskId: 's1', tools: [], responseFormat: { name: 'verdict', schema: VERDICT_SCHEMA } },
  messages: [
    { role: 'system', content: 'You review results. Answer with JSON.' },
    { role: 'user', content: 'Milestone: 395. Result: 395.' },
  ],
  idSeed: 'j',
});

const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) => ({
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta, finish_reason: finish }],
  ...extra,
});

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('the model boundary on the wire', () => {
  let model: ScriptedModel;
  let settings: ModelConfig;
  const signal = new AbortController().signal;
  const env = (extra: Record<string, string> = {}) =>
    loadConfig({ OPENAI_BASE_URL: model.baseURL, OPENAI_API_KEY: 'sk-test', TANDEM_MODEL: 'm', ...extra }).model;

  beforeAll(async () => {
    model = await startScriptedModel({ strict: true });
  });
  beforeEach(() => {
    settings = env();
  });
  afterEach(() => {
    model.reset();
    forgetCapabilities();
  });
  afterAll(() => model.close());

  describe('streams as servers send them', () => {
    it('joins tool-call deltas without index, and reads finish_reason stop as tool calls (Gemini)', async () => {
      model.on(match.any, [
        reply.chunks([
          chunk({
            role: 'assistant',
            tool_calls: [
              {
                id: 'function-call-1',
                type: 'function',
                function: { name: 'calculator', arguments: '{"expression":' },
              },
            ],
          }),
          chunk({ tool_calls: [{ function: { arguments: '"2+2"}' } }] }),
          chunk({}, 'stop'),
        ]),
      ]);
      const { reply: r } = await requestModelReply(step(), { settings, signal });
      expect(r.finishReason).toBe('tool_calls');
      expect(r.toolCalls).toEqual([{ id: 'function-call-1', name: 'calculator', arguments: '{"expression":"2+2"}' }]);
    });

    it('keeps calls apart that a server numbers all index 0 (new-api#2701)', async () => {
      model.on(match.any, [
        reply.chunks([
          chunk({
            tool_calls: [
              {
                index: 0,
                id: 'x1',
                type: 'function',
                function: { name: 'calculator', arguments: '{"expression":"1"}' },
              },
            ],
          }),
          chunk({
            tool_calls: [
              {
                index: 0,
                id: 'x2',
                type: 'function',
                function: { name: 'calculator', arguments: '{"expression":"2"}' },
              },
            ],
          }),
          chunk({}, 'tool_calls'),
        ]),
      ]);
      const { reply: r } = await requestModelReply(step(), { settings, signal });
      expect(r.toolCalls.map((c) => [c.id, c.arguments])).toEqual([
        ['x1', '{"expression":"1"}'],
        ['x2', '{"expression":"2"}'],
      ]);
    });

    it('takes the usage of a final chunk with no choices, skipping usage: null (OpenAI, Ollama)', async () => {
      model.on(match.any, [
        reply.chunks([
          chunk({ content: 'fo' }, null, { usage: null }),
          chunk({ content: 'ur' }, null, { usage: null }),
          chunk({}, 'stop', { usage: null }),
          {
            object: 'chat.completion.chunk',
            choices: [],
            usage: { prompt_tokens: 259, completion_tokens: 16, total_tokens: 275 },
          },
        ]),
      ]);
      const { reply: r, usage, streamed } = await requestModelReply(step(), { settings, signal });
      expect(streamed).toBe(true);
      expect(r.content).toBe('four');
      expect(usage).toEqual({ promptTokens: 259, completionTokens: 16 });
    });

    it('counts tokens itself when a stream reports none, and says so', async () => {
      model.on(match.any, [
        reply.chunks([chunk({ content: 'The answer is 395.' }), chunk({}, 'stop')], { noDone: true }),
      ]);
      const { reply: r, usage } = await requestModelReply(step(), { settings, signal });
      expect(r.content).toBe('The answer is 395.');
      expect(usage.estimated).toBe(true);
      expect(usage.completionTokens).toBeGreaterThanOrEqual(5);
      expect(usage.promptTokens).toBeGreaterThan(10);
    });

    it('takes object arguments streamed in one piece (llama.cpp)', async () => {
      model.on(match.any, [
        reply.chunks([
          chunk({
            tool_calls: [
              {
                index: 0,
                id: 'o1',
                type: 'function',
                function: { name: 'calculator', arguments: { expression: '3' } },
              },
            ],
          }),
          chunk({}, 'tool_calls'),
        ]),
      ]);
      const { reply: r } = await requestModelReply(step(), { settings, signal });
      expect(r.toolCalls[0]).toMatchObject({ id: 'o1', arguments: '{"expression":"3"}' });
    });

    it('surfaces an error sent inside the stream (OpenRouter, llama.cpp)', async () => {
      model.on(match.any, [
        reply.chunks([chunk({ content: 'par' }), { error: { message: 'upstream provider overloaded', code: 502 } }]),
      ]);
      const err = await failureOf(requestModelReply(step(), { settings, signal }));
      expect(err).toMatchObject({ name: 'ModelReplyError', serverError: 'upstream provider overloaded' });
    });

    it('fails the call on a chunk that is the error itself (older vLLM), not taking the text so far as the answer', async () => {
      model.on(match.any, [
        reply.chunks([
          chunk({ content: 'The answer is' }),
          { object: 'error', message: 'CUDA out of memory', type: 'InternalServerError', param: null, code: 500 },
        ]),
      ]);
      const err = await failureOf(requestModelReply(step(), { settings, signal }));
      expect(err).toMatchObject({ name: 'ModelReplyError', serverError: 'CUDA out of memory' });
    });

    it('fails the call on an `event: error` whatever its data holds', async () => {
      model.on(match.any, [
        reply.chunks([chunk({ content: 'The answer is' }), reply.sseEvent('error', { message: 'model overloaded' })]),
        reply.chunks([chunk({ content: 'The answer is' }), reply.sseEvent('error', 'stream aborted upstream')]),
      ]);
      expect(await failureOf(requestModelReply(step(), { settings, signal }))).toMatchObject({
        serverError: 'model overloaded',
      });
      expect(await failureOf(requestModelReply(step(), { settings, signal }))).toMatchObject({
        serverError: 'stream aborted upstream',
      });
    });

    it('keeps streamed reasoning parts out of the answer, whatever the part type is called', async () => {
      model.on(match.any, [
        reply.chunks([
          chunk({ content: [{ type: 'reasoning', text: 'secret ' }] }),
          chunk({ content: [{ type: 'thinking', thinking: 'thoughts' }] }),
          chunk({ content: [{ type: 'text', text: '395' }] }),
          chunk({}, 'stop'),
        ]),
      ]);
      const { reply: r } = await requestModelReply(step(), { settings, signal });
      expect(r).toMatchObject({ content: '395', reasoning: 'secret thoughts' });
    });

    it('keeps object arguments when empty argument pieces follow them', async () => {
      model.on(match.any, [
        reply.chunks([
          chunk({
            tool_calls: [
              {
                index: 0,
                id: 'o2',
                type: 'function',
                function: { name: 'calculator', arguments: { expression: '3' } },
              },
            ],
          }),
          chunk({ tool_calls: [{ index: 0, function: { arguments: '' } }] }),
          chunk({}, 'tool_calls'),
        ]),
      ]);
      const { reply: r } = await requestModelReply(step(), { settings, signal });
      expect(r.toolCalls[0]).toMatchObject({ id: 'o2', arguments: '{"expression":"3"}' });
    });
  });

  describe('adapts to what a server refuses, once per worker', () => {
    it('falls back to a plain JSON request when the server refuses streaming, and remembers', async () => {
      await model.close();
      model = await startScriptedModel({ strict: true, streaming: 'reject' });
      settings = env();
      model.on(match.any, [reply.text('one'), reply.text('two')]);
      expect((await requestModelReply(step(), { settings, signal })).reply.content).toBe('one');
      expect((await requestModelReply(step(), { settings, signal })).reply.content).toBe('two');
      expect(model.requests.map((r) => r.stream)).toEqual([true, false, false]);
      await model.close();
      model = await startScriptedModel({ strict: true });
    });

    it('sends max_completion_tokens when the server asks for it instead of max_tokens', async () => {
      model.on(match.any, [
        reply.error(
          400,
          "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        ),
        reply.text('ok'),
      ]);
      await requestModelReply(step(), { settings, signal });
      expect(model.requests[0].body.max_tokens).toBe(4096);
      expect(model.requests[1].body.max_completion_tokens).toBe(4096);
      expect(model.requests[1].body.max_tokens).toBeUndefined();
    });

    it('caps every request by kind of call, and TANDEM_MAX_OUTPUT_TOKENS overrides per kind', async () => {
      model.on(match.any, [reply.text('ok')], { repeatLast: true });
      await requestModelReply(step(), { settings, signal });
      await requestModelReply(judge(), { settings, signal });
      settings = env({ TANDEM_MAX_OUTPUT_TOKENS: 'step=77' });
      await requestModelReply(step(), { settings, signal });
      expect(model.requests.map((r) => r.maxTokens)).toEqual([4096, 1024, 77]);
    });

    it('asks for strict json_schema with optional fields made nullable, and drops the nulls from the reply', async () => {
      model.on(match.any, [reply.json({ met: true, reason: 'it is 395', note: null })]);
      const { reply: r, structuredMode } = await requestModelReply(judge(), { settings, signal });
      expect(structuredMode).toBe('json_schema');
      const format = model.requests[0].body.response_format as {
        json_schema: { strict: boolean; schema: Record<string, unknown> };
      };
      expect(format.json_schema.strict).toBe(true);
      expect(format.json_schema.schema).toMatchObject({
        required: ['met', 'reason', 'note'],
        properties: { note: { type: ['string', 'null'] } },
        additionalProperties: false,
      });
      expect(JSON.parse(r.content!)).toEqual({ met: true, reason: 'it is 395' });
    });

    it('falls back json_schema → json_object → tool when refused, and remembers the mode that worked', async () => {
      await model.close();
      model = await startScriptedModel({ strict: true, responseFormats: [] });
      settings = env();
      model.on(match.any, [
        reply.toolCall('verdict', { met: true, reason: 'ok' }),
        reply.toolCall('verdict', { met: false, reason: 'no' }),
      ]);
      const first = await requestModelReply(judge(), { settings, signal });
      expect(first.structuredMode).toBe('tool');
      expect(JSON.parse(first.reply.content!)).toEqual({ met: true, reason: 'ok' });
      expect(first.reply.toolCalls).toEqual([]);
      expect(model.requests.map((r) => r.responseFormatType ?? 'tool')).toEqual(['json_schema', 'json_object', 'tool']);
      expect(model.requests[1].messages[0].content).toContain('matches this JSON schema');
      expect(model.requests[2].body.tool_choice).toEqual({ type: 'function', function: { name: 'verdict' } });
      const second = await requestModelReply(judge(), { settings, signal });
      expect(JSON.parse(second.reply.content!)).toEqual({ met: false, reason: 'no' });
      expect(model.requests).toHaveLength(4);
      await model.close();
      model = await startScriptedModel({ strict: true });
    });

    it('uses the mode TANDEM_STRUCTURED_OUTPUT names and never falls back from it', async () => {
      settings = env({ TANDEM_STRUCTURED_OUTPUT: 'json_object' });
      model.on(match.any, [reply.text('```json\n{"met": true, "reason": "fenced"}\n```')]);
      const { reply: r } = await requestModelReply(judge(), { settings, signal });
      expect(model.requests[0].responseFormatType).toBe('json_object');
      expect(JSON.parse(r.content!)).toEqual({ met: true, reason: 'fenced' });
    });
  });

  describe('tells a stalled server from a long generation', () => {
    it('lets a slow stream finish as long as tokens keep coming', async () => {
      settings = env({ TANDEM_MODEL_STALL_MS: '400' });
      model.on(match.any, [reply.streamed(reply.text('a long and slow generation'), { chunkDelayMs: 100 })]);
      const seen: number[] = [];
      const { reply: r } = await requestModelReply(step(), { settings, signal, onTokens: (n) => seen.push(n) });
      expect(r.content).toBe('a long and slow generation');
      expect(seen.length).toBeGreaterThan(3);
      expect(seen.at(-1)).toBeGreaterThan(3);
    });

    it('gives up on a stream that goes silent for TANDEM_MODEL_STALL_MS', async () => {
      settings = env({ TANDEM_MODEL_STALL_MS: '300' });
      model.on(match.any, [reply.streamed(reply.text('this stops half way'), { stallAfterChunks: 3 })]);
      const started = Date.now();
      const err = await failureOf(requestModelReply(step(), { settings, signal }));
      expect(err).toBeInstanceOf(ModelTransportError);
      expect(err).toMatchObject({ kind: 'stalled' });
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('times out a server that never answers', async () => {
      settings = env({ TANDEM_MODEL_TIMEOUT_MS: '300' });
      model.on(match.any, [reply.hang()]);
      expect(await failureOf(requestModelReply(step(), { settings, signal }))).toMatchObject({ kind: 'timeout' });
    });
  });

  describe('sorts failures by what a retry can do', () => {
    const headers = new Headers();
    it.each([
      [
        500,
        '{"error":{"code":500,"message":"Failed to parse tool call arguments as JSON: parse error"}}',
        false,
        FailureType.ModelRequestRejected,
      ],
      [
        500,
        '{"error":{"message":"Value is not callable: null at row 1 (jinja template)"}}',
        false,
        FailureType.ModelRequestRejected,
      ],
      [
        500,
        '{"error":{"message":"the request exceeds the available context size, try increasing it"}}',
        false,
        FailureType.ModelRequestRejected,
      ],
      [
        500,
        '{"error":"prompt is too long: 9000 tokens > 8192 maximum context length"}',
        false,
        FailureType.ModelRequestRejected,
      ],
      [500, '{"error":{"message":"CUDA out of memory"}}', true, FailureType.ModelUnavailable],
      [503, 'Service Unavailable', true, FailureType.ModelUnavailable],
      [400, '{"error":{"message":"bad"}}', false, FailureType.ModelRequestRejected],
      [422, '{"detail":"Unprocessable"}', false, FailureType.ModelRequestRejected],
      [429, '{}', true, FailureType.ModelRateLimited],
    ])('HTTP %i %s', (status, body, retryable, type) => {
      const failure = httpFailure(new ModelHttpError(status, body, headers, 'http://x/v1'), 'check the settings');
      expect(failure.type).toBe(type);
      expect(failure.nonRetryable).toBe(!retryable);
    });
  });

  it('reads a finished choice with no message (Gemini safety stop) as an empty reply, not a malformed body', async () => {
    model.on(match.any, [
      reply.completion({
        object: 'chat.completion',
        choices: [{ index: 0, finish_reason: 'content_filter' }],
        usage: { prompt_tokens: 12, completion_tokens: 0, total_tokens: 12 },
      }),
    ]);
    const { reply: r } = await requestModelReply(step(), { settings, signal });
    expect(r).toMatchObject({ content: null, toolCalls: [], finishReason: 'content_filter' });
  });

  it('reads a whole JSON reply that a server labels text/event-stream (stream ignored, header kept)', async () => {
    const completion = {
      id: 'c1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'The answer is 4' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
    };
    model.on(match.any, [{ raw: JSON.stringify(completion, null, 2), contentType: 'text/event-stream' }]);
    const { reply: r } = await requestModelReply(step(), { settings, signal });
    expect(r).toMatchObject({ content: 'The answer is 4', toolCalls: [], finishReason: 'stop' });
  });

  it("fails the call on a 200 whose body is vLLM's error object, saying the server's words", async () => {
    model.on(match.any, [
      reply.completion({
        object: 'error',
        message: "This model's maximum context length is 4096 tokens",
        type: 'BadRequestError',
        code: 400,
      }),
    ]);
    const err = await failureOf(requestModelReply(step(), { settings, signal }));
    expect(err).toMatchObject({
      name: 'ModelReplyError',
      serverError: "This model's maximum context length is 4096 tokens",
    });
  });

  it('calls each role on its own endpoint, model and key', async () => {
    const judgeModel = await startScriptedModel({ strict: true });
    try {
      settings = env({
        TANDEM_JUDGE_BASE_URL: judgeModel.baseURL,
        TANDEM_JUDGE_MODEL: 'cheap',
        TANDEM_JUDGE_API_KEY: 'sk-judge',
        TANDEM_PLANNER_MODEL: 'strong',
      });
      model.on(match.any, [reply.text('ok')], { repeatLast: true });
      judgeModel.on(match.any, [reply.json({ met: true, reason: 'r' })]);
      await requestModelReply(step(), { settings, signal });
      await requestModelReply(judge(), { settings, signal });
      await requestModelReply({ ...step(), input: { purpose: 'plan', tools: [] } }, { settings, signal });
      expect(model.requests.map((r) => [r.body.model, r.headers.authorization])).toEqual([
        ['m', 'Bearer sk-test'],
        ['strong', 'Bearer sk-test'],
      ]);
      expect(judgeModel.requests.map((r) => [r.body.model, r.headers.authorization])).toEqual([
        ['cheap', 'Bearer sk-judge'],
      ]);
    } finally {
      await judgeModel.close();
    }
  });
});

describe('transcripts a strict server accepts', () => {
  const call = (id: string, args = '{"expression":"1"}') => ({ id, name: 'calculator', arguments: args });

  it('gives repeated and empty ids unique ones, and the tool answers follow them', () => {
    const messages: ChatMessage[] = [
      ...PROMPT,
      { role: 'assistant', content: null, toolCalls: [call('call_0'), call('')] },
      { role: 'tool', toolCallId: 'call_0', content: 'a' },
      { role: 'tool', toolCallId: '', content: 'b' },
      { role: 'assistant', content: null, toolCalls: [call('call_0')] },
      { role: 'tool', toolCallId: 'call_0', content: 'c' },
    ];
    const out = toRequestMessages(messages);
    expect(strictProblem(out as never)).toBeUndefined();
    expect(out.filter((m) => m.role === 'tool').map((m) => m.content)).toEqual(['a', 'b', 'c']);
  });

  it("replaces ids longer than OpenAI's 40 characters (other providers' ids), and the tool answers follow them", () => {
    const long = `ws_${'9'.repeat(48)}`;
    const out = toRequestMessages([
      ...PROMPT,
      { role: 'assistant', content: null, toolCalls: [call(long), call('short')] },
      { role: 'tool', toolCallId: long, content: 'a' },
      { role: 'tool', toolCallId: 'short', content: 'b' },
    ]);
    expect(strictProblem(out as never)).toBeUndefined();
    const ids = (out[2] as { tool_calls: Array<{ id: string }> }).tool_calls.map((c) => c.id);
    expect(ids[0].length).toBeLessThanOrEqual(40);
    expect(ids[1]).toBe('short');
    expect(out.slice(3).map((m) => [(m as { tool_call_id: string }).tool_call_id, m.content])).toEqual([
      [ids[0], 'a'],
      ['short', 'b'],
    ]);
  });

  it('re-encodes arguments an old transcript kept malformed', () => {
    const out = toRequestMessages([...PROMPT, { role: 'assistant', content: null, toolCalls: [call('a', '17*23+4')] }]);
    expect(strictProblem(out as never)).toBeUndefined();
    expect(JSON.stringify(out)).not.toContain('17*23+4');
  });

  it('answers a call left unanswered, merges a second answer, and turns an answer to no call into a user message', () => {
    const out = toRequestMessages([
      ...PROMPT,
      { role: 'assistant', content: null, toolCalls: [call('a'), call('b')] },
      { role: 'tool', toolCallId: 'a', content: 'first' },
      { role: 'tool', toolCallId: 'a', content: 'again' },
      { role: 'tool', toolCallId: 'zzz', content: 'stray' },
      { role: 'user', content: 'go on' },
    ]);
    expect(strictProblem(out as never)).toBeUndefined();
    expect(out.slice(2)).toEqual([
      expect.objectContaining({ role: 'assistant' }),
      { role: 'tool', tool_call_id: 'a', content: 'first\nagain' },
      { role: 'tool', tool_call_id: 'b', content: UNANSWERED_CALL },
      { role: 'user', content: expect.stringContaining('stray') },
      { role: 'user', content: 'go on' },
    ]);
  });
});
