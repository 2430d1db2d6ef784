/**
 * One tandem per test: a real worker (in this process, on the shared dev server, on its own task queue) whose
 * activities talk to a scripted model server through the real openai client, and a client to drive it.
 */
import {
  Client,
  Connection,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { temporalSettings } from '../../node/connection';
import type { ExecutorInput, ExecutorResult, ExecutorStopped, GoalInput, GoalResult } from '../../common/types';
import type { plannerWorkflow } from '../../workflows/planner/planner';
import type { executorWorkflow } from '../../workflows/executor/executor';
import { createTandemWorker, installLogger } from '../../worker/worker';
import { startScriptedModel, type ScriptedModel, type ScriptedModelOptions } from '../../dev/scripted-model';
import { contentStore, type ContentStore } from '../../activities/content-store';
import { workspaceDir } from '../../activities/run-tool';
import { loadConfig, type TandemConfig } from '../../node/config';
import { runResult } from '../../client/goals';

/**
 * A run's result however it closed: completed (ok), Failed with `GoalNotOk`/`SubtaskNotOk`, or Canceled (the memo), as
 * `tandem result` reads it (common/endings.ts). A run that closed without a result of tandem's rejects with its failure.
 */
export async function resultOf<H extends WorkflowHandle>(handle: H): Promise<Awaited<ReturnType<H['result']>>> {
  const ended = await runResult<Awaited<ReturnType<H['result']>>>(handle);
  if ('error' in ended) throw ended.error;
  return ended.result;
}

/** The result of a run that stopped without an answer; fails the test, showing the answer, when the run answered. */
export function stopped(result: ExecutorResult | undefined): ExecutorStopped {
  if (!result) throw new Error('expected a stopped executor result, got none');
  if (result.ok) throw new Error(`expected a stopped executor result, got the answer ${JSON.stringify(result.answer)}`);
  return result;
}

/** A goal result that is not ok, with its reason; fails the test when the goal completed. */
export function notOk(result: GoalResult): Exclude<GoalResult, { ok: true }> {
  if (result.ok) throw new Error('expected a goal that ended not ok, got one that completed');
  return result;
}

/** The result of a goal that ended `plan_invalid`, with the refused drafts; fails the test for any other ending. */
export function planInvalid(result: GoalResult): Extract<GoalResult, { reason: 'plan_invalid' }> {
  if (result.ok || result.reason !== 'plan_invalid')
    throw new Error(`expected plan_invalid, got ${JSON.stringify(result.ok || result.reason)}`);
  return result;
}

export interface Tandem {
  client: Client;
  model: ScriptedModel;
  taskQueue: string;
  /**
   * The worker's live settings: activities read this object at call time, so a test may change a field (the HTTP
   * allow-list, a limit) for itself; `startTandem` points `model` at the scripted model.
   */
  config: TandemConfig;
  /** The content store the worker writes to. */
  store: ContentStore;
  /** The folder of a workspace name (a goal id, or an executor's workflow id when started alone). */
  workspaceDir(workspace: string): string;
  /** A fresh goal id, readable in the Web UI. */
  goalId(label: string): string;
  /** Starts a planner with any goal input (budgets, parallelism...) under a fresh id made from `label`. */
  startPlanner(label: string, input: GoalInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof plannerWorkflow>>;
  /**
   * Starts an executor alone (no planner) under `workflowId`, its workspace named after it; `input` overrides the
   * defaults (a subtask t1 with plain instructions, every built-in tool).
   */
  startExecutor(workflowId: string, input?: Partial<ExecutorInput>): Promise<StartedExecutor>;
  /** Shuts the worker down (its goals wait at the server), as a crash-free outage would; {@link startWorker} ends it. */
  stopWorker(): Promise<void>;
  /** Starts a new worker on the same task queue after {@link stopWorker}; a no-op while one runs. */
  startWorker(): Promise<void>;
  stop(): Promise<void>;
}

/** An executor started by {@link Tandem.startExecutor}. */
export interface StartedExecutor {
  handle: WorkflowHandleWithFirstExecutionRunId<typeof executorWorkflow>;
  workflowId: string;
  /** Its workspace folder. */
  workspace: string;
  result(): Promise<ExecutorResult>;
}

/** The subtask an executor started alone works on unless a test gives its own. */
const DEFAULT_SUBTASK = {
  id: 't1',
  title: 'Test subtask',
  instructions: 'Do it.',
  milestone: 'It is done.',
  dependsOn: [],
};

// Workers log every state change at INFO; tests keep only errors so a failure's output stays readable.
installLogger('ERROR');

/** Options of {@link startTandem}: the scripted model's (strict transcript checks, streaming behaviour) and extra
 * worker options, e.g. `maxCachedWorkflows: 0` to replay every task. */
export interface TandemOptions {
  model?: ScriptedModelOptions;
  workerOptions?: Partial<WorkerOptions>;
  /** Changes the worker's settings after the scripted model is wired in (a model name, a price file, ...). */
  config?: (config: TandemConfig) => TandemConfig;
}

export async function startTandem(opts: TandemOptions = {}): Promise<Tandem> {
  const bundlePath = process.env.TANDEM_TEST_BUNDLE;
  if (!bundlePath)
    throw new Error('TANDEM_TEST_BUNDLE is not set: run the tests through jest (test/helpers/global-setup.ts)');
  const model = await startScriptedModel(opts.model);
  const base = loadConfig();
  const wired: TandemConfig = {
    ...base,
    model: { ...base.model, baseURL: model.baseURL, apiKey: 'sk-test-secret-key' },
    http: { ...base.http },
  };
  const config = opts.config ? opts.config(wired) : wired;
  const store = contentStore(config.store);
  const taskQueue = `test-${randomUUID().slice(0, 8)}`;
  const settings = { ...temporalSettings(), taskQueue };
  const startWorker = async () => {
    const started = await createTandemWorker({
      settings,
      config,
      workflowBundle: { codePath: bundlePath },
      ...(opts.workerOptions ? { options: opts.workerOptions } : {}),
    });
    const running = started.worker.run();
    return async () => {
      started.worker.shutdown();
      await running;
      await started.mcp.close();
      await started.connection.close();
    };
  };
  let stopWorker: (() => Promise<void>) | undefined = await startWorker();
  const connection = await Connection.connect({ address: settings.connectionOptions.address });
  const client = new Client({ connection, namespace: settings.namespace });
  const goalId = (label: string) => `${label}-${randomUUID().slice(0, 6)}`;
  return {
    client,
    model,
    taskQueue,
    config,
    store,
    workspaceDir: (workspace) => workspaceDir(config.workspaceRoot, workspace),
    goalId,
    startPlanner: (label, input) =>
      client.workflow.start<typeof plannerWorkflow>('plannerWorkflow', {
        workflowId: goalId(label),
        taskQueue,
        args: [input],
      }),
    async startExecutor(workflowId, input = {}) {
      const handle = await client.workflow.start<typeof executorWorkflow>('executorWorkflow', {
        workflowId,
        taskQueue,
        args: [{ subtask: DEFAULT_SUBTASK, workspace: workflowId, ...input }],
      });
      return {
        handle,
        workflowId,
        workspace: workspaceDir(config.workspaceRoot, workflowId),
        result: () => resultOf(handle),
      };
    },
    async stopWorker() {
      await stopWorker?.();
      stopWorker = undefined;
    },
    async startWorker() {
      if (!stopWorker) stopWorker = await startWorker();
    },
    async stop() {
      await stopWorker?.();
      await connection.close();
      await model.close();
    },
  };
}
