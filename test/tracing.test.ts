/**
 * OpenTelemetry traces, for real: a goal runs on the dev server with the scripted model, the worker exports to an
 * OTLP/HTTP receiver started here (test/helpers/otlp-receiver.ts), and the spans are checked one by one.
 */
import { executorProgressQuery, progressQuery } from '../common/contract';
import type { Subtask } from '../common/types';
import {
  type JsonReply,
  match,
  reply,
  type Matcher,
  type TextReply,
  type ToolCallsReply,
  type ScriptedModel,
  startScriptedModel,
  type Usage,
} from '../dev/scripted-model';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../node/config';
import { ConfigError } from '../node/errors';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './helpers/otlp-receiver';
import { resultOf } from './helpers/tandem';
import { startWorkerProcess, type WorkerProcess } from '../dev/worker-process';
import type { plannerWorkflow } from '../workflows/planner/planner';

const GOAL_TEXT = 'Add up the private numbers of Ms Example';

function subtask(id: string, dependsOn: string[] = []): Subtask {
  return { id, title: `Do ${id}`, instructions: `Instructions of ${id}.`, milestone: `${id} is answered`, dependsOn };
}

const executorOf = (id: string): Matcher => match.systemContains(`Subtask ${id}:`);
const usage = (prompt: number, completion: number): Partial<Usage> => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
});
const withUsage = <R extends TextReply | ToolCallsReply | JsonReply>(r: R, prompt: number, completion: number): R => ({
  ...r,
  usage: usage(prompt, completion),
});

/** Tokens each call's scripted reply reports: every chat span must carry exactly these. */
const TOKENS = {
  plan: [101, 11],
  s1Tool: [201, 21],
  s1Answer: [202, 22],
  s2Answer: [301, 31],
  judge: [401, 41],
  report: [501, 51],
} as const;

/** The workers' model and its price (USD per million tokens): round numbers, so each span's cost is known. */
const MODEL = 'traced-model';
const PRICE = { inputPerMillion: 2, outputPerMillion: 8 };
const usdOf = ([input, output]: readonly number[]) =>
  (input * PRICE.inputPerMillion + output * PRICE.outputPerMillion) / 1e6;

/** A two-subtask goal: s1 calls the calculator and answers, s2 (after s1) answers at once; the judge accepts. */
function scriptGoal(model: ScriptedModel, opts: { s1FirstReplyDelayMs?: number } = {}): void {
  const toolCall = withUsage(
    reply.toolCalls([{ name: 'calculator', arguments: { expression: '6*7' }, id: 'call_calc_1' }]),
    ...TOKENS.s1Tool,
  );
  model
    .on(
      match.responseFormat('plan'),
      withUsage(reply.json({ subtasks: [subtask('s1'), subtask('s2', ['s1'])] }), ...TOKENS.plan),
      { name: 'planner' },
    )
    .on(match.responseFormat('verdict'), withUsage(reply.json({ met: true, reason: 'met' }), ...TOKENS.judge), {
      name: 'judge',
      repeatLast: true,
    })
    .on(
      match.and(executorOf('s1'), match.lastRole('user')),
      opts.s1FirstReplyDelayMs ? reply.slow(opts.s1FirstReplyDelayMs, toolCall) : toolCall,
      { name: 's1 step 1', repeatLast: true },
    )
    .on(match.and(executorOf('s1'), match.lastRole('tool')), withUsage(reply.text('forty-two'), ...TOKENS.s1Answer), {
      name: 's1 step 2',
      repeatLast: true,
    })
    .on(executorOf('s2'), withUsage(reply.text('done too'), ...TOKENS.s2Answer), { name: 's2', repeatLast: true })
    .on(match.systemContains('final report'), withUsage(reply.text('Report.'), ...TOKENS.report), {
      name: 'report',
      repeatLast: true,
    });
}

