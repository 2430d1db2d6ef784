/**
 * The model boundary against every reply shape real servers are known to send, each played by the scripted model over
 * HTTP (as JSON and as a stream), and each followed by the next request tandem would make, which the scripted model
 * checks as strictly as OpenAI's own validation does.
 */
import type { ChatMessage } from '../common/types';
import { match, reply, startScriptedModel, type ScriptedModel } from '../dev/scripted-model';
import { forgetCapabilities, requestModelReply, type ModelRequest } from '../activities/model/request';
import { loadConfig, type ModelConfig } from '../node/config';
import type { NormalizedReply } from '../activities/model/normalize';

type Shape = {
  /** What it is and which server sends it. */
  name: string;
  message: Record<string, unknown>;
  finishReason?: string | null;
  usage?: Record<string, unknown> | null;
  expect: Partial<NormalizedReply> & { toolCallsLike?: Array<Record<string, unknown>> };
};

const TOOLS = ['calculator', 'write_file'] as const;

const SHAPES: Shape[] = [
  {
    name: 'arguments as a JSON object (llama.cpp, ggml-org/llama.cpp#20198)',
    message: {
      content: null,
      tool_calls: [{ id: 'a1', type: 'function', function: { name: 'calculator', arguments: { expression: '2+2' } } }],
    },
    finishReason: 'tool_calls',
    expect: { toolCallsLike: [{ id: 'a1', name: 'calculator', arguments: '{"expression":"2+2"}' }] },
  },
  {
    name: 'content as parts with thinking (Mistral Magistral)',
    message: {
      content: [
        { type: 'thinking', thinking: [{ type: 'text', text: 'Two plus two.' }] },
        { type: 'text', text: 'The answer is 4' },
      ],
    },
    expect: { content: 'The answer is 4', reasoning: 'Two plus two.', toolCalls: [] },
  },
  {
    name: 'a text part whose text is {value, annotations} (Assistants-style parts passed on by a proxy)',
    message: { content: [{ type: 'text', text: { value: 'The answer is 4', annotations: [] } }] },
    expect: { content: 'The answer is 4', toolCalls: [] },
  },
  {
    name: 'reasoning_content apart from content (llama.cpp, vLLM, DeepSeek)',
    message: { content: '4', reasoning_content: 'add them' },
    expect: { content: '4', reasoning: 'add them' },
  },
  {
    name: 'reasoning field (Ollama, OpenRouter)',
    message: { content: '4', reasoning: 'add them' },
    expect: { content: '4', reasoning: 'add them' },
  },
  {
    name: '<think> inline in content (servers without a reasoning parser)',
    message: { content: '<think>add them</think>\n4' },
    expect: { content: '4', reasoning: 'add them' },
  },
  {
    name: 'refusal field (OpenAI)',
    message: { content: null, refusal: 'I cannot help with that.' },
    expect: { content: null, refusal: 'I cannot help with that.' },
  },
  {
    name: 'refusal part',
    message: { content: [{ type: 'refusal', refusal: 'No.' }] },
    expect: { refusal: 'No.' },
  },
  {
    name: 'tool call with an empty id and no type (openinference#2240, StepFun)',
    message: {
      content: '',
      tool_calls: [{ id: '', function: { name: 'calculator', arguments: '{"expression":"1"}' } }],
    },
    finishReason: 'tool_calls',
    expect: { content: null, toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"1"}' }] },
  },
  {
    name: 'tool calls without ids, two of them (Ollama native shape)',
    message: {
      content: '',
      tool_calls: [
        { function: { name: 'calculator', arguments: { expression: '1' } } },
        { function: { name: 'calculator', arguments: { expression: '2' } } },
      ],
    },
    finishReason: 'stop',
    expect: { finishReason: 'tool_calls', toolCallsLike: [{ name: 'calculator' }, { name: 'calculator' }] },
  },
  {
    name: 'duplicate ids in one reply (Gemini through proxies, Mistral call_0)',
    message: {
      tool_calls: [
        { id: 'call_0', type: 'function', function: { name: 'calculator', arguments: '{"expression":"1"}' } },
        { id: 'call_0', type: 'function', function: { name: 'calculator', arguments: '{"expression":"2"}' } },
      ],
    },
    finishReason: 'tool_calls',
    expect: { toolCallsLike: [{ id: 'call_0' }, { name: 'calculator' }] },
  },
  {
    name: 'an id longer than the 40 characters OpenAI accepts (ids made by other providers and proxies)',
    message: {
      tool_calls: [
        {
          id: `call_${'x'.repeat(60)}`,
          type: 'function',
          function: { name: 'calculator', arguments: '{"expression":"1"}' },
        },
      ],
    },
    finishReason: 'tool_calls',
    expect: { toolCallsLike: [{ name: 'calculator' }] },
  },
  {
    name: 'a made-up tool name OpenAI refuses in a transcript (web.search, spaces, 70 characters)',
    message: {
      tool_calls: [
        { id: 'w1', type: 'function', function: { name: 'web.search', arguments: '{"q":"x"}' } },
        { id: 'w2', type: 'function', function: { name: 'Search Files!', arguments: '{}' } },
        { id: 'w3', type: 'function', function: { name: 'a'.repeat(70), arguments: '{}' } },
      ],
    },
    finishReason: 'tool_calls',
    expect: { toolCallsLike: [{ name: 'web.search' }, { name: 'Search Files!' }, { name: 'a'.repeat(70) }] },
  },
  {
    name: 'arguments that are not JSON ("17*23+4")',
    message: { tool_calls: [{ id: 'b1', type: 'function', function: { name: 'calculator', arguments: '17*23+4' } }] },
    finishReason: 'tool_calls',
    expect: {
      toolCallsLike: [{ id: 'b1', arguments: '{}', invalidArguments: expect.objectContaining({ raw: '17*23+4' }) }],
    },
  },
  {
    name: 'empty-string arguments (vLLM for no-argument calls)',
    message: { tool_calls: [{ id: 'c1', type: 'function', function: { name: 'calculator', arguments: '' } }] },
    finishReason: 'tool_calls',
    expect: { toolCallsLike: [{ id: 'c1', arguments: '{}' }] },
  },
  {
    name: 'double-encoded arguments',
    message: {
      tool_calls: [
        { id: 'd1', type: 'function', function: { name: 'calculator', arguments: '"{\\"expression\\":\\"3\\"}"' } },
      ],
    },
    finishReason: 'tool_calls',
    expect: { toolCallsLike: [{ arguments: '{"expression":"3"}' }] },
  },
  {
    name: 'arguments as an array',
    message: { tool_calls: [{ id: 'e1', type: 'function', function: { name: 'calculator', arguments: '[1,2]' } }] },
    finishReason: 'tool_calls',
    expect: { toolCallsLike: [{ arguments: '{}', invalidArguments: expect.objectContaining({ raw: '[1,2]' }) }] },
  },
  ...(
    [
      ['an extra closing brace (langchain-qwq#30)', '{"expression":"4"}}'],
      ['a leaked end tag after them', '{"expression":"4"}</tool_call><|im_end|>'],
      ['the same object twice (whole arguments in two stream deltas)', '{"expression":"4"}{"expression":"4"}'],
      ['{} before them', '{}{"expression":"4"}'],
      ['prose around a ```json fence', 'Arguments:\n```json\n{"expression":"4"}\n```'],
      ['trailing commas and single quotes', "{'expression': '4',}"],
    ] as const
  ).map(([what, args]): Shape => ({
    name: `arguments with ${what}`,
    message: { tool_calls: [{ id: 'r1', type: 'function', function: { name: 'calculator', arguments: args } }] },
    finishReason: 'tool_calls',
    expect: { toolCallsLike: [{ id: 'r1', arguments: '{"expression":"4"}' }] },
  })),
  {
    name: 'arguments "null" for a call without arguments',
    message: { tool_calls: [{ id: 'n1', type: 'function', function: { name: 'calculator', arguments: 'null' } }] },
    finishReason: 'tool_calls',
    expect: { toolCallsLike: [{ id: 'n1', arguments: '{}' }] },
  },
  {
    name: 'arguments holding two different objects stay invalid: which one is meant cannot be told',
    message: {
      tool_calls: [
        {
          id: 'm1',
          type: 'function',
          function: { name: 'calculator', arguments: '{"expression":"1"}{"expression":"2"}' },
        },
      ],
    },
    finishReason: 'tool_calls',
    expect: {
      toolCallsLike: [
        {
          arguments: '{}',
          invalidArguments: expect.objectContaining({ problem: expect.stringContaining('2 different') }),
        },
      ],
    },
  },
  {
    name: 'name padded and in another case, functions.-prefixed',
    message: {
      tool_calls: [
        { id: 'f1', type: 'function', function: { name: ' Calculator\n', arguments: '{"expression":"1"}' } },
        {
          id: 'f2',
          type: 'function',
          function: { name: 'functions.write_file', arguments: '{"path":"a","content":"b"}' },
        },
      ],
    },
    finishReason: 'tool_calls',
    expect: { toolCallsLike: [{ name: 'calculator' }, { name: 'write_file' }] },
  },
  {
    name: 'tool_calls as a single object, not an array',
    message: {
      tool_calls: { id: 'g1', type: 'function', function: { name: 'calculator', arguments: '{"expression":"1"}' } },
    },
    finishReason: 'tool_calls',
    expect: { toolCallsLike: [{ id: 'g1' }] },
  },
  {
    name: 'legacy function_call',
    message: { content: null, function_call: { name: 'calculator', arguments: '{"expression":"1"}' } },
    finishReason: 'function_call',
    expect: { finishReason: 'tool_calls', toolCallsLike: [{ name: 'calculator' }] },
  },
  {
    name: 'Gemini extra_content (thought signature) kept for the next request',
    message: {
      tool_calls: [
        {
          id: 'h1',
          type: 'function',
          function: { name: 'calculator', arguments: '{"expression":"1"}' },
          extra_content: { google: { thought_signature: 'sig' } },
        },
      ],
    },
    finishReason: 'stop',
    expect: {
      finishReason: 'tool_calls',
      toolCallsLike: [{ providerFields: { extra_content: { google: { thought_signature: 'sig' } } } }],
    },
  },
  {
    name: 'Hermes/Qwen <tool_call> in the text',
    message: {
      content:
        'Let me compute.\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "17*23+4"}}\n</tool_call>',
    },
    expect: {
      content: 'Let me compute.',
      finishReason: 'tool_calls',
      toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"17*23+4"}' }],
    },
  },
  {
    name: '<tool_call> with "args" and no closing tag (gemma3nTools, ollama/ollama#18357)',
    message: { content: '<tool_call>{"name": "calculator", "args": {"expression": "1"}}' },
    expect: { content: null, toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"1"}' }] },
  },
  {
    name: 'Qwen3-Coder XML <function=...><parameter=...>',
    message: {
      content:
        '<tool_call>\n<function=calculator>\n<parameter=expression>\n2*3\n</parameter>\n</function>\n</tool_call>',
    },
    expect: { toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"2*3"}' }] },
  },
  {
    name: 'Mistral [TOOL_CALLS] JSON list',
    message: { content: '[TOOL_CALLS] [{"name": "calculator", "arguments": {"expression": "1"}, "id": "abcdefghi"}]' },
    expect: { content: null, toolCallsLike: [{ id: 'abcdefghi', name: 'calculator' }] },
  },
  {
    name: 'Mistral v11 [TOOL_CALLS]name[ARGS]{...}',
    message: { content: '[TOOL_CALLS]calculator[ARGS]{"expression": "5"}' },
    expect: { toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"5"}' }] },
  },
  {
    name: 'Llama 3 <|python_tag|> with "parameters"',
    message: { content: '<|python_tag|>{"name": "calculator", "parameters": {"expression": "7"}}<|eom_id|>' },
    expect: { toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"7"}' }] },
  },
  {
    name: 'Llama 3.1 <function=name>{...}</function>',
    message: { content: '<function=calculator>{"expression": "8"}</function>' },
    expect: { toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"8"}' }] },
  },
  {
    name: 'functools[...] (Phi-4-mini, FireFunction)',
    message: { content: 'functools[{"name": "calculator", "arguments": {"expression": "9"}}]' },
    expect: { toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"9"}' }] },
  },
  {
    name: '```json fenced {"name","arguments"}',
    message: { content: 'I will call it:\n```json\n{"name": "calculator", "arguments": {"expression": "10"}}\n```' },
    expect: { content: 'I will call it:', toolCallsLike: [{ name: 'calculator' }] },
  },
  {
    name: 'bare JSON call objects as the whole reply (Ollama qwen3, ollama/ollama#11185)',
    message: {
      content:
        '{"name": "calculator", "arguments": {"expression": "1"}} {"name": "calculator", "arguments": {"expression": "2"}}',
    },
    expect: { content: null, toolCallsLike: [{ name: 'calculator' }, { name: 'calculator' }] },
  },
  {
    name: 'DeepSeek <｜tool▁call▁begin｜> markup',
    message: {
      content:
        '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>calculator\n```json\n{"expression": "11"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
    },
    expect: { toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"11"}' }] },
  },
  {
    name: 'an in-text tool call that cannot be read becomes a problem, never an answer',
    message: { content: '<tool_call>\n{"name": "calculator", "arguments": {"expression": \n</tool_call>' },
    expect: { toolCalls: [], problem: expect.stringContaining('could not be read') },
  },
  {
    name: 'a JSON answer that names no offered tool stays an answer',
    message: { content: '{"name": "Ada", "arguments": "none"}' },
    expect: { content: '{"name": "Ada", "arguments": "none"}', toolCalls: [] },
  },
  {
    name: 'MiniMax <minimax:tool_call><invoke name=...> XML (earendil-works/pi#368)',
    message: {
      content:
        '<minimax:tool_call>\n<invoke name="calculator">\n<parameter name="expression">6*7</parameter>\n</invoke>\n</minimax:tool_call>',
    },
    expect: { content: null, toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"6*7"}' }] },
  },
  {
    name: 'Claude-style <function_calls><invoke> with two calls; values are text, as written',
    message: {
      content:
        'Writing it.\n<function_calls>\n<invoke name="write_file">\n<parameter name="path">a.txt</parameter>\n<parameter name="content">42</parameter>\n</invoke>\n<invoke name="calculator">\n<parameter name="expression">1</parameter>\n</invoke>\n</function_calls>',
    },
    expect: {
      content: 'Writing it.',
      toolCallsLike: [
        { name: 'write_file', arguments: '{"path":"a.txt","content":"42"}' },
        { name: 'calculator', arguments: '{"expression":"1"}' },
      ],
    },
  },
  {
    name: 'GLM-4.5 <tool_call>name<arg_key>..</arg_key><arg_value>..</arg_value>',
    message: {
      content: '<tool_call>calculator\n<arg_key>expression</arg_key>\n<arg_value>2+5</arg_value>\n</tool_call>',
    },
    expect: { content: null, toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"2+5"}' }] },
  },
  {
    name: '<function_call>{"name","arguments"}</function_call>',
    message: { content: '<function_call>{"name": "calculator", "arguments": {"expression": "3"}}</function_call>' },
    expect: { content: null, toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"3"}' }] },
  },
  {
    name: 'Granite <|tool_call|>[...]',
    message: { content: '<|tool_call|>[{"name": "calculator", "arguments": {"expression": "12"}}]' },
    expect: { content: null, toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"12"}' }] },
  },
  {
    name: 'gpt-oss harmony leaking into the text (kekzl/imp#1719)',
    message: {
      content:
        '<|channel|>analysis<|message|>Use the calculator.<|end|><|start|>assistant<|channel|>commentary to=functions.calculator <|constrain|>json<|message|>{"expression":"13"}<|call|>',
    },
    expect: { toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"13"}' }] },
  },
  {
    name: 'gpt-oss tool names with special tokens or a glued "json" (llama.cpp#15158)',
    message: {
      tool_calls: [
        {
          id: 'g1',
          type: 'function',
          function: { name: 'calculator<|channel|>commentary', arguments: '{"expression":"1"}' },
        },
        { id: 'g2', type: 'function', function: { name: 'calculatorjson', arguments: '{"expression":"2"}' } },
      ],
    },
    finishReason: 'tool_calls',
    expect: { toolCallsLike: [{ name: 'calculator' }, { name: 'calculator' }] },
  },
  {
    name: 'a tool-call marker in no readable form (FunctionGemma) becomes a problem, never an answer',
    message: { content: '<start_function_call>call:calculator{expression:<escape>1<escape>}<end_function_call>' },
    expect: { toolCalls: [], problem: expect.stringContaining('could not be read') },
  },
  {
    name: 'a tool call inside reasoning_content with no content (Qwen3 on vLLM)',
    message: {
      content: '',
      reasoning_content:
        'I need the calculator.\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "14"}}\n</tool_call>',
    },
    expect: { content: null, toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"14"}' }] },
  },
  {
    name: 'a tool call inside <think> with nothing after it',
    message: {
      content: '<think>call it <tool_call>{"name":"calculator","arguments":{"expression":"15"}}</tool_call></think>',
    },
    expect: { content: null, toolCallsLike: [{ name: 'calculator', arguments: '{"expression":"15"}' }] },
  },
  {
    name: 'bare JSON in the reasoning stays thought, not a call',
    message: { content: '', reasoning_content: '{"name": "calculator", "arguments": {"expression": "1"}}' },
    expect: { toolCalls: [], reasoning: '{"name": "calculator", "arguments": {"expression": "1"}}' },
  },
  {
    name: '<think> never closed (cut off while thinking): no answer, all reasoning',
    message: { content: '<think>First I multiply 17 by 23, which is' },
    finishReason: 'length',
    expect: { content: '', reasoning: 'First I multiply 17 by 23, which is', finishReason: 'length' },
  },
  {
    name: '<thinking>...</thinking> inline',
    message: { content: '<thinking>add them</thinking>4' },
    expect: { content: '4', reasoning: 'add them' },
  },
  {
    name: 'finish_reason tool_calls with no calls (calls lost to a server parser)',
    message: { content: 'The answer is 4.' },
    finishReason: 'tool_calls',
    expect: { content: 'The answer is 4.', toolCalls: [], finishReason: 'stop', rawFinishReason: 'tool_calls' },
  },
  {
    name: 'usage all zeros (servers that did not count) is counted by tandem',
    message: { content: 'four' },
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    expect: { reportedUsage: {} },
  },
  {
    name: 'finish_reason length (cut off by max_tokens)',
    message: { content: 'The answer is' },
    finishReason: 'length',
    expect: { finishReason: 'length' },
  },
  {
    name: 'finish_reason MAX_TOKENS (Gemini spelling)',
    message: { content: 'The answer is' },
    finishReason: 'MAX_TOKENS',
    expect: { finishReason: 'length', rawFinishReason: 'MAX_TOKENS' },
  },
  {
    name: 'finish_reason end_turn / eos / null',
    message: { content: 'done' },
    finishReason: null,
    expect: { finishReason: 'stop' },
  },
  {
    name: 'finish_reason content_filter',
    message: { content: '' },
    finishReason: 'content_filter',
    expect: { finishReason: 'content_filter' },
  },
  {
    name: 'usage missing entirely (llama-server builds, some proxies)',
    message: { content: 'four' },
    expect: { reportedUsage: {} },
  },
  {
    name: 'usage null',
    message: { content: 'four' },
    usage: null,
    expect: { reportedUsage: {} },
  },
  {
    name: 'usage partial: total only with prompt',
    message: { content: 'four' },
    usage: { prompt_tokens: 10, total_tokens: 14 },
    expect: { reportedUsage: { promptTokens: 10, completionTokens: 4 } },
  },
  {
    name: 'usage under input_tokens/output_tokens',
    message: { content: 'four' },
    usage: { input_tokens: 10, output_tokens: 2 },
    expect: { reportedUsage: { promptTokens: 10, completionTokens: 2 } },
  },
];

