/**
 * A workflow whose workflow task keeps failing is blocked: it answers no query, and nothing it does moves on, though
 * Temporal still calls it running. The commonest cause is a non-determinism error, a worker whose workflow code no
 * longer matches the history of a goal in flight. `status` says so, with the cause and what to do, instead of waiting
 * for a query that cannot be answered.
 */
import { shellArg } from './shell-arg';
import type { WorkflowReader } from './workflow-reader';

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
export async function blockedWorkflowTask(
  reader: WorkflowReader,
  workflowId: string,
): Promise<BlockedTask | undefined> {
  const attempt = (await reader.describe(workflowId)).pendingWorkflowTaskAttempt;
  if (attempt < 2) return undefined;
  const failed = await reader.lastWorkflowTaskFailure(workflowId);
  if (!failed) return undefined;
  // The SDK's `[TMPRL1100]` code says the same as the server's cause, for servers that record another cause.
  const nonDeterministic = failed.nonDeterministicCause || /TMPRL1100|nondetermin/i.test(failed.message);
  return { attempt, nonDeterministic, message: failed.message };
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
