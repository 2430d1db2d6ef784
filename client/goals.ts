/**
 * Client-side operations on goals, shared by the CLI, the demo and the tests. Each one turns the SDK's errors into
 * {@link GoalError}s whose message says what went wrong and what to do.
 */
import {
  type Client,
  type WorkflowExecutionDescription,
  WorkflowFailedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  rootCause,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { endingOfStatus } from '../common/ending-words';
import { endedCancelled, resultInFailure } from '../common/endings';
import { RESULT_MEMO_KEY } from '../common/names';
import { goalInputSchema, type GoalInput, type GoalProgress, type GoalResult } from '../common/types';
import { EXECUTOR_WORKFLOW_TYPE, PLANNER_WORKFLOW_TYPE, progressQuery } from '../common/contract';
import { goalSearchAttributes, goalSummary, keyWorkflowId } from '../common/goal-start';
import { GoalError, messageWithCauses, noGoalWithId } from '../node/errors';
import { cutToBytes, GOAL_INLINE_BYTES, GOAL_PREVIEW_BYTES, utf8Bytes } from '../common/limits';
import { contentStore } from '../activities/content-store';
import { loadConfig } from '../node/config';
import type { plannerWorkflow } from '../workflows/planner/planner';
import { shellArg } from './shell-arg';

/** An error about a goal the user can act on (unknown id, finished goal, bad input): one line, exit code 1. */
export { GoalError } from '../node/errors';

export interface StartGoalOptions {
  goal: string;
  id?: string;
  /** Concurrency key: at most one running goal per key (the workflow id is derived from it, see {@link keyWorkflowId}). */
  key?: string;
  taskQueue: string;
  /** Steps of each subtask (`--max-subtask-steps`); a plan's own step budget does not change it. */
  maxStepsPerSubtask?: number;
  /** Steps of the whole goal (`--max-goal-steps`). */
  maxSteps?: number;
  /** Tokens of the whole goal (`--max-goal-tokens`). */
  maxTokens?: number;
  /** US dollars of the whole goal (`--max-cost`), by the worker's price table. */
  maxCostUsd?: number;
  maxParallel?: number;
  /** Tools whose calls wait for a person (`--approve`; `side-effects` for every tool that changes the world). */
  approveTools?: string[];
  /** `--approval-timeout`: undecided calls are denied after this many milliseconds. */
  approvalTimeoutMs?: number;
}

/** A started goal's handle; `alreadyRunning` is true when `--key` found a running goal and no new one started. */
export type StartedGoal = WorkflowHandleWithFirstExecutionRunId<typeof plannerWorkflow> & { alreadyRunning: boolean };

/** Keys become part of a workflow id, so they are held to the characters Temporal's UI and CLI show unescaped. */
const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * The planner's input, checked with the same zod schema the planner applies (so the two cannot disagree): a bad one
 * throws a {@link GoalError} before anything starts.
 */
export function goalInput(opts: Omit<StartGoalOptions, 'id' | 'key' | 'taskQueue'>): GoalInput {
  const input = goalInputSchema.safeParse({
    goal: opts.goal,
    maxStepsPerSubtask: opts.maxStepsPerSubtask,
    maxSteps: opts.maxSteps,
    maxTokens: opts.maxTokens,
    maxCostUsd: opts.maxCostUsd,
    maxParallel: opts.maxParallel,
    approveTools: opts.approveTools?.length ? opts.approveTools : undefined,
    approvalTimeoutMs: opts.approvalTimeoutMs,
  });
  if (!input.success) throw new GoalError(input.error.issues.map((issue) => issue.message).join('; '));
  // Absent budgets stay absent rather than `undefined` keys, so the recorded input shows only what was asked for.
  return Object.fromEntries(Object.entries(input.data).filter(([, value]) => value !== undefined)) as GoalInput;
}

/**
 * {@link goalInput} for a goal of any size: one over {@link GOAL_INLINE_BYTES} is stored in the content store (which
 * workers and CLI share, `TANDEM_STORE_URL`) and travels as `goalRef`, with a preview as `goal`.
 */
export async function goalInputOfAnySize(opts: Omit<StartGoalOptions, 'id' | 'key' | 'taskQueue'>): Promise<GoalInput> {
  const text = opts.goal.trim();
  if (utf8Bytes(text) <= GOAL_INLINE_BYTES) return goalInput(opts);
  const goalRef = await contentStore(loadConfig().store).put(text);
  const goal = cutToBytes(text, GOAL_PREVIEW_BYTES, ` … [${utf8Bytes(text)} bytes in all, stored as ${goalRef}]`);
  return { ...goalInput({ ...opts, goal }), goalRef };
}

/**
 * Starts a planner workflow under `--id`, the key's id, or `goal-<random>`. With a concurrency key, Temporal's
 * `USE_EXISTING` id conflict policy returns the running goal of that key, whoever started it (a person or a keyed
 * schedule's launcher, workflows/keyed-goal-launcher.ts), instead of starting a second one (no home-made lock); a
 * start token in the memo tells which happened, since the start call returns the same kind of handle either way.
 */
export async function startGoal(client: Client, opts: StartGoalOptions): Promise<StartedGoal> {
  const input = await goalInputOfAnySize(opts);
  if (opts.key !== undefined && !KEY_PATTERN.test(opts.key)) {
    throw new GoalError(`invalid key "${opts.key}": use 1-100 characters of A-Z, a-z, 0-9, ".", "_" or "-"`);
  }
  if (opts.key !== undefined && opts.id !== undefined) {
    throw new GoalError("pass either --id or --key, not both: a keyed goal's id is derived from its key");
  }
  const workflowId = opts.key !== undefined ? keyWorkflowId(opts.key) : (opts.id ?? `goal-${randomUUID().slice(0, 8)}`);
  const startToken = randomUUID();
  let handle: WorkflowHandleWithFirstExecutionRunId<typeof plannerWorkflow>;
  try {
    handle = await client.workflow.start<typeof plannerWorkflow>('plannerWorkflow', {
      workflowId,
      taskQueue: opts.taskQueue,
      args: [input],
      staticSummary: goalSummary(input.goal),
      typedSearchAttributes: goalSearchAttributes(input.goal, opts.key),
      ...(opts.key !== undefined ? { workflowIdConflictPolicy: 'USE_EXISTING', memo: { startToken } } : {}),
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new GoalError(`a goal with id "${workflowId}" is already running; choose another --id`);
    }
    // The SDK's message ("Failed to start Workflow") hides the server's reason in its causes.
    throw new GoalError(`could not start goal "${workflowId}": ${messageWithCauses(err)}`);
  }
  const alreadyRunning = opts.key !== undefined && (await handle.describe()).memo?.startToken !== startToken;
  return Object.assign(handle, { alreadyRunning });
}

/** Any workflow's handle and description (a goal's or an executor's), after checking that it exists. */
export async function describeWorkflow(
  client: Client,
  id: string,
): Promise<{ handle: WorkflowHandle; description: WorkflowExecutionDescription }> {
  const handle = client.workflow.getHandle(id);
  try {
    return { handle, description: await handle.describe() };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw noGoalWithId(id);
    throw err;
  }
}

/** A goal's handle and its description, after checking that the workflow exists and is a planner. */
export async function describeGoal(
  client: Client,
  id: string,
): Promise<{ handle: WorkflowHandle<typeof plannerWorkflow>; description: WorkflowExecutionDescription }> {
  const { description } = await describeWorkflow(client, id);
  const handle = client.workflow.getHandle<typeof plannerWorkflow>(id);
  if (description.type === EXECUTOR_WORKFLOW_TYPE) {
    // An executor id is what `status` and `list` print for a subtask; its goal is the parent, so name it.
    const goal = description.parentExecution?.workflowId;
    throw new GoalError(
      `"${id}" is an executor (one subtask), not a goal; pass its goal's id` + (goal ? `: ${goal}` : ''),
    );
  }
  if (description.type !== PLANNER_WORKFLOW_TYPE) {
    throw new GoalError(`"${id}" is a ${description.type} workflow, not a tandem goal; pass the id of a goal`);
  }
  return { handle, description };
}

/** The planner handle for an id, after checking that the workflow exists. */
export async function goalHandle(client: Client, id: string): Promise<WorkflowHandle<typeof plannerWorkflow>> {
  return (await describeGoal(client, id)).handle;
}

function alreadyFinished(id: string, status: string, action: string): GoalError {
  return new GoalError(
    `goal "${id}" has already finished (${endingOfStatus(status)}): ${action} only applies to a running goal; ` +
      `read its result with: tandem result ${shellArg(id)}`,
  );
}

/**
 * Runs `send` (a signal, update or cancel) on a goal that is still running; `action` names what the user tried, for
 * the message. A finished goal is refused before anything is sent, and a goal that finishes between that check and
 * the send (the server then answers "workflow execution already completed") gets the same message, not a server
 * error that does not say what to do instead.
 */
export async function sendToRunningGoal<T>(
  client: Client,
  id: string,
  action: string,
  send: (handle: WorkflowHandle<typeof plannerWorkflow>) => Promise<T>,
): Promise<T> {
  const { handle, description } = await describeGoal(client, id);
  if (description.status.name !== 'RUNNING') throw alreadyFinished(id, description.status.name, action);
  try {
    return await send(handle);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    const { description: now } = await describeGoal(client, id);
    throw alreadyFinished(id, now.status.name, action);
  }
}

/** How long a query may wait for a worker before the CLI says that none is running. */
const QUERY_DEADLINE_MS = 10_000;

/** The goal's `progress` query; needs a worker to answer, even for a finished goal. */
export async function goalProgress(client: Client, id: string): Promise<GoalProgress> {
  return queryProgress(client, await goalHandle(client, id));
}

/**
 * {@link goalProgress} on a handle already checked, for callers that poll (`tandem watch`). `signal` cancels the query
 * (it then rejects), for a caller that stops polling: it must still await the rejection before closing the
 * connection, since the SDK's retry of a failed call is a timer that `Connection.close()` leaves behind, and a retry
 * that fires after the close throws out of the timer and kills the process ("Channel has been shut down").
 */
export async function queryProgress(
  client: Client,
  handle: WorkflowHandle<typeof plannerWorkflow>,
  signal?: AbortSignal,
): Promise<GoalProgress> {
  const query = () => client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(progressQuery));
  try {
    return await (signal ? client.withAbortSignal(signal, query) : query());
  } catch (err) {
    if (isDeadlineExceeded(err)) {
      // Loaded here, not at the top: inspect.ts builds on this module.
      const { whyNoAnswer } = await import('./inspect');
      throw new GoalError(await whyNoAnswer(client, handle.workflowId, 'the progress query'));
    }
    throw err;
  }
}

/** True for a call cut off by `client.withDeadline`: no worker picked up the query or update in time. */
export function isDeadlineExceeded(err: unknown): boolean {
  // The SDK may wrap the gRPC error ("Failed to query Workflow", cause: "4 DEADLINE_EXCEEDED ..."): look down the chain.
  for (let at: unknown = err, depth = 0; at instanceof Object && depth < 5; depth++, at = (at as Error).cause) {
    if ((at as { code?: number }).code === 4 /* DEADLINE_EXCEEDED */ || /deadline/i.test((at as Error).message ?? '')) {
      return true;
    }
  }
  return false;
}

/** Why a workflow run ended without a result: the deepest cause's words and failure type. */
export interface FailureSummary {
  message: string;
  /** The `ApplicationFailure` type (common/failures.ts), or `Terminated`, `Cancelled`, `TimedOut`. */
  type: string | null;
}

/** Summarises a `WorkflowFailedError`: the useful words sit at the bottom of the cause chain. */
export function failureOf(err: WorkflowFailedError): FailureSummary {
  let type: string | null = null;
  let activity: string | null = null;
  for (let cause: unknown = err.cause; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ActivityFailure) activity ??= cause.activityType;
    else if (cause instanceof ApplicationFailure && cause.type) type = cause.type;
    else if (cause instanceof TerminatedFailure) type = 'Terminated';
    else if (cause instanceof CancelledFailure) type = 'Cancelled';
    else if (cause instanceof TimeoutFailure) type ??= 'TimedOut';
  }
  const message = rootCause(err.cause) ?? err.message;
  // "callModel failed: <the endpoint's words>": the root cause alone does not say which call it came from.
  return { message: activity ? `${activity} failed: ${message}` : message, type };
}

