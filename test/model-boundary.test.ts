/**
 * The model boundary inside whole runs on a real dev server: the odd replies of real servers reach workflow code only
 * as tandem's own type, the next request stays one a strict server accepts (the scripted model here is strict), budgets
 * hold without reported usage, and streaming progress is readable while a call runs.
 */
import type { ExecutorInput } from '../common/types';
import { match, reply, startScriptedModel } from '../dev/scripted-model';
import { snapshot } from '../client/inspect';
import { startTandem, stopped, type Tandem } from './helpers/tandem';

describe('the model boundary in whole runs', () => {
  let tandem: Tandem;
  beforeEach(async () => {
    tandem = await startTandem({ model: { strict: true } });
  });
  afterEach(async () => {
    await tandem.stop();
  });

  /** An executor alone on the classic example: the instructions some in-text tool calls answer. */
  const runExecutor = (label: string, input: Partial<ExecutorInput> = {}) =>
    tandem.startExecutor(tandem.goalId(label), {
      subtask: { id: 't1', title: 'Compute', instructions: 'Compute 17 * 23 + 4.', milestone: '395', dependsOn: [] },
      ...input,
    });

  it('answers from content sent as parts with thinking (Mistral) instead of failing the workflow task', async () => {
    tandem.model.on(match.any, [
      reply.message({
        content: [
          { type: 'thinking', thinking: [{ type: 'text', text: 'two and two' }] },
          { type: 'text', text: 'The answer is 4' },
        ],
      }),
    ]);
    const result = await (await runExecutor('parts')).result();
    expect(result).toEqual(expect.objectContaining({ ok: true, answer: 'The answer is 4', steps: 1 }));
    tandem.model.assertAllAnswered();
  });

  it('runs object arguments (llama.cpp) and sends them back as a JSON string', async () => {
    tandem.model.on(match.lastRole('tool'), reply.text('395')).on(match.any, [
      reply.message(
        {
          content: null,
          tool_calls: [{ id: '', function: { name: 'Calculator ', arguments: { expression: '17*23+4' } } }],
        },
        { finishReason: 'tool_calls' },
      ),
    ]);
    const result = await (await runExecutor('object-args')).result();
    expect(result).toEqual(expect.objectContaining({ ok: true, answer: '395' }));
    expect(result.toolCalls).toEqual([expect.objectContaining({ name: 'calculator', ok: true })]);
    const sent = tandem.model.requests[1].messages.find((m) => m.role === 'assistant')!;
    expect(sent.tool_calls![0].function.arguments).toBe('{"expression":"17*23+4"}');
    expect(sent.tool_calls![0].id).not.toBe('');
    tandem.model.assertAllAnswered();
  });

  it('tells the model its arguments were not JSON, and the next request is still valid', async () => {
    tandem.model
      .on(match.lastRole('tool'), reply.text('I will stop here: 395'))
      .on(match.any, [reply.toolCall('calculator', '17*23+4')]);
    const result = await (await runExecutor('bad-args')).result();
    expect(result.ok).toBe(true);
    const toolMessage = tandem.model.requests[1].messages.find((m) => m.role === 'tool')!;
    expect(toolMessage.content).toMatch(/not valid JSON.*you sent: 17\*23\+4/);
    const call = tandem.model.requests[1].messages.find((m) => m.role === 'assistant')!.tool_calls![0];
    expect(call.function.arguments).toBe('{}');
    tandem.model.assertAllAnswered();
  });

  it('runs a tool call written into the text (Hermes/Qwen) instead of taking it as the answer', async () => {
    tandem.model.on(match.lastRole('tool'), reply.text('395')).on(match.any, [
      reply.message({
        content: '<tool_call>\n{"name": "calculator", "arguments": {"expression": "17*23+4"}}\n</tool_call>',
      }),
    ]);
    const result = await (await runExecutor('in-text')).result();
    expect(result).toEqual(expect.objectContaining({ ok: true, answer: '395', steps: 2 }));
    expect(tandem.model.requests[1].messages.find((m) => m.role === 'tool')!.content).toContain('395');
    tandem.model.assertAllAnswered();
  });

  it('sends an unreadable in-text tool call back to the model as a problem, never as the final answer', async () => {
    tandem.model.on(match.any, [
      reply.message({ content: '<tool_call>{"name": "calculator", "arguments": {"expression": </tool_call>' }),
      reply.text('395'),
    ]);
    const result = await (await runExecutor('in-text-bad')).result();
    expect(result).toEqual(expect.objectContaining({ ok: true, answer: '395', steps: 2 }));
    expect(tandem.model.requests[1].lastUserText).toMatch(/tool call written as text .* could not be read/);
  });

  it('counts tokens itself when the server reports no usage, so a token budget still ends the run', async () => {
    tandem.model.on(
      match.any,
      reply.message(
        {
          content: null,
          tool_calls: [
            { id: 'x', type: 'function', function: { name: 'calculator', arguments: '{"expression":"1+1"}' } },
          ],
        },
        { finishReason: 'tool_calls' },
      ),
      { repeatLast: true },
    );
    const result = await (await runExecutor('no-usage', { budget: { maxTokens: 300 } })).result();
    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'budget', budget: 'tokens' }));
    expect(result.usage.estimated).toBe(true);
    expect(result.usage.promptTokens + result.usage.completionTokens).toBeGreaterThanOrEqual(300);
    expect(result.steps).toBeLessThan(6);
    tandem.model.assertAllAnswered();
  });

  it('does not retry a 5xx that says the request cannot be parsed', async () => {
    tandem.model.on(
      match.any,
      [reply.error(500, 'Failed to parse tool call arguments as JSON: [json.exception.parse_error.101] parse error')],
      { repeatLast: true },
    );
    const result = await (await runExecutor('parse-500')).result();
    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'model_error' }));
    expect(stopped(result).partial).toMatch(/cannot process this request as sent/);
    expect(tandem.model.requests).toHaveLength(1);
  });

  it('caps every request and streams it; the tokens streamed so far are readable while the call runs', async () => {
    tandem.model.on(match.any, [reply.streamed(reply.text('counting '.repeat(40).trim()), { chunkDelayMs: 150 })]);
    const run = await runExecutor('streaming');
    let seen = 0;
    for (let i = 0; i < 60 && seen === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const { streamingCalls: calls } = await snapshot(tandem.client, run.handle.workflowId);
      seen = calls[0]?.streamedTokens ?? 0;
      if (calls[0]) expect(calls[0]).toMatchObject({ purpose: 'step', subtaskId: 't1' });
    }
    expect(seen).toBeGreaterThan(0);
    expect((await run.result()).ok).toBe(true);
    expect(tandem.model.requests[0]).toMatchObject({ stream: true, maxTokens: 4096 });
    expect(tandem.model.requests[0].body.stream_options).toEqual({ include_usage: true });
  });

  it('sends each role to its own model and endpoint, and no key reaches history', async () => {
    const judgeModel = await startScriptedModel({ strict: true });
    try {
      tandem.config.model.roles = {
        planner: { model: 'strong-planner' },
        executor: { model: 'small-executor' },
        judge: { baseURL: judgeModel.baseURL, model: 'cheap-judge', apiKey: 'sk-judge-secret' },
      };
      const plan = {
        subtasks: [{ id: 's1', title: 'Add', instructions: 'Add 2 and 2', milestone: '4', dependsOn: [] }],
      };
      tandem.model
        .on(match.purpose('plan'), reply.json(plan))
        .on(match.purpose('step'), reply.text('4'))
        .on(match.purpose('report'), reply.text('Done: 4'));
      judgeModel.on(match.purpose('judge'), reply.json({ met: true, reason: 'it is 4' }));
      const handle = await tandem.startPlanner('roles', { goal: 'Add 2 and 2' });
      expect(await handle.result()).toEqual(expect.objectContaining({ ok: true }));
      expect(tandem.model.requests.map((r) => [r.purpose, r.body.model])).toEqual([
        ['plan', 'strong-planner'],
        ['step', 'small-executor'],
        ['report', 'strong-planner'],
      ]);
      expect(judgeModel.requests.map((r) => [r.body.model, r.headers.authorization])).toEqual([
        ['cheap-judge', 'Bearer sk-judge-secret'],
      ]);
      const histories = JSON.stringify([
        await handle.fetchHistory(),
        await tandem.client.workflow.getHandle(`${handle.workflowId}.v1.s1`).fetchHistory(),
      ]);
      expect(histories).not.toContain('sk-judge-secret');
      expect(histories).not.toContain('sk-test-secret-key');
    } finally {
      await judgeModel.close();
    }
  });
});