function settingsFor(model: ScriptedModel, extra: Record<string, string> = {}): ModelConfig {
  return loadConfig({ OPENAI_BASE_URL: model.baseURL, OPENAI_API_KEY: 'sk-test', TANDEM_MODEL: 'm', ...extra }).model;
}

const PROMPT: ChatMessage[] = [
  { role: 'system', content: 'You are an executor.' },
  { role: 'user', content: 'Compute 17 * 23 + 4.' },
];

function stepRequest(messages: ChatMessage[], seed: string): ModelRequest {
  return { input: { purpose: 'step', subtaskId: 's1', tools: [...TOOLS] }, messages, idSeed: seed };
}

/** The transcript tandem keeps after a reply, and one tool answer per call, as the executor appends them. */
function afterReply(messages: ChatMessage[], r: NormalizedReply): ChatMessage[] {
  return [
    ...messages,
    { role: 'assistant', content: r.content, toolCalls: r.toolCalls },
    ...r.toolCalls.map((call): ChatMessage => ({ role: 'tool', toolCallId: call.id, content: 'ok' })),
    ...(r.toolCalls.length === 0 ? [{ role: 'user' as const, content: 'go on' }] : []),
  ];
}

describe.each([
  ['as JSON', 'json' as const],
  ['streamed', 'sse' as const],
])('the model boundary, replies %s', (_label, streaming) => {
  let model: ScriptedModel;

  beforeAll(async () => {
    model = await startScriptedModel({ strict: true, streaming });
  });
  afterEach(() => {
    model.reset();
    forgetCapabilities();
  });
  afterAll(() => model.close());

  it.each(SHAPES.map((shape) => [shape.name, shape] as const))('reads %s', async (_name, shape) => {
    model.on(match.purpose('step'), [
      reply.message(shape.message, {
        finishReason: shape.finishReason === undefined ? 'stop' : shape.finishReason,
        ...(shape.usage !== undefined ? { usage: shape.usage } : {}),
      }),
      reply.text('done'),
    ]);
    const settings = settingsFor(model);
    const signal = new AbortController().signal;
    const first = await requestModelReply(stepRequest(PROMPT, 'seed1'), { settings, signal });
    const { toolCallsLike, ...expected } = shape.expect;
    expect(first.reply).toMatchObject(expected);
    if (toolCallsLike) expect(first.reply.toolCalls).toMatchObject(toolCallsLike);
    for (const call of first.reply.toolCalls) {
      expect(call.id).not.toBe('');
      expect(() => JSON.parse(call.arguments)).not.toThrow();
    }
    expect(new Set(first.reply.toolCalls.map((call) => call.id)).size).toBe(first.reply.toolCalls.length);
    const { promptTokens, completionTokens } = first.reply.reportedUsage;
    if (promptTokens === undefined || completionTokens === undefined) expect(first.usage.estimated).toBe(true);
    expect(first.usage.promptTokens).toBeGreaterThan(0);

    // The next request, with the odd reply in its transcript, is one a strict server accepts.
    const next = await requestModelReply(stepRequest(afterReply(PROMPT, first.reply), 'seed2'), { settings, signal });
    expect(next.reply.content).toBe('done');
    model.assertAllAnswered();
    // tandem always asks for a stream; a server that ignores the flag answers with JSON, which is read the same.
    expect(model.requests[1].stream).toBe(true);
  });
});