/** The one span named `name` (with `attributes`, when given); fails listing the names when there is not exactly one. */
function theSpan(spans: ReceivedSpan[], name: string, attributes: Record<string, unknown> = {}): ReceivedSpan {
  const found = spans.filter(
    (span) => span.name === name && Object.entries(attributes).every(([key, value]) => span.attributes[key] === value),
  );
  if (found.length !== 1) {
    throw new Error(
      `expected one span "${name}" ${JSON.stringify(attributes)}, got ${found.length} of ${spans.map((s) => s.name).join(', ')}`,
    );
  }
  return found[0];
}

const CONTENT_KEYS = [
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.tool.call.arguments',
  'gen_ai.tool.call.result',
];

/** The model, a client and `tandem worker` processes exporting to `receiver` with the `OTEL_*` variables given. */
interface TracedRun {
  model: ScriptedModel;
  client: Client;
  taskQueue: string;
  /** Starts a worker process; its environment is the run's plus `otel`. */
  startWorker(): Promise<WorkerProcess>;
  /** Stops a worker as an operator does (SIGTERM): in-flight calls finish in the grace time, the exporter flushes. */
  stopWorker(worker: WorkerProcess): Promise<void>;
  startGoal(label: string): Promise<WorkflowHandle<typeof plannerWorkflow>>;
  close(): Promise<void>;
}

async function tracedRun(otel: Record<string, string>): Promise<TracedRun> {
  const model = await startScriptedModel();
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  const taskQueue = `traced-${randomUUID().slice(0, 8)}`;
  const pricesDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-traced-'));
  const pricesFile = path.join(pricesDir, 'prices.json');
  await fs.writeFile(pricesFile, JSON.stringify({ models: { [MODEL]: PRICE } }));
  const env = {
    TANDEM_TASK_QUEUE: taskQueue,
    OPENAI_BASE_URL: model.baseURL,
    OPENAI_API_KEY: 'sk-traced',
    TANDEM_MODEL: MODEL,
    TANDEM_PRICES_FILE: pricesFile,
    ...otel,
  };
  const running = new Set<WorkerProcess>();
  return {
    model,
    client,
    taskQueue,
    async startWorker() {
      const worker = await startWorkerProcess(env);
      running.add(worker);
      return worker;
    },
    async stopWorker(worker) {
      await worker.kill('SIGTERM');
      running.delete(worker);
    },
    startGoal: (label) =>
      client.workflow.start<typeof plannerWorkflow>('plannerWorkflow', {
        workflowId: `${label}-${randomUUID().slice(0, 6)}`,
        taskQueue,
        args: [{ goal: GOAL_TEXT }],
      }),
    async close() {
      for (const worker of running) await worker.kill('SIGKILL');
      await connection.close();
      await model.close();
      await fs.rm(pricesDir, { recursive: true, force: true });
    },
  };
}

