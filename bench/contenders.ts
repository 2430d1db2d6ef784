/**
 * The five ways of running the same ReAct loop, each against the same scripted model on the same dev server: the floor
 * (and the two variants below it), tandem's executor, the AI SDK on Temporal, LangGraph with SQLite, and in-process.
 * Each returns what it cost per step; step latencies come from the shared {@link StepClock}.
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { AiSdkPlugin } from '@temporalio/ai-sdk';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  type NativeConnection,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import * as path from 'node:path';
import { createActivities } from '../activities';
import type { RunToolInput, ToolObservation } from '../activities/run-tool';
import type { ToolName } from '../common/tools';
import type { CallModelOutput, ChatMessage, ExecutorInput } from '../common/types';
import * as floorActivities from './floor/activities';
import type { FloorInput } from './floor/workflows';
import { runLangGraph } from './langgraph';
import { loopGoal, loopInstructions } from './loop-script';
import { childIds, historyFigures, type HistoryFigures, marginal } from './stats';
import { startGoal } from '../client/goals';

/** What a contender's history (or checkpoint store) grows by per step. */
export interface StepCost {
  eventsPerStep?: number;
  bytesPerStep: number;
  /** LangGraph only: checkpoints written per step. */
  checkpointsPerStep?: number;
}

/** Runs `fn` while a worker polls `taskQueue`; shuts it down afterwards. */
async function withWorker<T>(options: WorkerOptions, fn: () => Promise<T>): Promise<T> {
  const worker = await Worker.create(options);
  const running = worker.run();
  try {
    return await fn();
  } finally {
    worker.shutdown();
    await running;
  }
}

/** The floor's workflows, bundled apart from tandem's. */
export async function floorBundle(): Promise<{ code: string }> {
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./floor/workflows'),
    logger: new DefaultLogger('WARN'),
  });
  return { code: bundle.code };
}

/** A short and a long run of one Temporal contender: the per-step history growth between them. */
async function perStepHistory(
  client: Client,
  run: (steps: number, id: string) => Promise<string>,
  steps: number,
  tag: string,
): Promise<StepCost> {
  const shortSteps = 10;
  const short = await historyFigures(client, await run(shortSteps, `${tag}-short`));
  const long = await historyFigures(client, await run(steps, tag));
  const { events, bytes } = marginal(short, long, steps - shortSteps);
  return { eventsPerStep: events, bytesPerStep: bytes };
}

/** The floor, or a variant below it, on its own task queue. */
export async function runFloor(
  client: Client,
  connection: NativeConnection,
  bundle: { code: string },
  opts: { baseURL: string; steps: number; tag: string; mode: FloorInput['mode']; worker?: Partial<WorkerOptions> },
): Promise<StepCost> {
  const taskQueue = `bench-floor-${opts.tag}`;
  return withWorker(
    { connection, taskQueue, workflowBundle: bundle, activities: floorActivities, ...opts.worker },
    () =>
      perStepHistory(
        client,
        async (steps, tag) => {
          const workflowId = `bench-${tag}-${Date.now()}`;
          const input: FloorInput = {
            baseURL: opts.baseURL,
            instructions: loopInstructions(steps, tag),
            maxSteps: steps + 1,
            mode: opts.mode,
          };
          await client.workflow.execute('floorLoopWorkflow', { workflowId, taskQueue, args: [input] });
          return workflowId;
        },
        opts.steps,
        opts.tag,
      ),
  );
}

/** The AI SDK's `generateText` loop through `@temporalio/ai-sdk`, its plugin registering the model activity. */
export async function runAiSdk(
  client: Client,
  connection: NativeConnection,
  opts: { baseURL: string; steps: number; tag: string },
): Promise<StepCost> {
  const taskQueue = 'bench-ai-sdk';
  const provider = createOpenAICompatible({ name: 'scripted', baseURL: opts.baseURL, apiKey: 'bench' });
  return withWorker(
    {
      connection,
      taskQueue,
      workflowsPath: require.resolve('./ai-sdk/workflows'),
      activities: floorActivities,
      plugins: [new AiSdkPlugin({ modelProvider: provider })],
    },
    () =>
      perStepHistory(
        client,
        async (steps, tag) => {
          const workflowId = `bench-${tag}-${Date.now()}`;
          const input = { instructions: loopInstructions(steps, tag), maxSteps: steps + 1 };
          await client.workflow.execute('aiSdkLoopWorkflow', { workflowId, taskQueue, args: [input] });
          return workflowId;
        },
        opts.steps,
        opts.tag,
      ),
  );
}

