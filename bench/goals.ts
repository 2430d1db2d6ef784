/**
 * Whole goals on one worker: the demo goal (plan → two executors → judge → report) at rising concurrency, and the
 * outer loop's cost in model tokens for the demo goal and for a 20-step subtask.
 */
import type { Client } from '@temporalio/client';
import { startGoal } from '../client/goals';
import { progressQuery } from '../common/contract';
import type { RecordedRequest, ScriptedModel } from '../dev/scripted-model';
import { childIds, percentile, type RssSampler } from './stats';

/** One concurrency level's figures. */
export interface LevelFigures {
  goals: number;
  goalsPerMinute: number;
  stepP50Ms: number;
  stepP95Ms: number;
  peakRssMiB: number;
  failures: number;
  /** Goals whose executors' histories gave the step latencies (all, up to 100). */
  sampledGoals: number;
  seconds: number;
}

/** Milliseconds between consecutive `callModel` activities being scheduled in one executor's history. */
async function executorStepDurations(client: Client, workflowId: string): Promise<number[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = (history.events ?? [])
    .filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel')
    .map((event) => Number(event.eventTime!.seconds) * 1000 + event.eventTime!.nanos! / 1e6);
  return scheduled.slice(1).map((time, index) => time - scheduled[index]);
}

/** Runs `count` demo goals at once and waits for all; nothing may fail. */
export async function runLevel(
  client: Client,
  opts: { taskQueue: string; count: number; rss: RssSampler },
): Promise<LevelFigures> {
  opts.rss.takePeakMiB();
  const stamp = Date.now();
  const started = performance.now();
  const outcomes = await Promise.allSettled(
    Array.from({ length: opts.count }, async (_, index) => {
      const handle = await startGoal(client, {
        goal: 'Compute and save',
        id: `bench-level-${opts.count}-${index}-${stamp}`,
        taskQueue: opts.taskQueue,
      });
      const result = await handle.result();
      if (!result.ok) throw new Error(`goal ${handle.workflowId} ended without an ok result`);
      return handle.workflowId;
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const peakRssMiB = opts.rss.takePeakMiB();
  const done = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') console.error(`  failure: ${String(outcome.reason).split('\n')[0]}`);
  }
  // Step latency under load, from the executors' histories (a sample: fetching 2,000 histories would itself load the
  // server the figures are about).
  const sampled = done.slice(0, 100);
  const steps: number[] = [];
  for (const goalId of sampled) {
    for (const child of await childIds(client, goalId)) steps.push(...(await executorStepDurations(client, child)));
  }
  return {
    goals: opts.count,
    goalsPerMinute: done.length / (seconds / 60),
    stepP50Ms: percentile(steps, 50),
    stepP95Ms: percentile(steps, 95),
    peakRssMiB,
    failures: opts.count - done.length,
    sampledGoals: sampled.length,
    seconds,
  };
}

/** Model tokens of one goal by what they were spent on. */
export interface OuterLoopCost {
  goal: string;
  executorSteps: number;
  promptTokensPerStep: number;
  /** Prompt tokens by purpose (plan, step, judge, report), and each purpose's share of the goal's total. */
  tokens: Record<string, { calls: number; tokens: number; share: number }>;
  /** Bytes of the chat-completions request body per executor step: what goes over the wire to the model. */
  requestBytesPerStep: number;
  /** The same, for the last executor step (the longest transcript). */
  lastStepRequestBytes: number;
}

/** Tokens as the scripted model estimates them (4 characters a token), for messages and offered tools alike. */
function promptTokens(request: RecordedRequest): number {
  return Math.ceil(
    (JSON.stringify(request.body.messages).length + JSON.stringify(request.body.tools ?? []).length) / 4,
  );
}

/** Runs one goal alone and sorts the model requests it made by purpose. */
export async function outerLoopCost(
  client: Client,
  model: ScriptedModel,
  opts: { taskQueue: string; goal: string; label: string; maxStepsPerSubtask?: number },
): Promise<{ cost: OuterLoopCost; goalId: string }> {
  const from = model.requests.length;
  const handle = await startGoal(client, {
    goal: opts.goal,
    id: `bench-cost-${opts.label}-${Date.now()}`,
    taskQueue: opts.taskQueue,
    ...(opts.maxStepsPerSubtask ? { maxStepsPerSubtask: opts.maxStepsPerSubtask } : {}),
  });
  const result = await handle.result();
  if (!result.ok) throw new Error(`goal ${handle.workflowId} ended without an ok result`);
  const requests = model.requests.slice(from);
  const byPurpose: OuterLoopCost['tokens'] = {};
  let total = 0;
  for (const request of requests) {
    const purpose = request.purpose ?? 'unknown';
    const tokens = promptTokens(request);
    byPurpose[purpose] ??= { calls: 0, tokens: 0, share: 0 };
    byPurpose[purpose].calls += 1;
    byPurpose[purpose].tokens += tokens;
    total += tokens;
  }
  for (const entry of Object.values(byPurpose)) entry.share = entry.tokens / total;
  const steps = requests.filter((request) => request.purpose === 'step');
  const bodyBytes = steps.map((request) => Buffer.byteLength(JSON.stringify(request.body)));
  return {
    goalId: handle.workflowId,
    cost: {
      goal: opts.label,
      executorSteps: steps.length,
      promptTokensPerStep: steps.reduce((sum, request) => sum + promptTokens(request), 0) / steps.length,
      tokens: byPurpose,
      requestBytesPerStep: bodyBytes.reduce((a, b) => a + b, 0) / bodyBytes.length,
      lastStepRequestBytes: bodyBytes.at(-1) ?? 0,
    },
  };
}

/**
 * Starts the demo goal with its `write_file` call held for approval, and resolves once it is held: a goal that stays
 * running, with a subtask in flight, for as long as the CLI timings take. The caller terminates it.
 */
export async function heldGoal(client: Client, taskQueue: string): Promise<string> {
  const handle = await startGoal(client, {
    goal: 'Compute and save',
    id: `bench-held-${Date.now()}`,
    taskQueue,
    approveTools: ['write_file'],
  });
  for (;;) {
    const progress = await handle.query(progressQuery);
    if ((progress.pendingApprovals ?? []).length > 0) return handle.workflowId;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
