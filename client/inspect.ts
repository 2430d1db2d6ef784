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
import { QueryDeadlineExceeded, type QueryOutcome, type WorkflowReader, type WorkflowView } from './workflow-reader';

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

/** The descriptions of a workflow's running children, each read once; a child that closed in between is left out. */
async function childViews(reader: WorkflowReader, view: WorkflowView): Promise<WorkflowView[]> {
  const children = await Promise.all(
    view.pendingChildIds.map(async (workflowId) => {
      try {
        return [await reader.describe(workflowId)];
      } catch {
        return []; // The child closed in between: nothing of it is in flight any more.
      }
    }),
  );
  return children.flat();
}

/** The calls in flight of a workflow (`view`) and of its running children (`children`). */
function callsInFlight(
  view: WorkflowView,
  children: WorkflowView[],
  subtaskOfChild: (workflowId: string) => string | null,
  ownSubtask: string | null,
): { failingCalls: FailingCall[]; streamingCalls: StreamingCall[] } {
  const all = [
    { view, subtask: ownSubtask },
    ...children.map((child) => ({ view: child, subtask: subtaskOfChild(child.workflowId) })),
  ];
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
  const calls = callsInFlight(view, await childViews(reader, view), () => null, null).failingCalls;
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

/** Why the progress query gave no answer (`err`): no worker in time, a blocked workflow task; else `err` itself. */
async function whyNoProgress(reader: WorkflowReader, id: string, err: unknown): Promise<never> {
  if (err instanceof QueryDeadlineExceeded) throw new GoalError(await whyNoAnswerOf(reader, id, 'the progress query'));
  // A query that fails outright on a workflow whose task keeps failing (a non-determinism error) fails because of it.
  const blocked = await blockedWorkflowTask(reader, id);
  if (blocked) throw new GoalError(describeBlockedTask(id, blocked));
  throw err;
}

/** The progress query asked with the describe: its outcome, settled (never rejects), and how to abandon it. */
interface EarlyQuery {
  outcome: Promise<{ ok: true; value: QueryOutcome<unknown> } | { ok: false; error: unknown }>;
  abandon(): void;
}

/**
 * Asks the progress query of `id` before its describe has said whether it runs, so that a running run's answer comes
 * in the describe's round trip, not one after it. Asked only if open: for a closed run the server refuses it at once
 * (its memo has the progress) instead of handing it to a worker, which would replay the whole history to answer.
 */
function askProgressEarly(reader: WorkflowReader, id: string): EarlyQuery {
  const abandon = new AbortController();
  const outcome = reader
    .query(id, PROGRESS_QUERY_NAME, { deadlineMs: QUERY_DEADLINE_MS, onlyIfOpen: true, signal: abandon.signal })
    .then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  return { outcome, abandon: () => abandon.abort() };
}

/**
 * The workflow's progress: a closed run's from its memo, which holds what the query answers after the close
 * (workflows/ending.ts), so no worker replays its history; an open run's from the query asked with the describe
 * (`early`), which a worker answers from the state it holds. A run that closed without writing the memo, or between
 * the describe and the query, is asked again without the condition.
 */
async function progressOf<T>(reader: WorkflowReader, view: WorkflowView, early: EarlyQuery): Promise<T> {
  if (view.executionStatus !== 'RUNNING' && view.finalProgress !== undefined) {
    early.abandon();
    return view.finalProgress as T;
  }
  const asked = await early.outcome;
  if (!asked.ok) return whyNoProgress(reader, view.workflowId, asked.error);
  if (asked.value.answered) return asked.value.value as T;
  try {
    const again = await reader.query<T>(view.workflowId, PROGRESS_QUERY_NAME, { deadlineMs: QUERY_DEADLINE_MS });
    if (again.answered) return again.value;
    throw new Error(`the progress query of "${view.workflowId}" was refused though asked unconditionally`);
  } catch (err) {
    return whyNoProgress(reader, view.workflowId, err);
  }
}

/**
 * Everything `status` shows about a goal or an executor, by workflow id, read through `reader`: its describe and its
 * progress query at once, then its end and its running children's describes. The query is always settled before
 * this returns or throws, so no call of it outlives the caller's connection.
 */
export async function snapshotOf(reader: WorkflowReader, id: string): Promise<Snapshot> {
  // The describe first: its answer leads to the children's describes, the longest chain of calls.
  const described = reader.describe(id);
  const early = askProgressEarly(reader, id);
  try {
    return await snapshotWith(reader, id, described, early);
  } finally {
    early.abandon();
    await early.outcome;
  }
}

async function snapshotWith(
  reader: WorkflowReader,
  id: string,
  described: Promise<WorkflowView>,
  early: EarlyQuery,
): Promise<Snapshot> {
  const view = await described;
  const { executionStatus } = view;
  if (view.type === PLANNER_WORKFLOW_TYPE) {
    const [progress, end, children] = await Promise.all([
      progressOf<GoalProgress>(reader, view, early),
      endOf(reader, view),
      childViews(reader, view),
    ]);
    const subtaskOf = (workflowId: string) =>
      progress.subtasks.find((subtask) => subtask.workflowId === workflowId)?.id ?? null;
    const calls = callsInFlight(view, children, subtaskOf, null);
    return { kind: 'goal', id, executionStatus, end, ending: endingOfRun(executionStatus, end), ...calls, progress };
  }
  if (view.type === EXECUTOR_WORKFLOW_TYPE) {
    const [progress, end, children] = await Promise.all([
      progressOf<ExecutorProgress>(reader, view, early),
      endOf(reader, view),
      childViews(reader, view),
    ]);
    const calls = callsInFlight(view, children, () => null, progress.subtaskId);
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
