/**
 * What `tandem status` and `tandem watch` show about a goal or an executor: its `progress` query, how it ended (read
 * from the close event, so a failed goal says why), and the calls that keep failing right now (the pending
 * activities' last failure and attempt, from a describe of the workflow and of its running children). One snapshot
 * function serves both verbs, so they always agree, and it reads through a {@link WorkflowReader}, so the gRPC and
 * the HTTP way print the same.
 */
import type { Client } from '@temporalio/client';
import { endingOf, endingOfStatus } from '../common/ending-words';
import { EXECUTOR_WORKFLOW_TYPE, PLANNER_WORKFLOW_TYPE, PROGRESS_QUERY_NAME } from '../common/names';
import type { ExecutorProgress, GoalProgress } from '../common/types';
import { GoalError } from '../node/errors';
import { blockedWorkflowTask, describeBlockedTask } from './blocked-task';
import type { RunEnd } from './run-end';
import { describeFailingCall, type FailingCall, type StreamingCall } from './call-lines';
import { shellArg } from './shell-arg';
import { QueryDeadlineExceeded, type WorkflowReader, type WorkflowView } from './workflow-reader';

/** How long a query may wait for a worker before the CLI looks for the reason. */
const QUERY_DEADLINE_MS = 10_000;

export type { RunEnd } from './run-end';

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

/** The `callModel` activities of one workflow that have heartbeated streamed tokens. */
function streamingCallsOf(view: WorkflowView, subtaskId: string | null): StreamingCall[] {
  return view.pendingActivities.flatMap((activity) => {
    if (activity.activityType !== 'callModel' || activity.heartbeat === undefined) return [];
    const details = activity.heartbeat as { purpose?: unknown; subtaskId?: unknown; streamedTokens?: unknown } | null;
    if (typeof details?.streamedTokens !== 'number') return [];
    const ofCall = typeof details.subtaskId === 'string' ? details.subtaskId : null;
    return [
      {
        workflowId: view.workflowId,
        subtaskId: subtaskId ?? ofCall,
        purpose: String(details.purpose ?? ''),
        streamedTokens: details.streamedTokens,
      },
    ];
  });
}

/** The pending activities of one workflow that have failed at least once. */
function failingCallsOf(view: WorkflowView, subtaskId: string | null): FailingCall[] {
  return view.pendingActivities.flatMap((activity) => {
    const failure = activity.lastFailure;
    if (!failure) return [];
    let errorType: string | null = null;
    let deepest = failure;
    for (let at: typeof failure | null = failure; at; at = at.cause) {
      errorType = at.applicationType || errorType;
      deepest = at;
    }
    return [
      {
        workflowId: view.workflowId,
        subtaskId,
        activity: activity.activityType ?? 'activity',
        attempt: activity.attempt,
        maximumAttempts: activity.maximumAttempts,
        lastError: deepest.message || failure.message || 'unknown error',
        errorType,
        nextAttemptTime: activity.nextAttemptTime,
      },
    ];
  });
}

/** The calls in flight of a workflow and of its running children, read from one describe of each. */
async function callsInFlight(
  reader: WorkflowReader,
  view: WorkflowView,
  subtaskOfChild: (workflowId: string) => string | null,
  ownSubtask: string | null,
): Promise<{ failingCalls: FailingCall[]; streamingCalls: StreamingCall[] }> {
  const children = await Promise.all(
    view.pendingChildIds.map(async (workflowId) => {
      try {
        return [{ view: await reader.describe(workflowId), subtask: subtaskOfChild(workflowId) }];
      } catch {
        return []; // The child closed in between: nothing of it is in flight any more.
      }
    }),
  );
  const all = [{ view, subtask: ownSubtask }, ...children.flat()];
  return {
    failingCalls: all.flatMap((each) => failingCallsOf(each.view, each.subtask)),
    streamingCalls: all.flatMap((each) => streamingCallsOf(each.view, each.subtask)),
  };
}

/** How a closed run ended; null while it runs. */
async function endOf(reader: WorkflowReader, view: WorkflowView): Promise<RunEnd | null> {
  if (view.executionStatus === 'RUNNING') return null;
  return reader.runEnd(view.workflowId);
}

/** A closed run's ending: its result's when it has one, else Temporal's status in the same words. */
function endingOfRun(executionStatus: string, end: RunEnd | null): string | null {
  if (!end) return null;
  return end.failure
    ? endingOfStatus(executionStatus)
    : endingOf(end.ok ? { ok: true } : { ok: false, reason: end.reason });
}

