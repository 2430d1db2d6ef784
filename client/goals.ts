/**
 * Client-side operations on goals, shared by the CLI, the demo and the tests. Each one turns the SDK's errors into
 * {@link GoalError}s whose message says what went wrong and what to do.
 */
import {
  type Client,
  WorkflowFailedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import {
  goalInputSchema,
  goalSearchAttribute,
  type GoalProgress,
  type GoalResult,
  progressQuery,
  statusSearchAttribute,
} from '../workflows/definitions';
import type { plannerWorkflow } from '../workflows/planner';

/** An error the user can act on; the CLI prints its message on one line and exits non-zero. */
export class GoalError extends Error {
  override name = 'GoalError';
}

/** The server caps a workflow summary at 400 bytes; the goal is cut well before that. */
const SUMMARY_LIMIT = 200;

export interface StartGoalOptions {
  goal: string;
  id?: string;
  taskQueue: string;
  maxStepsPerSubtask?: number;
}

/** Validates the goal and starts a planner workflow; returns its workflow id. Nothing starts for a bad goal. */
export async function startGoal(
  client: Client,
  opts: StartGoalOptions,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof plannerWorkflow>> {
  const input = goalInputSchema.safeParse({ goal: opts.goal, maxStepsPerSubtask: opts.maxStepsPerSubtask });
  if (!input.success) throw new GoalError(input.error.issues.map((issue) => issue.message).join('; '));
  const workflowId = opts.id ?? `goal-${randomUUID().slice(0, 8)}`;
  return client.workflow.start<typeof plannerWorkflow>('plannerWorkflow', {
    workflowId,
    taskQueue: opts.taskQueue,
    args: [input.data],
    staticSummary: input.data.goal.slice(0, SUMMARY_LIMIT),
    typedSearchAttributes: [
      { key: goalSearchAttribute, value: input.data.goal },
      { key: statusSearchAttribute, value: 'planning' },
    ],
  });
}

function notFound(id: string, client: Client): GoalError {
  return new GoalError(
    `no goal with id "${id}" in namespace "${client.options.namespace}"; check the id (tandem start prints it)`,
  );
}

/** The planner handle for an id, after checking that the workflow exists. */
export async function goalHandle(client: Client, id: string): Promise<WorkflowHandle<typeof plannerWorkflow>> {
  const handle = client.workflow.getHandle<typeof plannerWorkflow>(id);
  try {
    const description = await handle.describe();
    if (description.type !== 'plannerWorkflow') {
      throw new GoalError(`"${id}" is a ${description.type}, not a goal; pass the id of a planner workflow`);
    }
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound(id, client);
    throw err;
  }
  return handle;
}

/** How long a query may wait for a worker before the CLI says that none is running. */
const QUERY_DEADLINE_MS = 10_000;

/** The goal's `progress` query; needs a worker to answer, even for a finished goal. */
export async function goalProgress(client: Client, id: string): Promise<GoalProgress> {
  const handle = await goalHandle(client, id);
  try {
    return await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(progressQuery));
  } catch (err) {
    if ((err as { code?: number }).code === 4 /* DEADLINE_EXCEEDED */ || /deadline/i.test((err as Error).message)) {
      throw new GoalError(`no worker answered the progress query of "${id}" in time; start one with "tandem worker"`);
    }
    throw err;
  }
}

/** Waits for the goal's result. A goal that failed as a workflow becomes a GoalError carrying the failure's message. */
export async function goalResult(client: Client, id: string): Promise<GoalResult> {
  const handle = await goalHandle(client, id);
  try {
    return await handle.result();
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const cause = err.cause as (Error & { cause?: Error }) | undefined;
      throw new GoalError(`goal "${id}" failed: ${cause?.message ?? err.message}`);
    }
    throw err;
  }
}
