/**
 * Steering a running goal from outside: the interrupt/replan channel of common/contract.ts. Signals are
 * fire-and-forget (the planner acts on them at its next decision point); a replan is an update, so the caller gets
 * the new plan version back or the validator's reason for refusing it.
 */
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import type { ZodType } from 'zod';
import {
  interruptPayloadSchema,
  interruptSignal,
  pauseSignal,
  replanPayloadSchema,
  resumeSignal,
  revisePlanUpdate,
} from '../common/contract';
import { type PlanVersion } from '../common/types';
import { GoalError, isDeadlineExceeded, runningGoalHandle } from './goals';
import { whyNoAnswer } from './inspect';

/** An update waits for a worker to run its handler; past this the CLI says that none is running. */
const UPDATE_DEADLINE_MS = 30_000;

/** Checks a payload on the client with the schema the workflow applies, so a bad one never reaches history. */
function parsePayload<T>(schema: ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new GoalError(parsed.error.issues.map((issue) => issue.message).join('; '));
  return parsed.data;
}

/** Sends `interrupt`: a message for the model, to one subtask's executor or to all running ones. */
export async function interruptGoal(client: Client, id: string, message: string, subtaskId?: string): Promise<void> {
  const payload = parsePayload(interruptPayloadSchema, { message, ...(subtaskId ? { subtaskId } : {}) });
  await (await runningGoalHandle(client, id, 'interrupt')).signal(interruptSignal, payload);
}

/** Sends `pause`: the whole tree stops before its next LLM call until `resume`. */
export async function pauseGoal(client: Client, id: string): Promise<void> {
  await (await runningGoalHandle(client, id, 'pause')).signal(pauseSignal);
}

/** Sends `resume`. */
export async function resumeGoal(client: Client, id: string): Promise<void> {
  await (await runningGoalHandle(client, id, 'resume')).signal(resumeSignal);
}

/** Requests cancellation of the goal: Temporal cancels the planner, which cancels its running executors. */
export async function cancelGoal(client: Client, id: string): Promise<void> {
  await (await runningGoalHandle(client, id, 'cancel')).cancel();
}

/**
 * Runs the `revisePlan` update and returns the new plan version. A refusal (the validator's reason, or a worker that
 * has no handler for it) becomes a one-line {@link GoalError}.
 */
export async function revisePlan(client: Client, id: string, evidence: string): Promise<PlanVersion> {
  const payload = parsePayload(replanPayloadSchema, { evidence });
  const handle = await runningGoalHandle(client, id, 'replan');
  try {
    return await client.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () =>
      handle.executeUpdate(revisePlanUpdate, { args: [payload] }),
    );
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      throw new GoalError(`goal "${id}" refused the replan: ${err.cause?.message ?? err.message}`);
    }
    if (isDeadlineExceeded(err)) throw new GoalError(await whyNoAnswer(client, id, 'the replan'));
    throw err;
  }
}