/**
 * Why no worker answered in time: a model call that keeps failing (the loop is waiting for it), no worker polling the
 * task queue at all, or a worker busy with something that has not failed.
 */
export async function whyNoAnswerOf(reader: WorkflowReader, id: string, what: string): Promise<string> {
  // A workflow task that keeps failing (a non-determinism error) answers nothing, whatever else is pending.
  const blocked = await blockedWorkflowTask(reader, id);
  if (blocked) return describeBlockedTask(id, blocked);
  const view = await reader.describe(id);
  const calls = (await callsInFlight(reader, view, () => null, null)).failingCalls;
  if (calls.length > 0) {
    return (
      `${what} of "${id}" is waiting: ${describeFailingCall(calls[0])}; it goes on when that call succeeds ` +
      `(follow it with: tandem watch ${shellArg(id)})`
    );
  }
  if ((await reader.pollerCount(view.taskQueue)) === 0) {
    return `no worker polls task queue "${view.taskQueue}", so nothing answered ${what} of "${id}"; start one with: tandem worker`;
  }
  return (
    `${what} of "${id}" was not answered in time; a worker polls "${view.taskQueue}", so the goal is busy ` +
    `(a slow model or tool call) or the worker is overloaded: follow it with tandem watch ${shellArg(id)}`
  );
}

/** {@link whyNoAnswerOf} through the SDK's client. */
export async function whyNoAnswer(client: Client, id: string, what: string): Promise<string> {
  const { grpcReader } = await import('./grpc-reader');
  return whyNoAnswerOf(grpcReader(client), id, what);
}

/** The answer of a progress query already sent (`asked`), or why none came: no worker in time, a blocked task. */
async function progressAnswer<T>(reader: WorkflowReader, id: string, asked: Promise<unknown>): Promise<T> {
  try {
    return (await asked) as T;
  } catch (err) {
    if (err instanceof QueryDeadlineExceeded)
      throw new GoalError(await whyNoAnswerOf(reader, id, 'the progress query'));
    // A query that fails outright on a workflow whose task keeps failing (a non-determinism error) fails because of it.
    const blocked = await blockedWorkflowTask(reader, id);
    if (blocked) throw new GoalError(describeBlockedTask(id, blocked));
    throw err;
  }
}

/** Everything `status` shows about a goal or an executor, by workflow id, read through `reader`. */
export async function snapshotOf(reader: WorkflowReader, id: string): Promise<Snapshot> {
  // The query goes out with the describe rather than after it: planner and executor both answer it, and it is the
  // slowest read (a worker replays a closed goal's history to answer), so waiting for the type first adds a round
  // trip. Its answer is only read once the describe says the workflow is tandem's; a failure is handled there.
  const asked = reader.query<unknown>(id, PROGRESS_QUERY_NAME, QUERY_DEADLINE_MS);
  asked.catch(() => undefined);
  const view = await reader.describe(id);
  const { executionStatus } = view;
  if (view.type === PLANNER_WORKFLOW_TYPE) {
    const progress = await progressAnswer<GoalProgress>(reader, id, asked);
    const subtaskOf = (workflowId: string) =>
      progress.subtasks.find((subtask) => subtask.workflowId === workflowId)?.id ?? null;
    const [end, calls] = await Promise.all([endOf(reader, view), callsInFlight(reader, view, subtaskOf, null)]);
    return { kind: 'goal', id, executionStatus, end, ending: endingOfRun(executionStatus, end), ...calls, progress };
  }
  if (view.type === EXECUTOR_WORKFLOW_TYPE) {
    const progress = await progressAnswer<ExecutorProgress>(reader, id, asked);
    const [end, calls] = await Promise.all([
      endOf(reader, view),
      callsInFlight(reader, view, () => null, progress.subtaskId),
    ]);
    const goalId = view.parentWorkflowId;
    const ending = endingOfRun(executionStatus, end);
    return { kind: 'executor', id, executionStatus, end, ending, ...calls, goalId, progress };
  }
  throw new GoalError(`"${id}" is a ${view.type}, not a goal or an executor of tandem`);
}

/** {@link snapshotOf} through the SDK's client. */
export async function snapshot(client: Client, id: string): Promise<Snapshot> {
  const { grpcReader } = await import('./grpc-reader');
  return snapshotOf(grpcReader(client), id);
}

/** True when the run has closed and did not end with an ok result: `watch` and `status` scripts exit 2 then. */
export function endedBadly(snap: Snapshot): boolean {
  return snap.end !== null && !snap.end.ok;
}
