/**
 * A model reply is complete or it is not an answer: a stream that ends without a finish reason or `[DONE]`, a body cut
 * short, a finish reason that says the server broke the generation off. Each is asked again (the `callModel` retry
 * policy), for every model call: the executor's step, the planner's plan, the judge's verdict and the report.
 */
import { ApplicationFailure } from '@temporalio/common';
import { match, reply, startScriptedModel, type Reply, type ScriptedModel } from '../dev/scripted-model';
import { forgetCapabilities, requestModelReply } from '../activities/model/request';
import { transportFailure, ModelTransportError } from '../activities/model/failures';
import { FailureType } from '../common/failures';
import { loadConfig } from '../node/config';
import { startTandem, stopped, type Tandem } from './helpers/tandem';

const HALF = 'Revenue grew by 1';
const WHOLE = 'Revenue grew by 12% in 2025.';

/** The chunks a streaming server sends for `text`, one piece each, with no finish chunk. */
function chunksOf(pieces: string[]): Record<string, unknown>[] {
  return pieces.map((content, index) => ({
    id: 'chatcmpl-cut',
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta: index === 0 ? { role: 'assistant', content } : { content }, finish_reason: null }],
  }));
}

/**
 * Each way a reply ends without being complete, as the scripted model sends it, and the failure it becomes: `incomplete`
 * where the body ended cleanly (only the missing terminal marker tells), `network` where the connection dropped.
 */
const CUT_REPLIES: Array<{ name: string; reply: Reply; kind?: ModelTransportError['kind'] }> = [
  {
    name: 'a stream that ends cleanly with no finish reason and no [DONE] (the issue example)',
    reply: reply.chunks(chunksOf(['Revenue ', 'grew ', 'by 1']), { noDone: true }),
  },
  {
    name: 'a stream whose body ends after some chunks (a proxy closing mid-reply)',
    reply: reply.cutShort(reply.text(WHOLE), { endAfterChunks: 3 }),
  },
  {
    name: 'a stream dropped inside an event',
    reply: reply.cutShort(reply.text(WHOLE), { dropAfterBytes: 300 }),
    kind: 'network',
  },
  {
    name: "finish_reason abort (vLLM's aborted request)",
    reply: reply.message({ content: HALF }, { finishReason: 'abort' }),
  },
  {
    name: "finish_reason insufficient_system_resource (DeepSeek's interrupted generation)",
    reply: reply.message({ content: HALF }, { finishReason: 'insufficient_system_resource' }),
  },
  {
    name: 'finish_reason error without an error object (Mistral)',
    reply: reply.message({ content: HALF }, { finishReason: 'error' }),
  },
];

describe('an incomplete reply at the model boundary', () => {
  let model: ScriptedModel;
  const settings = () => ({ ...loadConfig().model, baseURL: model.baseURL, apiKey: 'k', stream: true });
  const ask = () =>
    requestModelReply(
      {
        input: { purpose: 'step', tools: [] },
        messages: [{ role: 'user', content: 'How did revenue do?' }],
        idSeed: 'seed',
      },
      { settings: settings(), signal: new AbortController().signal },
    );
  beforeEach(async () => {
    forgetCapabilities();
    model = await startScriptedModel();
  });
  afterEach(() => model.close());

  it.each(CUT_REPLIES)(
    'fails the call, retryable, never a reply: $name',
    async ({ reply: cut, kind = 'incomplete' }) => {
      model.on(match.any, [cut]);
      const err = await ask().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelTransportError);
      expect((err as ModelTransportError).kind).toBe(kind);
      const failure = transportFailure(err as ModelTransportError);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure.type).toBe(
        kind === 'incomplete' ? FailureType.ModelIncompleteReply : FailureType.ModelUnavailable,
      );
      expect(failure.nonRetryable).toBe(false);
    },
  );

  it('fails a JSON body cut short mid-transfer as a failed call, never as a reply', async () => {
    model.on(match.any, [reply.cutShort(reply.text(WHOLE), { dropAfterBytes: 60 })]);
    const settingsNoStream = { ...settings(), stream: false };
    const err = await requestModelReply(
      { input: { purpose: 'step', tools: [] }, messages: [{ role: 'user', content: 'q' }], idSeed: 's' },
      { settings: settingsNoStream, signal: new AbortController().signal },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelTransportError);
    expect(['network', 'malformed']).toContain((err as ModelTransportError).kind);
  });

  it('takes a stream that ends with a finish reason but no [DONE] as complete (servers that omit it)', async () => {
    const chunks = chunksOf(['Revenue ', 'grew.']);
    (chunks[1].choices as Array<Record<string, unknown>>)[0].finish_reason = 'stop';
    model.on(match.any, [reply.chunks(chunks, { noDone: true })]);
    expect((await ask()).reply).toEqual(expect.objectContaining({ content: 'Revenue grew.', finishReason: 'stop' }));
  });

  it('takes a stream that ends with [DONE] but no finish reason as complete (the server said it ended)', async () => {
    model.on(match.any, [reply.chunks(chunksOf(['Revenue ', 'grew.']))]);
    expect((await ask()).reply.content).toBe('Revenue grew.');
  });
});

