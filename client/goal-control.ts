/**
 * Steering a running goal from outside: the interrupt/replan channel of common/contract.ts. Signals are
 * fire-and-forget (the planner acts on them at its next decision point); a replan is an update, so the caller gets
 * the new plan version back or the validator's reason for refusing it.
 */
import type { Client } from '@temporalio/client';
import type { ZodType } from 'zod';
import {
  interruptPayloadSchema,
  interruptSignal,
  pauseSignal,
  progressQuery,
  replanPayloadSchema,
  resumeSignal,
  revisePlanUpdate,
} from '../common/contract';
import { type GoalProgress, type PlanVersion } from '../common/types';
import { GoalError, sendToRunningGoal } from './goals';
import { updateRunningGoal } from './goal-update';
import { shellArg } from './shell-arg';
import type { WorkflowHandle } from '@temporalio/client';
import type { plannerWorkflow } from '../workflows/planner/planner';

/** How long a check before a signal (subtask ids, paused or not) waits for a worker; without one the signal goes anyway. */
const CHECK_DEADLINE_MS = 5_000;

/** The goal's progress for a check before a signal, or undefined when no worker answered in time. */
async function progressForCheck(
  client: Client,
  handle: WorkflowHandle<typeof plannerWorkflow>,
): Promise<GoalProgress | undefined> {
  try {
    return await client.withDeadline(Date.now() + CHECK_DEADLINE_MS, () => handle.query(progressQuery));
  } catch {
    // The check is advisory: with no worker to answer (a deadline, or a goal whose first workflow task has not run),
    // the signal still goes, and the workflow applies it when a worker picks it up.
    return undefined;
  }
}

/**
 * Refuses a message for a subtask no executor will run again: it ended, or the current plan dropped it. A race the
 * check cannot see (it ends after the check) is counted by the planner as undelivered, never dropped in silence.
 */
function refuseEnded(id: string, progress: GoalProgress, subtaskId: string): void {
  const open = progress.subtasks.filter((s) => s.status === 'pending' || s.status === 'running').map((s) => s.id);
  const current = progress.subtasks.find((s) => s.id === subtaskId);
  if (current && open.includes(subtaskId)) return;
  const what = current ? `has ended (${current.status})` : 'is not in the current plan (a replan dropped it)';
  throw new GoalError(
    `subtask "${subtaskId}" of goal "${id}" ${what}, so no model would read the message; subtasks that can take ` +
      `one: ${open.length ? open.join(', ') : '(none: no subtask is pending or running)'}`,
  );
}

/** What a steering verb did: `changed: false` when the goal was already so; `unchecked` when no worker answered. */
export interface SteeringOutcome {
  changed: boolean;
  unchecked?: boolean;
}

/** Checks a payload on the client with the schema the workflow applies, so a bad one never reaches history. */
function parsePayload<T>(schema: ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new GoalError(parsed.error.issues.map((issue) => issue.message).join('; '));
  return parsed.data;
}

/**
 * Sends `interrupt`: a message for the model, to one subtask's executor or to all running ones. A `subtaskId` is
 * checked against the goal's plan first (every plan version's ids), and refused with the ids there are; one for a
 * subtask that has ended (or that a replan dropped) is refused with the ids that can still take a message; a subtask
 * that has not started yet gets the message when it starts.
 */
export async function interruptGoal(
  client: Client,
  id: string,
  message: string,
  subtaskId?: string,
): Promise<SteeringOutcome> {
  const payload = parsePayload(interruptPayloadSchema, { message, ...(subtaskId ? { subtaskId } : {}) });
  return sendToRunningGoal(client, id, 'interrupt', async (handle) => {
    let unchecked = false;
    if (subtaskId !== undefined) {
      const progress = await progressForCheck(client, handle);
      unchecked = progress === undefined;
      const ids = progress ? [...new Set(progress.versions.flatMap((plan) => plan.subtasks.map((s) => s.id)))] : [];
      if (progress && !ids.includes(subtaskId)) {
        throw new GoalError(
          `goal "${id}" has no subtask "${subtaskId}"; its subtasks: ${ids.length ? ids.join(', ') : '(no plan yet)'}`,
        );
      }
      if (progress) refuseEnded(id, progress, subtaskId);
    }
    await handle.signal(interruptSignal, payload);
    return { changed: true, ...(unchecked ? { unchecked } : {}) };
  });
}

/** Sends `pause` or `resume` unless the goal is already so (then nothing is sent and `changed` is false). */
async function setPaused(client: Client, id: string, paused: boolean): Promise<SteeringOutcome> {
  return sendToRunningGoal(client, id, paused ? 'pause' : 'resume', async (handle) => {
    const progress = await progressForCheck(client, handle);
    const isPaused = progress && (progress.paused ?? progress.status === 'paused');
    if (progress && isPaused === paused) return { changed: false };
    await handle.signal(paused ? pauseSignal : resumeSignal);
    return { changed: true, ...(progress ? {} : { unchecked: true }) };
  });
}

/** Sends `pause`: the whole tree stops before its next LLM call (the planner's own calls too) until `resume`. */
export function pauseGoal(client: Client, id: string): Promise<SteeringOutcome> {
  return setPaused(client, id, true);
}

/** Sends `resume`. */
export function resumeGoal(client: Client, id: string): Promise<SteeringOutcome> {
  return setPaused(client, id, false);
}

/** Requests cancellation of the goal: Temporal cancels the planner, which cancels its running executors. */
export async function cancelGoal(client: Client, id: string): Promise<void> {
  await sendToRunningGoal(client, id, 'cancel', (handle) => handle.cancel());
}

/**
 * Runs the `revisePlan` update and returns the new plan version. A refusal (the validator's reason, or a worker that
 * has no handler for it) becomes a one-line {@link GoalError}.
 */
export async function revisePlan(client: Client, id: string, evidence: string): Promise<PlanVersion> {
  const payload = parsePayload(replanPayloadSchema, { evidence });
  return updateRunningGoal(client, id, revisePlanUpdate, payload, {
    action: 'replan',
    what: 'the replan',
    refused: `goal "${id}" refused the replan`,
    check: `tandem history ${shellArg(id)}`,
  });
}
