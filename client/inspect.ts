/**
 * What `tandem status` and `tandem watch` show about a goal or an executor: its `progress` query, how it ended (read
 * from the close event, so a failed goal says why), and the calls that keep failing right now (the pending
 * activities' last failure and attempt, from `describe()` on the workflow and on its running children). One snapshot
 * function serves both verbs, so they always agree.
 */
import { blockedWorkflowTask, describeBlockedTask } from './blocked-task';
import { type Client, type WorkflowExecutionDescription, type WorkflowHandle } from '@temporalio/client';
import {
  EXECUTOR_WORKFLOW_TYPE,
  executorProgressQuery,
  PLANNER_WORKFLOW_TYPE,
  progressQuery,
} from '../common/contract';
import { defaultPayloadConverter } from '@temporalio/common';
import { endingOf, endingOfStatus } from '../common/endings';
import type { ExecutorProgress, ExecutorResult, GoalProgress, GoalResult } from '../common/types';
import { describeWorkflow, type FailureSummary, failureOf, GoalError, isDeadlineExceeded, runResult } from './goals';
import { shellArg } from './shell-arg';

/** How long a query may wait for a worker before the CLI looks for the reason. */
const QUERY_DEADLINE_MS = 10_000;

/** An activity Temporal is retrying: the call, its attempt and what the last attempt failed with. */
export interface FailingCall {
  /** The workflow that made the call: the goal, or one of its executors. */
  workflowId: string;
  /** The executor's subtask, when the call is an executor's. */
  subtaskId: string | null;
  /** `callModel`, `runTool`, ... */
  activity: string;
  attempt: number;
  /** 0 means unlimited. */
  maximumAttempts: number;
  lastError: string;
  /** The failure type, e.g. `ModelUnavailable` (common/failures.ts). */
  errorType: string | null;
  /** When Temporal tries again, if it has scheduled that. */
  nextAttemptTime: string | null;
}

/** How a closed run ended. */
export interface RunEnd {
  /** The result's `ok`; false for a run that failed, was cancelled, terminated or timed out. */
  ok: boolean;
  /** The result's `reason` (`budget_exhausted`, `model_error`, ...) when it has one. */
  reason: string | null;
  /** When the run ended without a result. */
  failure: FailureSummary | null;
}

interface Common {
  id: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT, ... */
  executionStatus: string;
  /** Set once the run has closed. */
  end: RunEnd | null;
  /** How it ended, in the words of docs/endings.md (`completed`, `failed (budget_exhausted)`, ...); null while open. */
  ending: string | null;
  /** Calls being retried right now, oldest workflow first; empty when nothing is failing. */
  failingCalls: FailingCall[];
  /** Model calls whose reply is streaming right now, with the tokens received so far (from their heartbeats). */
  streamingCalls: StreamingCall[];
}

/** A goal: the planner's progress, which already holds the whole tree. */
export interface GoalSnapshot extends Common {
  kind: 'goal';
  progress: GoalProgress;
}

/** An executor: its own progress, and the goal it belongs to. */
export interface ExecutorSnapshot extends Common {
  kind: 'executor';
  /** The parent planner's workflow id; null for an executor started on its own. */
  goalId: string | null;
  progress: ExecutorProgress;
}

export type Snapshot = GoalSnapshot | ExecutorSnapshot;

function timeOf(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): string | null {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return null;
  return new Date(Number(ts.seconds) * 1000 + Math.round((ts.nanos ?? 0) / 1e6)).toISOString();
}

/**
 * A model call in flight and how far its reply has streamed. Workflow code cannot see an activity in flight, so
 * `callModel` heartbeats `{purpose, subtaskId, streamedTokens}` and the client reads it from the pending activity
 * (`temporal workflow describe` shows the same heartbeat details).
 */
export interface StreamingCall {
  workflowId: string;
  subtaskId: string | null;
  /** What the call is for: plan, judge, report or step. */
  purpose: string;
  streamedTokens: number;
}

