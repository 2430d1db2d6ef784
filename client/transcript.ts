/**
 * `tandem transcript ID SUBTASK`: a subtask's conversation with the model (messages, tool calls, observations), read
 * from the content store by the reference its executor's `progress` query reports. The workflow history holds only
 * that reference; the store every worker shares (`TANDEM_STORE_URL`) holds the messages.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { contentStore } from '../activities/content-store';
import { loadTranscript } from '../activities/transcripts';
import { EXECUTOR_WORKFLOW_TYPE, executorProgressQuery, PLANNER_WORKFLOW_TYPE } from '../common/contract';
import type { ChatMessage } from '../common/types';
import { loadConfig } from '../node/config';
import { describeWorkflow, goalProgress, GoalError } from './goals';
import { shellArg } from './shell-arg';

/** A subtask's conversation and where it came from. */
export interface Transcript {
  /** The executor whose conversation this is. */
  workflowId: string;
  subtaskId: string;
  /** Its content-store reference; null while the first model call has not returned. */
  ref: string | null;
  messages: ChatMessage[];
}

/**
 * The executor workflow id of `subtaskId` in goal `goalId`: its run in the current plan, or else its latest run under
 * an earlier plan version (a subtask a replan dropped).
 */
async function executorOf(client: Client, goalId: string, subtaskId: string): Promise<string> {
  const progress = await goalProgress(client, goalId);
  const current = progress.subtasks.find((subtask) => subtask.id === subtaskId);
  if (current) return current.workflowId;
  const earlier = progress.versions
    .filter((plan) => plan.subtasks.some((subtask) => subtask.id === subtaskId))
    .map((plan) => `${goalId}.v${plan.version}.${subtaskId}`)
    .reverse();
  for (const workflowId of earlier) {
    try {
      await client.workflow.getHandle(workflowId).describe();
      return workflowId;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  const known = [...new Set(progress.versions.flatMap((plan) => plan.subtasks.map((subtask) => subtask.id)))];
  throw new GoalError(
    `goal "${goalId}" has no subtask "${subtaskId}"` +
      (known.length > 0 ? ` that ran; its subtasks: ${known.join(', ')}` : ' yet: it has no plan'),
  );
}

/**
 * The executor's `progress`. A subtask of the plan whose executor has not started (pending on its dependencies, or
 * queued behind `maxParallel`) has a workflow id but no workflow yet: it is said so, not thrown as "not found".
 */
async function executorProgress(client: Client, id: string, workflowId: string, subtaskId: string | undefined) {
  try {
    return await client.workflow.getHandle(workflowId).query(executorProgressQuery);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError) || subtaskId === undefined) throw err;
    const status = (await goalProgress(client, id)).subtasks.find((subtask) => subtask.id === subtaskId)?.status;
    throw new GoalError(
      `subtask ${subtaskId} of "${id}" has not started yet${status ? ` (${status})` : ''}, so it has no ` +
        `conversation; follow the goal with: tandem watch ${shellArg(id)}`,
    );
  }
}

/**
 * The conversation of subtask `subtaskId` of goal `id`, or, with no subtask, of the executor whose workflow id is
 * `id` (as `tandem status` prints it).
 */
export async function readTranscript(client: Client, id: string, subtaskId?: string): Promise<Transcript> {
  const { description } = await describeWorkflow(client, id);
  let workflowId = id;
  if (description.type === PLANNER_WORKFLOW_TYPE) {
    if (!subtaskId)
      throw new GoalError(`"${id}" is a goal: name the subtask too, e.g. tandem transcript ${shellArg(id)} s1`);
    workflowId = await executorOf(client, id, subtaskId);
  } else if (description.type !== EXECUTOR_WORKFLOW_TYPE) {
    throw new GoalError(`"${id}" is a ${description.type}, not a goal or an executor of tandem`);
  }
  const progress = await executorProgress(client, id, workflowId, subtaskId);
  if (subtaskId !== undefined && subtaskId !== progress.subtaskId) {
    // An executor runs one subtask: printing its own while the user named another would answer the wrong question.
    throw new GoalError(
      `"${id}" is the executor of subtask ${progress.subtaskId}, not ${subtaskId}: pass the goal's id with the ` +
        `subtask (tandem transcript ${shellArg(description.parentExecution?.workflowId ?? 'GOAL')} ${shellArg(subtaskId)})`,
    );
  }
  const ref = progress.transcript ?? null;
  const messages = ref === null ? [] : await loadTranscript(contentStore(loadConfig().store), ref);
  return { workflowId, subtaskId: progress.subtaskId, ref, messages };
}
