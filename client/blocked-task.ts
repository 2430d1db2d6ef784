/**
 * A workflow whose workflow task keeps failing is blocked: it answers no query, and nothing it does moves on, though
 * Temporal still calls it running. The commonest cause is a non-determinism error, a worker whose workflow code no
 * longer matches the history of a goal in flight. `status` says so, with the cause and what to do, instead of waiting
 * for a query that cannot be answered.
 */
import type { Client } from '@temporalio/client';
import { shellArg } from './shell-arg';

/**
 * `WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR` of `temporal.api.enums.v1.WorkflowTaskFailedCause` (the number
 * the API sends; `@temporalio/proto` is not a dependency of tandem's own). The SDK's `[TMPRL1100]` code says the same.
 */
const NON_DETERMINISTIC_CAUSE = 24;

/** How far back in history the last workflow task failure is looked for: a blocked run's last events. */
const RECENT_EVENTS = 20;

/** A workflow task that failed and is being retried: its attempt, the failure's cause and message. */
export interface BlockedTask {
  attempt: number;
  nonDeterministic: boolean;
  message: string;
}

/**
 * The blocked workflow task of `workflowId`, or undefined when its workflow task is not failing (no task pending, or a
 * first attempt, or a last task that did not fail).
 */
export async function blockedWorkflowTask(client: Client, workflowId: string): Promise<BlockedTask | undefined> {
  const namespace = client.options.namespace;
  const description = await client.workflowService.describeWorkflowExecution({
    namespace,
    execution: { workflowId },
  });
  const attempt = description.pendingWorkflowTask?.attempt ?? 0;
  if (attempt < 2) return undefined;
  const history = await client.workflowService.getWorkflowExecutionHistoryReverse({
    namespace,
    execution: { workflowId },
    maximumPageSize: RECENT_EVENTS,
  });
  const failed = history.history?.events?.find(
    (event) => event.workflowTaskFailedEventAttributes,
  )?.workflowTaskFailedEventAttributes;
  if (!failed) return undefined;
  const message = failed.failure?.message ?? 'no message';
  return {
    attempt,
    nonDeterministic: failed.cause === NON_DETERMINISTIC_CAUSE || /TMPRL1100|nondetermin/i.test(message),
    message,
  };
}

/** One line: what blocks the goal and what to do about it. */
export function describeBlockedTask(id: string, blocked: BlockedTask): string {
  if (!blocked.nonDeterministic) {
    return (
      `"${id}" is blocked: its workflow task fails (attempt ${blocked.attempt}): ${blocked.message}; ` +
      'the worker logs have the stack, and it goes on once a worker can run the task'
    );
  }
  return (
    `"${id}" is blocked by a non-determinism error: the worker's workflow code no longer matches the goal's history ` +
    `(attempt ${blocked.attempt}: ${blocked.message}). To go on: run a worker with the workflow code the goal ` +
    'started on; or make the change safe for goals in flight, with patched() or Worker Versioning (docs/versioning.md) ' +
    'and deploy that; or start the goal over under the new code: ' +
    `temporal workflow reset -w ${shellArg(id)} --type FirstWorkflowTask --reason "workflow code changed"`
  );
}
