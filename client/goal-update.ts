/**
 * An update on a running goal (a replan, an approval decision) with one answer for each way it can go: the result, the
 * validator's refusal, or no worker in time. The last is not "nothing happened": the server keeps an update it has
 * received until a worker takes it, so a decision sent while every worker is down is applied when one comes back.
 * The message says so, and how to check, instead of inviting the person to decide again.
 */
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { GoalError, isDeadlineExceeded, sendToRunningGoal } from './goals';
import { whyNoAnswer } from './inspect';

/** An update waits for a worker to run its handler; past this the CLI says that none took it. */
export const UPDATE_DEADLINE_MS = 30_000;

/** How {@link updateRunningGoal} names the update in its messages. */
export interface GoalUpdateWording {
  /** The verb, for "has already finished: <action> only applies to a running goal" (`approve`, `replan`). */
  action: string;
  /** What was sent, for "<what> of <id> was not answered" (`the decision on v1.s1:1:c`, `the replan`). */
  what: string;
  /** Prefix of a refusal; the validator's reason follows (`goal "g" refused the replan`). */
  refused: string;
  /** The command that shows whether a late update was applied (`tandem approvals 'g'`). */
  check: string;
}

/**
 * Runs `update` with `arg` on the running goal `id` and returns its result.
 *
 * @throws GoalError when the goal has finished, the validator refused the update (with its reason), or no worker took
 *   it within `deadlineMs` (default {@link UPDATE_DEADLINE_MS}); the last names why (no worker polls, a failing call)
 *   and says the update may still be applied, with the command that shows whether it was.
 */
export async function updateRunningGoal<Ret, Arg>(
  client: Client,
  id: string,
  update: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
  wording: GoalUpdateWording,
  deadlineMs = UPDATE_DEADLINE_MS,
): Promise<Ret> {
  return sendToRunningGoal(client, id, wording.action, async (handle) => {
    try {
      return await client.withDeadline(Date.now() + deadlineMs, () => handle.executeUpdate(update, { args: [arg] }));
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        throw new GoalError(`${wording.refused}: ${err.cause?.message ?? err.message}`);
      }
      if (isDeadlineExceeded(err)) {
        throw new GoalError(
          `${await whyNoAnswer(client, id, wording.what)}; it was sent, and the server keeps it until a worker takes ` +
            `it, so it may still be applied: check with ${wording.check} before sending it again`,
        );
      }
      throw err;
    }
  });
}
