/**
 * One tandem per test: a real worker (in this process, on the shared dev server, on its own task queue) whose
 * activities talk to a scripted model server through the real openai client, and a client to drive it.
 */
import { Client, Connection, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { temporalSettings } from '../../node/connection';
import type { GoalInput } from '../../common/types';
import type { plannerWorkflow } from '../../workflows/planner/planner';
import { createTandemWorker, installLogger } from '../../worker/worker';
import { startScriptedModel, type ScriptedModel } from '../../dev/scripted-model';

export interface Tandem {
  client: Client;
  model: ScriptedModel;
  taskQueue: string;
  /** A fresh goal id, readable in the Web UI. */
  goalId(label: string): string;
  /** Starts a planner with any goal input (budgets, parallelism...) under a fresh id made from `label`. */
  startPlanner(label: string, input: GoalInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof plannerWorkflow>>;
  stop(): Promise<void>;
}

// Workers log every state change at INFO; tests keep only errors so a failure's output stays readable.
installLogger('ERROR');

export async function startTandem(): Promise<Tandem> {
  const bundlePath = process.env.TANDEM_TEST_BUNDLE;
  if (!bundlePath)
    throw new Error('TANDEM_TEST_BUNDLE is not set: run the tests through jest (test/helpers/global-setup.ts)');
  const model = await startScriptedModel();
  // Activities read the endpoint from the environment at call time, as they do in production.
  process.env.OPENAI_BASE_URL = model.baseURL;
  process.env.OPENAI_API_KEY = 'sk-test-secret-key';
  const taskQueue = `test-${randomUUID().slice(0, 8)}`;
  const settings = { ...temporalSettings(), taskQueue };
  const { worker, connection: workerConnection } = await createTandemWorker({
    settings,
    workflowBundle: { codePath: bundlePath },
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: settings.connectionOptions.address });
  const client = new Client({ connection, namespace: settings.namespace });
  const goalId = (label: string) => `${label}-${randomUUID().slice(0, 6)}`;
  return {
    client,
    model,
    taskQueue,
    goalId,
    startPlanner: (label, input) =>
      client.workflow.start<typeof plannerWorkflow>('plannerWorkflow', {
        workflowId: goalId(label),
        taskQueue,
        args: [input],
      }),
    async stop() {
      worker.shutdown();
      await running;
      await workerConnection.close();
      await connection.close();
      await model.close();
    },
  };
}