/** The `callModel` activities of one workflow that have heartbeated streamed tokens. */
function streamingCallsOf(description: WorkflowExecutionDescription, subtaskId: string | null): StreamingCall[] {
  return (description.raw.pendingActivities ?? []).flatMap((activity) => {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    if (activity.activityType?.name !== 'callModel' || !payload) return [];
    const details = defaultPayloadConverter.fromPayload(payload) as
      { purpose?: unknown; subtaskId?: unknown; streamedTokens?: unknown } | undefined;
    if (typeof details?.streamedTokens !== 'number') return [];
    const ofCall = typeof details.subtaskId === 'string' ? details.subtaskId : null;
    return [
      {
        workflowId: description.workflowId,
        subtaskId: subtaskId ?? ofCall,
        purpose: String(details.purpose ?? ''),
        streamedTokens: details.streamedTokens,
      },
    ];
  });
}

/** The pending activities of one workflow that have failed at least once. */
function failingCallsOf(description: WorkflowExecutionDescription, subtaskId: string | null): FailingCall[] {
  return (description.raw.pendingActivities ?? []).flatMap((activity) => {
    const failure = activity.lastFailure;
    if (!failure) return [];
    let errorType: string | null = null;
    for (let at: typeof failure | null | undefined = failure; at; at = at.cause) {
      errorType = at.applicationFailureInfo?.type || errorType;
    }
    let deepest = failure;
    while (deepest.cause) deepest = deepest.cause;
    return [
      {
        workflowId: description.workflowId,
        subtaskId,
        activity: activity.activityType?.name ?? 'activity',
        attempt: activity.attempt ?? 0,
        maximumAttempts: activity.maximumAttempts ?? 0,
        lastError: deepest.message || failure.message || 'unknown error',
        errorType,
        nextAttemptTime: timeOf(activity.nextAttemptScheduleTime),
      },
    ];
  });
}

/** The calls in flight of a workflow and of its running children, read from one describe of each. */
async function callsInFlight(
  client: Client,
  description: WorkflowExecutionDescription,
  subtaskOfChild: (workflowId: string) => string | null,
  ownSubtask: string | null,
): Promise<{ failingCalls: FailingCall[]; streamingCalls: StreamingCall[] }> {
  const children = await Promise.all(
    (description.raw.pendingChildren ?? []).map(async ({ workflowId }) => {
      if (!workflowId) return [];
      try {
        return [
          { description: await client.workflow.getHandle(workflowId).describe(), subtask: subtaskOfChild(workflowId) },
        ];
      } catch {
        return []; // The child closed in between: nothing of it is in flight any more.
      }
    }),
  );
  const all = [{ description, subtask: ownSubtask }, ...children.flat()];
  return {
    failingCalls: all.flatMap((each) => failingCallsOf(each.description, each.subtask)),
    streamingCalls: all.flatMap((each) => streamingCallsOf(each.description, each.subtask)),
  };
}

/** How a closed run ended; the SDK fetches only the close event. */
async function endOf(handle: WorkflowHandle, description: WorkflowExecutionDescription): Promise<RunEnd | null> {
  if (description.status.name === 'RUNNING') return null;
  const ended = await runResult<GoalResult | ExecutorResult>(handle);
  if ('result' in ended) return { ok: ended.result.ok, reason: ended.result.reason ?? null, failure: null };
  return { ok: false, reason: null, failure: failureOf(ended.error) };
}

/** A closed run's ending: its result's when it has one, else Temporal's status in the same words. */
function endingOfRun(executionStatus: string, end: RunEnd | null): string | null {
  if (!end) return null;
  return end.failure ? endingOfStatus(executionStatus) : endingOf({ ok: end.ok, reason: end.reason ?? undefined });
}

/**
 * Why no worker answered in time: a model call that keeps failing (the loop is waiting for it), no worker polling the
 * task queue at all, or a worker busy with something that has not failed.
 */
