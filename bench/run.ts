/**
 * `npm run bench`: what Temporal's durability costs tandem, measured in one run on the local dev server with the
 * scripted model answering instantly. Prints figures; asserts nothing (speed goals live here, not in timed tests).
 *
 *   1. orchestration overhead per ReAct step (LLM activity + tool activity + workflow tasks), p50 and p95;
 *   2. the same loop in-process without Temporal, and the ratio of the two;
 *   3. goals completed per minute with 1, 10 and 100 concurrent goals on one worker, and the worker's peak RSS;
 *   4. history bytes per step of an executor after 10, 50 and 200 steps (flat = linear growth).
 */
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createActivities } from '../activities';
import { scriptDemo } from '../dev/demo-model';
import { freePort, startDevServer } from '../dev/dev-server';
import { startGoal } from '../client/goals';
import { match, reply, startScriptedModel, type ScriptedModel } from '../dev/scripted-model';
import { createTandemWorker, installLogger, WORKFLOWS_PATH } from '../worker/worker';
import type { RunToolInput, ToolObservation } from '../activities/run-tool';
import type { CallModelOutput, ChatMessage, ExecutorInput } from '../common/types';
import type { ToolName } from '../common/tools';

const TASK_QUEUE = 'bench';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Every executor request gets a calculator call until the conversation has `steps` model turns, then an answer. */
function scriptCalculatorLoop(model: ScriptedModel): void {
  model.on(
    match.hasTools(),
    (req) => {
      const stepsSoFar = req.messages.filter((message) => message.role === 'assistant').length + 1;
      const wanted = Number(/run (\d+) steps/.exec(req.text)?.[1] ?? 1);
      return stepsSoFar < wanted
        ? reply.toolCall('calculator', { expression: `${stepsSoFar} + 1` })
        : reply.text('done');
    },
    { repeatLast: true },
  );
}

function executorInput(steps: number): ExecutorInput {
  return {
    subtask: {
      id: 'bench',
      title: 'Benchmark loop',
      instructions: `Call the calculator, run ${steps} steps.`,
      milestone: 'done',
      dependsOn: [],
    },
    workspace: 'bench',
    tools: ['calculator'],
    budget: { maxSteps: steps + 1 },
  };
}

/** Step durations of one executor run, from its history: time between consecutive LLM activities being scheduled. */
async function stepDurations(client: Client, workflowId: string): Promise<number[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = (history.events ?? [])
    .filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel')
    .map((event) => Number(event.eventTime!.seconds) * 1000 + event.eventTime!.nanos! / 1e6);
  return scheduled.slice(1).map((time, index) => time - scheduled[index]);
}

/** The same five phases, run in this process: the activities called directly, no Temporal in between. */
async function inProcessStepDurations(steps: number): Promise<number[]> {
  const durations: number[] = [];
  const activities = createActivities();
  const input = executorInput(steps);
  let transcript: string | null = null;
  let append: ChatMessage[] = [
    { role: 'system', content: 'Subtask bench' },
    { role: 'user', content: input.subtask.instructions },
  ];
  for (let step = 1; step <= steps; step++) {
    const started = performance.now();
    // A fresh environment per call, as each Temporal activity attempt gets its own context and abort signal.
    const reply: CallModelOutput = await new MockActivityEnvironment().run(activities.callModel, {
      purpose: 'step' as const,
      transcript,
      append,
      tools: ['calculator'] as ToolName[],
    });
    transcript = reply.transcript;
    if (reply.toolCalls.length === 0) break;
    const outcomes: ToolObservation[] = await Promise.all(
      reply.toolCalls.map((call) =>
        new MockActivityEnvironment().run<[RunToolInput], ToolObservation, typeof activities.runTool>(
          activities.runTool,
          {
            workspace: 'bench',
            call: { ...call, name: 'calculator' },
            callKey: `inprocess/${step}/${call.id}`,
          },
        ),
      ),
    );
    append = reply.toolCalls.map((call, index) => ({
      role: 'tool' as const,
      toolCallId: call.id,
      content: outcomes[index].output,
    }));
    durations.push(performance.now() - started);
  }
  return durations;
}

