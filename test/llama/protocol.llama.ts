/**
 * `npm run test:llama`: tandem against a real llama.cpp server. SmolLM2-135M is too weak to do real work; this is a
 * protocol suite. It checks that every request shape tandem sends is accepted (plan, verdict, report, executor steps
 * with tools), that the request after each odd reply the boundary handles is accepted too (the scripted model stands
 * in front of llama-server as a proxy that injects the odd reply and forwards the rest), and that a whole goal reaches
 * an end with no workflow left running.
 */
import { httpFailure, ModelHttpError } from '../../activities/model/failures';
import type { NormalizedReply } from '../../activities/model/normalize';
import { forgetCapabilities, requestModelReply, type ModelRequest } from '../../activities/model/request';
import type { ChatMessage } from '../../common/types';
import { verdictSchema } from '../../common/types';
import { jsonSchemaOf } from '../../common/json-schema';
import { match, reply, startScriptedModel, type ScriptedModel } from '../../dev/scripted-model';
import { loadConfig, type ModelConfig } from '../../node/config';
import { checkPlan, planJsonSchema } from '../../workflows/planner/plan';
import {
  executorSystemPrompt,
  JUDGE_SYSTEM_PROMPT,
  PLANNER_SYSTEM_PROMPT,
  REPORT_SYSTEM_PROMPT,
} from '../../workflows/prompts';
import { TOOL_NAMES } from '../../common/tools';
import { startLlamaServer, type LlamaServer } from './llama-server';

const subtask = { id: 's1', title: 'Compute', instructions: 'Compute 17 * 23 + 4.', milestone: '395', dependsOn: [] };
const STEP_PROMPT: ChatMessage[] = [
  { role: 'system', content: executorSystemPrompt(subtask) },
  { role: 'user', content: subtask.instructions },
];

/** The odd replies of point 1 and 2 of issue 11 whose next request carries what the model sent. */
const ODD_REPLIES: Array<[string, Record<string, unknown>]> = [
  [
    'arguments as an object',
    {
      content: null,
      tool_calls: [
        { id: 'a1', type: 'function', function: { name: 'calculator', arguments: { expression: '17*23+4' } } },
      ],
    },
  ],
  [
    'arguments that are not JSON',
    {
      content: null,
      tool_calls: [{ id: 'b1', type: 'function', function: { name: 'calculator', arguments: '17*23+4' } }],
    },
  ],
  [
    'empty-string arguments',
    { content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'list_files', arguments: '' } }] },
  ],
  [
    'arguments as an array',
    { content: null, tool_calls: [{ id: 'd1', type: 'function', function: { name: 'calculator', arguments: '[1]' } }] },
  ],
  [
    'an empty id and no type',
    { content: '', tool_calls: [{ id: '', function: { name: 'calculator', arguments: '{"expression":"1"}' } }] },
  ],
  [
    'two calls with one id',
    {
      content: null,
      tool_calls: [
        { id: 'call_0', type: 'function', function: { name: 'calculator', arguments: '{"expression":"1"}' } },
        { id: 'call_0', type: 'function', function: { name: 'calculator', arguments: '{"expression":"2"}' } },
      ],
    },
  ],
  [
    'a name in another case',
    {
      content: null,
      tool_calls: [{ id: 'e1', type: 'function', function: { name: ' Calculator', arguments: '{"expression":"1"}' } }],
    },
  ],
  [
    'an unknown tool',
    { content: null, tool_calls: [{ id: 'f1', type: 'function', function: { name: 'teleport', arguments: '{}' } }] },
  ],
  [
    'a Hermes <tool_call> in the text',
    { content: '<tool_call>\n{"name": "calculator", "arguments": {"expression": "2"}}\n</tool_call>' },
  ],
  [
    'a Mistral [TOOL_CALLS] in the text',
    { content: '[TOOL_CALLS] [{"name": "calculator", "arguments": {"expression": "3"}}]' },
  ],
  ['an unreadable in-text tool call', { content: '<tool_call>{"name": "calculator", "arguments": {</tool_call>' }],
  [
    'content as parts with thinking',
    {
      content: [
        { type: 'thinking', thinking: 'hmm' },
        { type: 'text', text: 'The answer is 395' },
      ],
    },
  ],
  ['reasoning_content', { content: '395', reasoning_content: 'multiply, then add' }],
  ['a refusal with null content', { content: null, refusal: 'I cannot.' }],
  [
    'a Gemini thought signature on a call',
    {
      content: null,
      tool_calls: [
        {
          id: 'g1',
          type: 'function',
          function: { name: 'calculator', arguments: '{"expression":"1"}' },
          extra_content: { google: { thought_signature: 'c2ln' } },
        },
      ],
    },
  ],
];