/** LangGraph's prebuilt ReAct agent with the SQLite checkpointer, in this process. */
export async function runLangGraphContender(opts: {
  baseURL: string;
  steps: number;
  tag: string;
  stateDir: string;
}): Promise<StepCost> {
  const run = (steps: number, tag: string) =>
    runLangGraph({
      baseURL: opts.baseURL,
      dbFile: path.join(opts.stateDir, `langgraph-${tag}.db`),
      threadId: tag,
      instructions: loopInstructions(steps, tag),
      maxSteps: steps + 1,
    });
  const short = await run(10, `${opts.tag}-short`);
  const long = await run(opts.steps, opts.tag);
  const extra = opts.steps - 10;
  return {
    bytesPerStep: (long.checkpointBytes - short.checkpointBytes) / extra,
    checkpointsPerStep: (long.checkpoints - short.checkpoints) / extra,
  };
}

function executorInput(steps: number, tag: string): ExecutorInput {
  return {
    subtask: {
      id: 'bench',
      title: 'Benchmark loop',
      instructions: loopInstructions(steps, tag),
      milestone: 'done',
      dependsOn: [],
    },
    workspace: 'bench',
    tools: ['calculator'],
    budget: { maxSteps: steps + 1 },
  };
}

/** tandem's executor started on its own, without a planner (no progress signal to a parent). */
export async function runStandaloneExecutor(
  client: Client,
  opts: { taskQueue: string; steps: number; tag: string },
): Promise<StepCost> {
  return perStepHistory(
    client,
    async (steps, tag) => {
      const workflowId = `bench-${tag}-${Date.now()}`;
      await client.workflow.execute('executorWorkflow', {
        workflowId,
        taskQueue: opts.taskQueue,
        args: [executorInput(steps, tag)],
      });
      return workflowId;
    },
    opts.steps,
    opts.tag,
  );
}

/** tandem's executor as it runs for a user: a child of a planner whose plan is one calculator subtask. */
export interface InGoalCost {
  executor: StepCost;
  /** Planner history events added per executor step. */
  plannerEventsPerExecutorStep: number;
  plannerBytesPerExecutorStep: number;
}

export async function runExecutorInGoal(
  client: Client,
  opts: { taskQueue: string; steps: number; tag: string },
): Promise<InGoalCost> {
  const run = async (steps: number, tag: string): Promise<{ planner: HistoryFigures; executor: HistoryFigures }> => {
    const handle = await startGoal(client, {
      goal: loopGoal(steps, tag),
      id: `bench-${tag}-${Date.now()}`,
      taskQueue: opts.taskQueue,
      maxStepsPerSubtask: steps + 1,
    });
    const result = await handle.result();
    if (!result.ok) throw new Error(`benchmark goal ${handle.workflowId} did not succeed: ${JSON.stringify(result)}`);
    const [child] = await childIds(client, handle.workflowId);
    return { planner: await historyFigures(client, handle.workflowId), executor: await historyFigures(client, child) };
  };
  const short = await run(10, `${opts.tag}-short`);
  const long = await run(opts.steps, opts.tag);
  const extra = opts.steps - 10;
  const executor = marginal(short.executor, long.executor, extra);
  const planner = marginal(short.planner, long.planner, extra);
  return {
    executor: { eventsPerStep: executor.events, bytesPerStep: executor.bytes },
    plannerEventsPerExecutorStep: planner.events,
    plannerBytesPerExecutorStep: planner.bytes,
  };
}

/** The same loop as tandem's executor, its activities called directly in this process: no Temporal in between. */
export async function runInProcess(opts: { steps: number; tag: string }): Promise<void> {
  // Built here, after the bench has pointed the environment at its scripted model and state folder.
  const activities = createActivities();
  let transcript: string | null = null;
  let append: ChatMessage[] = [
    { role: 'system', content: 'Subtask bench' },
    { role: 'user', content: loopInstructions(opts.steps, opts.tag) },
  ];
  for (let step = 1; step <= opts.steps; step++) {
    // A fresh environment per call, as each Temporal activity attempt gets its own context and abort signal.
    const reply: CallModelOutput = await new MockActivityEnvironment().run(activities.callModel, {
      purpose: 'step' as const,
      transcript,
      append,
      tools: ['calculator'] as ToolName[],
    });
    transcript = reply.transcript;
    if (reply.toolCalls.length === 0) return;
    const outcomes: ToolObservation[] = await Promise.all(
      reply.toolCalls.map((call) =>
        new MockActivityEnvironment().run<[RunToolInput], ToolObservation, typeof activities.runTool>(
          activities.runTool,
          { workspace: 'bench', call: { ...call, name: 'calculator' }, callKey: `inprocess/${step}/${call.id}` },
        ),
      ),
    );
    append = reply.toolCalls.map((call, index) => ({
      role: 'tool' as const,
      toolCallId: call.id,
      content: outcomes[index].output,
    }));
  }
}