async function goalsPerMinute(client: Client, concurrent: number): Promise<{ perMinute: number; failures: number }> {
  const started = performance.now();
  const outcomes = await Promise.allSettled(
    Array.from({ length: concurrent }, async (_, index) => {
      const handle = await startGoal(client, {
        goal: 'Compute and save',
        id: `bench-goal-${concurrent}-${index}-${Date.now()}`,
        taskQueue: TASK_QUEUE,
      });
      const result = await handle.result();
      if (!result.ok) throw new Error('goal not ok');
    }),
  );
  const minutes = (performance.now() - started) / 60_000;
  const failures = outcomes.filter((outcome) => outcome.status === 'rejected').length;
  return { perMinute: (concurrent - failures) / minutes, failures };
}

async function main(): Promise<void> {
  installLogger('ERROR');
  const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-bench-'));
  process.env.TANDEM_STATE_DIR = stateDir;
  const server = await startDevServer({
    port: await freePort(),
    uiPort: await freePort(),
    dbFile: path.join(stateDir, 'temporal.db'),
    headless: true,
  });
  const model = await startScriptedModel();
  process.env.OPENAI_BASE_URL = model.baseURL;
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.TANDEM_TASK_QUEUE = TASK_QUEUE;
  scriptCalculatorLoop(model);
  scriptDemo(model);

  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: undefined });
  const { worker, connection: workerConnection } = await createTandemWorker({
    workflowBundle: { code: bundle.code },
    options: { maxConcurrentWorkflowTaskExecutions: 100, maxConcurrentActivityTaskExecutions: 200 },
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const print = (line: string) => console.log(line);

  try {
    print(`tandem benchmark · ${os.cpus().length} cores · node ${process.version} · ${new Date().toISOString()}`);

    // 1 and 2: one long executor run on Temporal, and the same loop in-process, in the same run.
    const steps = 100;
    const overheadId = `bench-overhead-${Date.now()}`;
    await client.workflow.execute('executorWorkflow', {
      workflowId: overheadId,
      taskQueue: TASK_QUEUE,
      args: [executorInput(steps)],
    });
    const temporal = await stepDurations(client, overheadId);
    const inProcess = await inProcessStepDurations(steps);
    const ratio = percentile(temporal, 50) / percentile(inProcess, 50);
    print('\nper ReAct step (LLM activity + tool activity + workflow tasks), instant model:');
    print(
      `  on Temporal:   p50 ${percentile(temporal, 50).toFixed(1)} ms   p95 ${percentile(temporal, 95).toFixed(1)} ms`,
    );
    print(
      `  in-process:    p50 ${percentile(inProcess, 50).toFixed(1)} ms   p95 ${percentile(inProcess, 95).toFixed(1)} ms`,
    );
    print(`  ratio (p50):   ${ratio.toFixed(1)}x`);

    // 3: whole goals (plan, two children, report) at rising concurrency on one worker.
    print('\ngoals (plan → 2 executors → report) on one worker:');
    for (const concurrent of [1, 10, 100]) {
      const { perMinute, failures } = await goalsPerMinute(client, concurrent);
      print(
        `  ${String(concurrent).padStart(3)} concurrent: ${perMinute.toFixed(0).padStart(5)} goals/min   failures ${failures}`,
      );
    }
    print(`  worker peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MiB (bench process: worker + scripted model + client)`);

    // 4: history bytes per step.
    print('\nexecutor history size:');
    for (const n of [10, 50, 200]) {
      const id = `bench-history-${n}-${Date.now()}`;
      await client.workflow.execute('executorWorkflow', {
        workflowId: id,
        taskQueue: TASK_QUEUE,
        args: [executorInput(n)],
      });
      const description = await client.workflow.getHandle(id).describe();
      const bytes = Number(description.historySize);
      print(
        `  ${String(n).padStart(3)} steps: ${String(bytes).padStart(8)} bytes   ${(bytes / n).toFixed(0)} bytes/step`,
      );
    }
  } finally {
    clearInterval(sampler);
    worker.shutdown();
    await running;
    await workerConnection.close();
    await connection.close();
    await model.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