/** Whether `text` is JSON as it stands (no repair): what a grammar-constrained reply must be. */
function parsesAsJson(text: string | null): boolean {
  try {
    JSON.parse(text ?? '');
    return true;
  } catch {
    return false;
  }
}

/** The transcript the executor keeps after a reply: tool answers for its calls, or the problem / a nudge. */
function afterReply(messages: ChatMessage[], r: NormalizedReply): ChatMessage[] {
  const next: ChatMessage[] = [...messages, { role: 'assistant', content: r.content, toolCalls: r.toolCalls }];
  if (r.toolCalls.length) {
    for (const call of r.toolCalls) {
      const content = call.invalidArguments ? `the arguments are not valid (${call.invalidArguments.problem})` : '395';
      next.push({ role: 'tool', toolCallId: call.id, content });
    }
  } else next.push({ role: 'user', content: r.problem ?? 'Go on.' });
  return next;
}

interface Timing {
  what: string;
  ms: number;
  promptTokens: number;
  completionTokens: number;
}

describe('a real llama-server (SmolLM2-135M, Qwen2.5 template, --jinja)', () => {
  let llama: LlamaServer;
  let proxy: ScriptedModel;
  let config: ModelConfig;
  const timings: Timing[] = [];
  const signal = new AbortController().signal;

  beforeAll(async () => {
    llama = await startLlamaServer();
    proxy = await startScriptedModel();
    config = loadConfig({
      OPENAI_BASE_URL: proxy.baseURL,
      TANDEM_MODEL: 'smollm2',
      // Acceptance is what is checked; short replies keep a loaded 2-core machine's runs short.
      TANDEM_MAX_OUTPUT_TOKENS: 'plan=24,step=8,judge=16,report=8',
      TANDEM_MODEL_TIMEOUT_MS: '600000',
      TANDEM_MODEL_STALL_MS: '120000',
    }).model;
  }, 300_000);
  afterEach(() => {
    proxy.reset();
    forgetCapabilities();
    // A request refused because the server died says only ECONNREFUSED: this says how it died.
    llama.assertRunning();
  });
  afterAll(async () => {
    await proxy?.close();
    await llama?.stop();
    const rows = timings.map(
      (t) => `  ${t.what.padEnd(58)} ${String(t.ms).padStart(7)} ms  ${t.promptTokens}+${t.completionTokens} tokens`,
    );
    console.log(`llama-server started in ${llama?.startupMs} ms; requests:\n${rows.join('\n')}`);
  });

  async function timed(what: string, request: ModelRequest) {
    const started = Date.now();
    const response = await requestModelReply(request, { settings: config, signal });
    timings.push({ what, ms: Date.now() - started, ...response.usage });
    process.stderr.write(`llama: ${what}: ${Date.now() - started} ms\n`);
    return response;
  }

  function forwardAll() {
    proxy.on(match.any, reply.forward(llama.baseURL), { repeatLast: true });
  }

  function expectAccepted() {
    proxy.assertAllAnswered();
    for (const request of proxy.requests) expect(request.clientAborted).toBe(false);
  }

  describe('accepts every request shape tandem sends', () => {
    it('a plan (strict json_schema, streamed)', async () => {
      forwardAll();
      const response = await timed('plan', {
        input: { purpose: 'plan', tools: [], responseFormat: { name: 'plan', schema: planJsonSchema() } },
        messages: [
          { role: 'system', content: PLANNER_SYSTEM_PROMPT },
          { role: 'user', content: 'Goal: Compute 17 * 23 + 4 and save it to answer.txt' },
        ],
        idSeed: 'p',
      });
      expect(response.structuredMode).toBe('json_schema');
      expect(response.streamed).toBe(true);
      expect(response.usage.estimated).toBeUndefined();
      expectAccepted();
    });

    it('a verdict', async () => {
      forwardAll();
      const response = await timed('verdict', {
        input: {
          purpose: 'judge',
          subtaskId: 's1',
          tools: [],
          responseFormat: { name: 'verdict', schema: jsonSchemaOf(verdictSchema) },
        },
        messages: [
          { role: 'system', content: JUDGE_SYSTEM_PROMPT },
          { role: 'user', content: 'Step s1: Compute\n\nMilestone: 395\n\nResult:\n395' },
        ],
        idSeed: 'v',
      });
      expect(response.structuredMode).toBe('json_schema');
      expectAccepted();
    });

    it('a report', async () => {
      forwardAll();
      await timed('report', {
        input: { purpose: 'report', tools: [] },
        messages: [
          { role: 'system', content: REPORT_SYSTEM_PROMPT },
          { role: 'user', content: 'Goal: Compute 17 * 23 + 4\n\n## s1 · Compute (done)\n395' },
        ],
        idSeed: 'r',
      });
      expectAccepted();
    });

    it('an executor step with every tool', async () => {
      forwardAll();
      await timed('executor step, all tools', {
        input: { purpose: 'step', subtaskId: 's1', tools: [...TOOL_NAMES] },
        messages: STEP_PROMPT,
        idSeed: 's',
      });
      expect(proxy.requests[0].toolNames).toEqual([...TOOL_NAMES]);
      expectAccepted();
    });
  });

  describe('structured output in each mode (the figures docs/llama.md quotes)', () => {
    const modes: Array<{ mode: string; ms: number; tokens: number; finish: string; json: boolean; plan: boolean }> = [];
    afterAll(() => console.log(`structured plans by mode:\n${modes.map((m) => `  ${JSON.stringify(m)}`).join('\n')}`));

    it.each(['json_schema', 'json_object', 'tool'] as const)('a plan in %s mode', async (mode) => {
      forwardAll();
      const settings = loadConfig({
        OPENAI_BASE_URL: proxy.baseURL,
        TANDEM_MODEL: 'smollm2',
        TANDEM_STRUCTURED_OUTPUT: mode,
        TANDEM_MAX_OUTPUT_TOKENS: 'plan=96',
        TANDEM_MODEL_TIMEOUT_MS: '600000',
        TANDEM_MODEL_STALL_MS: '120000',
      }).model;
      const started = Date.now();
      const response = await requestModelReply(
        {
          input: { purpose: 'plan', tools: [], responseFormat: { name: 'plan', schema: planJsonSchema() } },
          messages: [
            { role: 'system', content: PLANNER_SYSTEM_PROMPT },
            { role: 'user', content: 'Goal: Compute 17 * 23 + 4 and save it to answer.txt' },
          ],
          idSeed: `m-${mode}`,
        },
        { settings, signal },
      );
      const { content, finishReason } = response.reply;
      const json = parsesAsJson(content);
      modes.push({
        mode,
        ms: Date.now() - started,
        tokens: response.usage.completionTokens,
        finish: finishReason,
        json,
        plan: checkPlan(content, finishReason).ok,
      });
      expect(response.structuredMode).toBe(mode);
      expectAccepted();
      // The grammar of a bounded schema ends: the reply stops at the cap at the latest, never at the call's timeout.
      expect(response.usage.completionTokens).toBeLessThanOrEqual(96);
      // Under json_schema the grammar admits only JSON: a reply the model finished is JSON.
      if (mode === 'json_schema' && finishReason === 'stop') expect(json).toBe(true);
    });
  });

  describe('accepts the request after each odd reply', () => {
    it.each(ODD_REPLIES)('after %s', async (what, message) => {
      proxy.on(match.any, [reply.message(message, { finishReason: 'tool_calls' }), reply.forward(llama.baseURL)]);
      const request = (messages: ChatMessage[], seed: string): ModelRequest => ({
        input: { purpose: 'step', subtaskId: 's1', tools: [...TOOL_NAMES] },
        messages,
        idSeed: seed,
      });
      const first = await requestModelReply(request(STEP_PROMPT, 'o1'), { settings: config, signal });
      await timed(`after ${what}`, request(afterReply(STEP_PROMPT, first.reply), 'o2'));
      expect(proxy.requests).toHaveLength(2);
      expectAccepted();
    });

    it('(what tandem used to send) a transcript with arguments that are not JSON is refused, and not retried', async () => {
      const response = await fetch(`${llama.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'smollm2',
          max_tokens: 4,
          messages: [
            { role: 'user', content: 'hi' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'a', type: 'function', function: { name: 'calculator', arguments: '17*23+4' } }],
            },
            { role: 'tool', tool_call_id: 'a', content: 'x' },
          ],
        }),
      });
      const body = await response.text();
      expect(response.status).toBe(500);
      expect(body).toContain('Failed to parse tool call arguments as JSON');
      const failure = httpFailure(new ModelHttpError(500, body, response.headers, llama.baseURL), '');
      expect(failure.nonRetryable).toBe(true);
    });
  });
});