describe('OpenTelemetry traces', () => {
  let receiver: OtlpReceiver;
  let run: TracedRun | undefined;
  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    await run?.close();
    run = undefined;
    await receiver.close();
  });

  it('exports one trace per goal, a span per plan version, subtask, model and tool call, none twice after restarts', async () => {
    run = await tracedRun({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.tracesURL,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_SERVICE_NAME: 'tandem-test',
    });
    scriptGoal(run.model, { s1FirstReplyDelayMs: 3_000 });
    const first = await run.startWorker();
    const handle = await run.startGoal('traced');
    const goalId = handle.workflowId;
    // Restarted mid-goal, while s1's first model call is in flight: the next worker replays both histories so far.
    await run.model.waitForRequests(1, { match: executorOf('s1'), timeoutMs: 60_000 });
    await run.stopWorker(first);
    const second = await run.startWorker();
    expect((await resultOf(handle)).ok).toBe(true);
    await run.stopWorker(second);
    // A fresh worker answers queries of the closed runs by replaying their whole histories, ends included: that must
    // export nothing (sdk-typescript #2023 was a replay bug of tracing).
    const third = await run.startWorker();
    await handle.query(progressQuery);
    for (const id of ['s1', 's2'])
      await run.client.workflow.getHandle(`${goalId}.v1.${id}`).query(executorProgressQuery);
    await run.stopWorker(third);

    expect(receiver.refused).toEqual([]);
    const spans = receiver.spans;
    expect(spans.every((span) => span.contentType === 'application/x-protobuf')).toBe(true);
    expect(new Set(spans.map((span) => span.spanId)).size).toBe(spans.length);
    expect(new Set(spans.map((span) => span.traceId)).size).toBe(1);
    expect(spans.every((span) => span.resource['service.name'] === 'tandem-test')).toBe(true);
    const goal = theSpan(spans, 'invoke_agent planner');
    expect(goal.parentSpanId).toBeUndefined();
    expect(goal.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'temporal.workflow_id': goalId,
      'tandem.ending': 'completed',
    });
    const plan = theSpan(spans, 'plan v1');
    expect(plan.parentSpanId).toBe(goal.spanId);
    expect(plan.attributes['tandem.plan.subtasks']).toBe(2);
    const subtaskSpan = (id: string) => theSpan(spans, 'invoke_agent executor', { 'tandem.subtask.id': id });
    for (const id of ['s1', 's2']) {
      expect(subtaskSpan(id).parentSpanId).toBe(plan.spanId);
      expect(subtaskSpan(id).attributes['temporal.workflow_id']).toBe(`${goalId}.v1.${id}`);
    }
    expect(spans.filter((span) => span.name.startsWith('invoke_agent') || span.name.startsWith('plan '))).toHaveLength(
      4,
    );

    // A chat span per model request, none twice; tokens as the scripted replies reported them.
    const chats = spans.filter((span) => span.attributes['gen_ai.operation.name'] === 'chat');
    expect(chats).toHaveLength(run.model.requests.length);
    const model = run.model.requests[0].body.model as string;
    for (const chat of chats) {
      expect(chat.name).toBe(`chat ${model}`);
      expect(chat.kind).toBe(3);
      expect(chat.attributes['gen_ai.request.model']).toBe(model);
      expect(chat.attributes['gen_ai.response.model']).toBe(model);
      expect(chat.attributes['temporal.activity.attempt']).toBe(1);
      expect(chat.startNs).toBeLessThanOrEqual(chat.endNs);
    }
    const tokensOf = (span: ReceivedSpan) => [
      span.attributes['gen_ai.usage.input_tokens'],
      span.attributes['gen_ai.usage.output_tokens'],
    ];
    const planner = (purpose: string) => chats.filter((chat) => chat.attributes['tandem.purpose'] === purpose);
    expect(planner('plan').map(tokensOf)).toEqual([TOKENS.plan]);
    expect(planner('judge').map(tokensOf)).toEqual([TOKENS.judge, TOKENS.judge]);
    expect(planner('report').map(tokensOf)).toEqual([TOKENS.report]);
    for (const chat of [...planner('plan'), ...planner('judge'), ...planner('report')]) {
      expect(chat.parentSpanId).toBe(goal.spanId);
    }
    const steps = (id: string) =>
      planner('step').filter(
        (chat) => chat.parentSpanId === subtaskSpan(id).spanId && chat.attributes['tandem.subtask.id'] === id,
      );
    expect(steps('s1').map(tokensOf)).toEqual(expect.arrayContaining([[...TOKENS.s1Tool], [...TOKENS.s1Answer]]));
    expect(steps('s1')).toHaveLength(2);
    expect(steps('s2').map(tokensOf)).toEqual([TOKENS.s2Answer]);
    expect(planner('step')).toHaveLength(3);

    // Each call's cost by the worker's price table; a subtask's is its steps', the goal's every call's.
    for (const chat of chats)
      expect(chat.attributes['tandem.cost.usd']).toBeCloseTo(usdOf(tokensOf(chat) as number[]), 12);
    const sumOf = (calls: ReceivedSpan[]) =>
      calls.reduce((sum, chat) => sum + (chat.attributes['tandem.cost.usd'] as number), 0);
    expect(goal.attributes['tandem.cost.usd']).toBeCloseTo(sumOf(chats), 12);
    expect(sumOf(chats)).toBeGreaterThan(0);
    for (const id of ['s1', 's2']) {
      expect(subtaskSpan(id).attributes['tandem.cost.usd']).toBeCloseTo(sumOf(steps(id)), 12);
    }

    const tool = theSpan(spans, 'execute_tool calculator');
    expect(tool.parentSpanId).toBe(subtaskSpan('s1').spanId);
    expect(tool.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'calculator',
      'gen_ai.tool.call.id': 'call_calc_1',
      'tandem.tool.ok': true,
      'temporal.workflow_id': `${goalId}.v1.s1`,
    });
    expect(spans).toHaveLength(4 + chats.length + 1);

    // Prompts and outputs stay out unless asked for.
    for (const span of spans) for (const key of CONTENT_KEYS) expect(span.attributes).not.toHaveProperty(key);
    expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain(GOAL_TEXT);
    expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain('forty-two');
    // Every model call ran once: the one in flight at the restart finished within the worker's grace time.
    expect(
      new Set(
        chats.map((chat) => `${chat.attributes['temporal.workflow_id']} ${chat.attributes['temporal.activity_id']}`),
      ).size,
    ).toBe(chats.length);
  }, 180_000);

  it('sends http/json to OTEL_EXPORTER_OTLP_ENDPOINT and captures content when the setting says so', async () => {
    run = await tracedRun({
      OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.baseURL}/`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'tandem-json',
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
    });
    scriptGoal(run.model);
    const worker = await run.startWorker();
    expect((await resultOf(await run.startGoal('captured'))).ok).toBe(true);
    await run.stopWorker(worker);
    expect(receiver.refused).toEqual([]);
    const spans = receiver.spans;
    expect(spans.length).toBeGreaterThan(0);
    expect(spans.every((span) => span.contentType.startsWith('application/json'))).toBe(true);
    expect(spans[0].resource['service.name']).toBe('tandem-json');
    const planCall = spans.find((span) => span.attributes['tandem.purpose'] === 'plan')!;
    expect(planCall.attributes['gen_ai.input.messages']).toContain(GOAL_TEXT);
    const answer = spans.find(
      (span) =>
        span.attributes['tandem.purpose'] === 'step' &&
        span.attributes['gen_ai.usage.input_tokens'] === TOKENS.s1Answer[0],
    )!;
    const output = JSON.parse(answer.attributes['gen_ai.output.messages'] as string) as unknown;
    expect(output).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'forty-two' }], finish_reason: 'stop' },
    ]);
    const tool = theSpan(spans, 'execute_tool calculator');
    expect(JSON.parse(tool.attributes['gen_ai.tool.call.arguments'] as string)).toEqual({ expression: '6*7' });
    expect(tool.attributes['gen_ai.tool.call.result']).toContain('42');
  }, 120_000);
});

describe('tracing configuration', () => {
  it('is off without an endpoint, and takes the traces endpoint over the base one', () => {
    expect(loadConfig({}).tracing).toEqual({
      tracesURL: undefined,
      protocol: 'http/protobuf',
      serviceName: 'tandem-worker',
      captureContent: false,
    });
    // A machine-wide grpc setting for other services does not stop a worker that exports nothing.
    expect(loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).tracing.tracesURL).toBeUndefined();
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/otlp/v1/traces',
        TANDEM_OTEL_CAPTURE_CONTENT: 'yes',
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'false',
      }).tracing,
    ).toMatchObject({ tracesURL: 'http://tempo:4318/otlp/v1/traces', captureContent: true });
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing.tracesURL,
    ).toBeUndefined();
  });

  it('refuses grpc when tracing is on, naming the variable and what to set', () => {
    const load = () =>
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpc" is not one of http\/protobuf, http\/json/);
  });
});