describe('an incomplete reply in whole runs', () => {
  let tandem: Tandem;
  beforeEach(async () => {
    tandem = await startTandem();
  });
  afterEach(async () => {
    await tandem.stop();
  });

  it('never ends an executor with half a sentence: the cut-off stream is asked again', async () => {
    tandem.model.on(match.any, [
      reply.chunks(chunksOf(['Revenue ', 'grew ', 'by 1']), { noDone: true }),
      reply.text(WHOLE),
    ]);
    const started = await tandem.startExecutor(tandem.goalId('cut-stream'));
    const result = await started.result();
    expect(result).toEqual(expect.objectContaining({ ok: true, answer: WHOLE, steps: 1 }));
    expect(tandem.model.requests).toHaveLength(2);
    tandem.model.assertAllAnswered();
  });

  it('asks the planner, the judge and the report again when their replies are cut short', async () => {
    const plan = JSON.stringify({
      subtasks: [{ id: 's1', title: 'Do s1', instructions: 'Answer.', milestone: 's1 is answered', dependsOn: [] }],
    });
    const verdict = JSON.stringify({ met: true, reason: 'the answer meets the milestone' });
    const cut = (text: string) => reply.cutShort(reply.text(text), { endAfterChunks: 4 });
    tandem.model
      .on(match.responseFormat('plan'), [cut(plan), reply.text(plan)], { name: 'planner' })
      .on(match.responseFormat('verdict'), [cut(verdict), reply.text(verdict)], { name: 'judge' })
      .on(match.systemContains('final report'), [cut('The report: s1 answered.'), reply.text('The report: done.')], {
        name: 'report',
      })
      .on(match.systemContains('Subtask s1:'), [reply.text('s1 answer')], { name: 's1' });
    const handle = await tandem.startPlanner('cut-planner', { goal: 'Answer s1' });
    const result = await handle.result();
    expect(result.ok).toBe(true);
    expect(result.report).toBe('The report: done.');
    expect(tandem.model.requestsMatching(match.responseFormat('plan'))).toHaveLength(2);
    expect(tandem.model.requestsMatching(match.responseFormat('verdict'))).toHaveLength(2);
    tandem.model.assertAllAnswered();
  });
});

describe('a reply withheld by the content filter (complete, but not an answer)', () => {
  let tandem: Tandem;
  beforeEach(async () => {
    tandem = await startTandem();
  });
  afterEach(async () => {
    await tandem.stop();
  });

  it('ends the executor with reason content_filter, running none of its tool calls and keeping none of its text', async () => {
    tandem.model.on(match.any, [
      reply.filtered({
        content: 'Here is how to',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'write_file', arguments: JSON.stringify({ path: 'out.txt', content: 'flagged' }) },
          },
        ],
      }),
    ]);
    const started = await tandem.startExecutor(tandem.goalId('filtered-step'));
    const result = await started.result();
    expect(result).toEqual(
      expect.objectContaining({ ok: false, answer: null, reason: 'content_filter', steps: 1, toolCalls: [] }),
    );
    expect(stopped(result).partial).toMatch(/content filter withheld the model's reply/);
    expect(stopped(result).partial).not.toMatch(/Here is how to/);
    expect(tandem.model.requests).toHaveLength(1);
    tandem.model.assertAllAnswered();
  });

  it('takes a withheld plan, verdict or report as a refusal, never as the result', async () => {
    const plan = JSON.stringify({
      subtasks: [{ id: 's1', title: 'Do s1', instructions: 'Answer.', milestone: 's1 is answered', dependsOn: [] }],
    });
    // The replan the withheld verdict causes must change the work: a plan that repeats a failed one is refused.
    const replan = plan.replace('"Answer."', '"Answer again."');
    const verdict = JSON.stringify({ met: true, reason: 'the answer meets the milestone' });
    tandem.model
      // The withheld plan and verdict carry a whole valid JSON text: the finish reason alone must refuse them.
      .on(match.responseFormat('plan'), [reply.filtered({ content: plan }), reply.text(plan), reply.text(replan)], {
        name: 'planner',
      })
      .on(match.responseFormat('verdict'), [reply.filtered({ content: verdict }), reply.text(verdict)], {
        name: 'judge',
      })
      .on(match.systemContains('final report'), [reply.filtered({ content: 'The report: done.' })], { name: 'report' })
      .on(match.systemContains('Subtask s1:'), [reply.text('s1 answer')], { name: 's1', repeatLast: true });
    const handle = await tandem.startPlanner('filtered-planner', { goal: 'Answer s1' });
    const result = await handle.result();
    expect(result.ok).toBe(true);
    const plans = tandem.model.requestsMatching(match.responseFormat('plan'));
    expect(plans[1].text).toMatch(/the plan was withheld by the provider's content filter/);
    expect(result.replans).toHaveLength(1);
    expect(JSON.stringify(result.replans[0])).toMatch(
      /the judge's verdict was withheld by the provider's content filter/,
    );
    expect(tandem.model.requestsMatching(match.systemContains('final report'))).toHaveLength(1);
    expect(result.report).toMatch(
      /^The provider's content filter withheld the model's report; this report is the subtasks' own results\.\n- s1 · Do s1 \(done\): s1 answer$/,
    );
    tandem.model.assertAllAnswered();
  });
});