/**
 * Waits for a run to close and reads its result wherever it travelled (common/endings.ts): the completion's value
 * (ok), the details of a `GoalNotOk`/`SubtaskNotOk` failure (Failed), or the memo of a Canceled run. A run that
 * closed with no result of tandem's (terminated, timed out, an `InvalidGoal`, a run from before) gives its failure.
 */
export async function runResult<T>(handle: WorkflowHandle): Promise<{ result: T } | { error: WorkflowFailedError }> {
  try {
    return { result: (await handle.result()) as T };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const carried = resultInFailure<T>(err);
    if (carried !== undefined) return { result: carried };
    if (endedCancelled(err)) {
      const memo = (await handle.describe()).memo?.[RESULT_MEMO_KEY] as T | undefined;
      if (memo !== undefined) return { result: memo };
    }
    return { error: err };
  }
}

/** How a goal ended: its result (`ok` as the planner decided), or, when the workflow itself failed, why. */
export type GoalOutcome =
  | { ok: boolean; executionStatus: string; result: GoalResult }
  | { ok: false; executionStatus: string; failure: FailureSummary };

/** Waits for the goal to end and says how; only an unknown id or an unreachable server throw. */
export async function goalOutcome(client: Client, id: string): Promise<GoalOutcome> {
  const ended = await runResult<GoalResult>(await goalHandle(client, id));
  const { description } = await describeWorkflow(client, id);
  const executionStatus = description.status.name;
  if ('result' in ended) return { ok: ended.result.ok, executionStatus, result: ended.result };
  return { ok: false, executionStatus, failure: failureOf(ended.error) };
}

/** Waits for the goal's result. A goal that failed as a workflow becomes a GoalError carrying the failure's message. */
export async function goalResult(client: Client, id: string): Promise<GoalResult> {
  const outcome = await goalOutcome(client, id);
  if ('failure' in outcome) throw new GoalError(`goal "${id}" failed: ${outcome.failure.message}`);
  return outcome.result;
}