export async function whyNoAnswer(client: Client, id: string, what: string): Promise<string> {
  // A workflow task that keeps failing (a non-determinism error) answers nothing, whatever else is pending.
  const blocked = await blockedWorkflowTask(client, id);
  if (blocked) return describeBlockedTask(id, blocked);
  const { description } = await describeWorkflow(client, id);
  const calls = (await callsInFlight(client, description, () => null, null)).failingCalls;
  if (calls.length > 0) {
    return (
      `${what} of "${id}" is waiting: ${describeFailingCall(calls[0])}; it goes on when that call succeeds ` +
      `(follow it with: tandem watch ${shellArg(id)})`
    );
  }
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: description.taskQueue },
  });
  if ((pollers ?? []).length === 0) {
    return `no worker polls task queue "${description.taskQueue}", so nothing answered ${what} of "${id}"; start one with: tandem worker`;
  }
  return (
    `${what} of "${id}" was not answered in time; a worker polls "${description.taskQueue}", so the goal is busy ` +
    `(a slow model or tool call) or the worker is overloaded: follow it with tandem watch ${shellArg(id)}`
  );
}

/** One line for a model call streaming its reply: where, what for, and the tokens so far. */
export function describeStreamingCall(call: StreamingCall): string {
  const where = call.subtaskId ? `subtask ${call.subtaskId}: ` : '';
  return `${where}${call.purpose || 'model'} reply streaming, ${call.streamedTokens} tokens so far`;
}

/** One line for a failing call: where, what, which attempt, and the last error. */
export function describeFailingCall(call: FailingCall): string {
  const where = call.subtaskId ? `subtask ${call.subtaskId}: ` : '';
  const of = call.maximumAttempts > 0 ? ` of ${call.maximumAttempts}` : '';
  const type = call.errorType ? ` [${call.errorType}]` : '';
  return `${where}${call.activity} failing, attempt ${call.attempt}${of}: ${call.lastError}${type}`;
}

async function query<T>(client: Client, handle: WorkflowHandle, run: () => Promise<T>): Promise<T> {
  try {
    return await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, run);
  } catch (err) {
    if (isDeadlineExceeded(err))
      throw new GoalError(await whyNoAnswer(client, handle.workflowId, 'the progress query'));
    // A query that fails outright on a workflow whose task keeps failing (a non-determinism error) fails because of it.
    const blocked = await blockedWorkflowTask(client, handle.workflowId);
    if (blocked) throw new GoalError(describeBlockedTask(handle.workflowId, blocked));
    throw err;
  }
}

/** Everything `status` shows about a goal or an executor, by workflow id. */
export async function snapshot(client: Client, id: string): Promise<Snapshot> {
  const { handle, description } = await describeWorkflow(client, id);
  const executionStatus = description.status.name;
  if (description.type === PLANNER_WORKFLOW_TYPE) {
    const progress = await query(client, handle, () => handle.query(progressQuery));
    const subtaskOf = (workflowId: string) =>
      progress.subtasks.find((subtask) => subtask.workflowId === workflowId)?.id ?? null;
    const [end, calls] = await Promise.all([
      endOf(handle, description),
      callsInFlight(client, description, subtaskOf, null),
    ]);
    return { kind: 'goal', id, executionStatus, end, ending: endingOfRun(executionStatus, end), ...calls, progress };
  }
  if (description.type === EXECUTOR_WORKFLOW_TYPE) {
    const progress = await query(client, handle, () => handle.query(executorProgressQuery));
    const [end, calls] = await Promise.all([
      endOf(handle, description),
      callsInFlight(client, description, () => null, progress.subtaskId),
    ]);
    const goalId = description.parentExecution?.workflowId ?? null;
    const ending = endingOfRun(executionStatus, end);
    return { kind: 'executor', id, executionStatus, end, ending, ...calls, goalId, progress };
  }
  throw new GoalError(`"${id}" is a ${description.type}, not a goal or an executor of tandem`);
}

/** True when the run has closed and did not end with an ok result: `watch` and `status` scripts exit 2 then. */
export function endedBadly(snap: Snapshot): boolean {
  return snap.end !== null && !snap.end.ok;
}
