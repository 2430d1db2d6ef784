import OpenAI, { APIConnectionError, APIError, APIUserAbortError, AuthenticationError, RateLimitError } from 'openai';
import { match, reply, startScriptedModel, type ScriptedModel } from '../dev/scripted-model';

const calculatorTool: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'calculator',
    description: 'Evaluates an arithmetic expression.',
    parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] },
  },
};

const planFormat: OpenAI.Chat.Completions.ChatCompletionCreateParams['response_format'] = {
  type: 'json_schema',
  json_schema: {
    name: 'plan',
    strict: true,
    schema: {
      type: 'object',
      properties: { steps: { type: 'array', items: { type: 'string' } } },
      required: ['steps'],
      additionalProperties: false,
    },
  },
};

/** Resolves with what the promise rejected with; fails the test if it resolved. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe('scripted model', () => {
  let model: ScriptedModel;
  let client: OpenAI;

  beforeAll(async () => {
    model = await startScriptedModel();
    // No retries: each scripted reply must reach the test exactly once.
    client = new OpenAI({ baseURL: model.baseURL, apiKey: 'test-key', maxRetries: 0 });
  });

  afterEach(() => model.reset());

  afterAll(() => model.close());

  function ask(
    content: string,
    extra: Partial<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming> = {},
    signal?: AbortSignal,
  ) {
    return client.chat.completions.create(
      { model: 'gpt-test', messages: [{ role: 'user', content }], ...extra },
      { signal },
    );
  }

  it('answers a text reply with a realistic chat completion', async () => {
    model.on(match.any, [reply.text('Hello there.')]);

    const completion = await ask('Say hello');

    expect(completion).toMatchObject({
      id: 'chatcmpl-scripted-1',
      object: 'chat.completion',
      model: 'gpt-test',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there.' }, finish_reason: 'stop' }],
      // 'Say hello' is 9 chars and 'Hello there.' 12: a quarter of each, rounded up.
      usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
    });
    expect(completion.choices[0].message.tool_calls).toBeUndefined();
    expect(Math.abs(completion.created - Date.now() / 1000)).toBeLessThan(60);
    model.assertAllAnswered();
  });

  it('uses scripted usage figures over the estimate', async () => {
    model.on(match.any, [reply.text('ok', { prompt_tokens: 1000, completion_tokens: 250 })]);

    const completion = await ask('count me');

    expect(completion.usage).toEqual({ prompt_tokens: 1000, completion_tokens: 250, total_tokens: 1250 });
  });

  it('makes tool calls whose arguments arrive as JSON strings with deterministic ids', async () => {
    model.on(match.hasTools('calculator'), [
      reply.toolCalls([
        { name: 'calculator', arguments: { expression: '2+2' } },
        { name: 'calculator', arguments: '{"expression":"3*3"}', id: 'call_given' },
      ]),
    ]);

    const completion = await ask('What are 2+2 and 3*3?', { tools: [calculatorTool] });

    const choice = completion.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([
      { id: 'call_1_0', type: 'function', function: { name: 'calculator', arguments: '{"expression":"2+2"}' } },
      { id: 'call_given', type: 'function', function: { name: 'calculator', arguments: '{"expression":"3*3"}' } },
    ]);
  });

  it('returns JSON content for a json_schema response_format and records the format name', async () => {
    model.on(match.responseFormat('plan'), [reply.json({ steps: ['add', 'multiply'] })]);

    const completion = await ask('Plan it', { response_format: planFormat });

    expect(JSON.parse(completion.choices[0].message.content ?? '')).toEqual({ steps: ['add', 'multiply'] });
    expect(model.requests[0].responseFormatName).toBe('plan');
    expect(model.requests[0].responseFormatType).toBe('json_schema');
  });

  it('records each request with its messages, tools, text and headers', async () => {
    model.on(match.any, [reply.text('done')]);
    const before = Date.now();

    await client.chat.completions.create({
      model: 'gpt-test',
      tools: [calculatorTool],
      messages: [
        { role: 'system', content: 'You are the executor.' },
        { role: 'user', content: 'Compute 2+2' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'calculator', arguments: '{"expression":"2+2"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: '4' },
      ],
    });

    expect(model.requests).toHaveLength(1);
    const [req] = model.requests;
    expect(req.id).toBe(1);
    expect(req.at).toBeGreaterThanOrEqual(before);
    expect(req.toolNames).toEqual(['calculator']);
    expect(req.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(req.messages[2].tool_calls?.[0].function.name).toBe('calculator');
    expect(req.messages[3].tool_call_id).toBe('call_a');
    expect(req.text).toContain('You are the executor.');
    expect(req.text).toContain('Compute 2+2');
    expect(req.lastUserText).toBe('Compute 2+2');
    expect(req.headers.authorization).toBe('Bearer test-key');
    expect(req.body.model).toBe('gpt-test');
    expect(req.clientAborted).toBe(false);
  });

  it('answers from the first matching rule that still has replies, consuming them in order', async () => {
    model
      .on(match.userContains('plan'), [reply.text('plan 1'), reply.text('plan 2')], { name: 'planner' })
      .on(match.any, [reply.text('fallback 1'), reply.text('fallback 2')], { name: 'fallback' });

    const answers: Array<string | null> = [];
    for (const prompt of ['plan this', 'something else', 'plan again', 'plan once more']) {
      const completion = await ask(prompt);
      answers.push(completion.choices[0].message.content);
    }

    // The planner rule runs out after two replies, so the third 'plan' request falls through to the fallback.
    expect(answers).toEqual(['plan 1', 'fallback 1', 'plan 2', 'fallback 2']);
    expect(model.requestsMatching(match.userContains('plan')).map((r) => r.id)).toEqual([1, 3, 4]);
  });

  it('composes matchers', async () => {
    model
      .on(match.and(match.systemContains('planner'), match.not(match.hasTools())), [reply.text('planner')])
      .on(match.and(match.textContains('4'), match.lastRole('tool')), [reply.text('after tool')]);

    const planned = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'You are the planner.' },
        { role: 'user', content: 'go' },
      ],
    });
    const observed = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'calculator', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c', content: '4' },
      ],
    });

    expect(planned.choices[0].message.content).toBe('planner');
    expect(observed.choices[0].message.content).toBe('after tool');
  });

  it('reuses the last reply forever with repeatLast', async () => {
    model.on(match.any, [reply.text('first'), reply.text('again')], { repeatLast: true });

    const answers: Array<string | null> = [];
    for (let i = 0; i < 4; i++) answers.push((await ask(`turn ${i}`)).choices[0].message.content);

    expect(answers).toEqual(['first', 'again', 'again', 'again']);
  });

  it('builds replies from the request when given a function', async () => {
    model.on(match.any, [(req) => reply.text(`you said: ${req.lastUserText}`)]);

    const completion = await ask('ping');

    expect(completion.choices[0].message.content).toBe('you said: ping');
  });

  it('fails an unscripted request with a 500 that names the request and the rules', async () => {
    model.on(match.responseFormat('plan'), [reply.json({ steps: [] })], { name: 'planner' });
    model.on(match.any, [reply.text('only once')], { name: 'once' });
    await ask('use up the fallback');

    const err = await rejectionOf(ask('Tell me a story about a tiny robot'));

    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(500);
    const expected =
      'scripted model: no scripted reply for request #2 (last user message: "Tell me a story about a tiny robot"); ' +
      'rules: planner(1 left), once(0 left)';
    expect((err as APIError).message).toContain(expected);
    expect(model.unmatched.map((r) => r.id)).toEqual([2]);
    expect(model.requests).toHaveLength(2);
    expect(() => model.assertAllAnswered()).toThrow(expected);
  });

  it('sends a 429 with retry-after', async () => {
    model.on(match.any, [reply.rateLimited(7)]);

    const err = await rejectionOf(ask('hi'));

    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).status).toBe(429);
    expect((err as RateLimitError).headers.get('retry-after')).toBe('7');
  });

  it('sends a 401 with an OpenAI-style error body', async () => {
    model.on(match.any, [reply.error(401, 'Incorrect API key provided.')]);

    const err = await rejectionOf(ask('hi'));

    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).message).toContain('Incorrect API key provided.');
    expect((err as AuthenticationError).code).toBe('invalid_api_key');
  });

  it('sends a 200 whose body is not JSON, which the client cannot parse', async () => {
    model.on(match.any, [reply.garbage()]);

    await expect(ask('hi')).rejects.toThrow();
  });

  it('marks truncated content with finish_reason length', async () => {
    model.on(match.any, [reply.truncated('The answer is')]);

    const completion = await ask('hi');

    expect(completion.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'The answer is' } });
  });

  it('sends an empty assistant message', async () => {
    model.on(match.any, [reply.empty(), reply.empty({ nullContent: true })]);

    const first = await ask('hi');
    const second = await ask('hi');

    expect(first.choices[0].message).toMatchObject({ content: '' });
    expect(second.choices[0].message).toMatchObject({ content: null });
    expect(first.choices[0].message.tool_calls).toBeUndefined();
  });

  it('delays a slow reply', async () => {
    model.on(match.any, [reply.slow(300, reply.text('eventually'))]);
    const started = Date.now();

    const completion = await ask('hi');

    expect(completion.choices[0].message.content).toBe('eventually');
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('hangs or delays until the client aborts, and records the abort', async () => {
    model.on(match.userContains('hang'), [reply.hang()]).on(match.any, [reply.slow(60_000, reply.text('too late'))]);
    const hung = new AbortController();
    const slow = new AbortController();

    const calls = [rejectionOf(ask('hang', {}, hung.signal)), rejectionOf(ask('be slow', {}, slow.signal))];
    await model.waitForRequests(2);
    hung.abort();
    slow.abort();

    for (const err of await Promise.all(calls)) expect(err).toBeInstanceOf(APIUserAbortError);
    await waitUntil(() => model.requests.every((r) => r.clientAborted));
  });

  it('rejects a body that is not JSON with a 400 and keeps the failure', async () => {
    const res = await fetch(`${model.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"messages": [',
    });

    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain('scripted model: the request body is not valid JSON');
    expect(model.requests).toHaveLength(0);
    expect(model.failures).toMatchObject([{ status: 400 }]);
  });

  it('lists a model', async () => {
    const models = await client.models.list();

    expect(models.data.map((m) => m.id)).toEqual(['scripted-model']);
  });
});

describe('closing the scripted model', () => {
  it('ends hung calls', async () => {
    const model = await startScriptedModel();
    const client = new OpenAI({ baseURL: model.baseURL, apiKey: 'test-key', maxRetries: 0 });
    model.on(match.any, [reply.hang()]);

    const call = rejectionOf(
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    );
    await model.waitForRequests(1);
    await model.close();

    expect(await call).toBeInstanceOf(APIConnectionError);
    expect(model.requests[0].clientAborted).toBe(false);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a scripted model with a latency', () => {
  it('answers no reply sooner than its latency, and a slower reply at its own pace', async () => {
    const model = await startScriptedModel({ latencyMs: 300 });
    const client = new OpenAI({ baseURL: model.baseURL, apiKey: 'test-key', maxRetries: 0 });
    model.on(match.any, [reply.text('quick'), reply.slow(600, reply.text('slow'))]);
    const timed = async () => {
      const started = Date.now();
      const completion = await client.chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'x' }],
      });
      return { content: completion.choices[0].message.content, ms: Date.now() - started };
    };
    try {
      const quick = await timed();
      const slow = await timed();

      expect(quick.content).toBe('quick');
      expect(quick.ms).toBeGreaterThanOrEqual(280);
      expect(slow.content).toBe('slow');
      expect(slow.ms).toBeGreaterThanOrEqual(580);
    } finally {
      await model.close();
    }
  });
});
