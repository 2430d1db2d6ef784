/**
 * `tandem list`: goals found through Temporal's visibility store, filtered by execution status and tandem's search
 * attributes, so it works on any cluster without asking a worker.
 */
import type { Client } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_NAMES } from '../common/names';
import { GoalError, grpcStatusOf } from '../node/errors';
import { blockedWorkflowTask, type BlockedTask } from './blocked-task';
import { bucketOf, type ListStatus } from './list-statuses';
import type { ListedWorkflow, WorkflowReader } from './workflow-reader';

/**
 * A goal as `tandem list --json` prints it. Stable: fields are only ever added. `status` is the filter bucket;
 * `tandemStatus` is the planner's own status (TandemStatus), `executionStatus` Temporal's.
 */
export interface GoalSummary {
  id: string;
  runId: string;
  status: ListStatus;
  executionStatus: string;
  tandemStatus: string | null;
  goal: string | null;
  key: string | null;
  planVersion: number | null;
  tokens: number | null;
  startTime: string;
  closeTime: string | null;
  /** A running goal whose workflow task keeps failing (a non-determinism error): why (./blocked-task.ts). */
  blocked: BlockedTask | null;
}

/** gRPC status of a query the server cannot parse or that names an unknown attribute. */
const INVALID_ARGUMENT = 3;

/** How many goals `list` prints when `--limit` is not given; the newest first. */
export const LIST_LIMIT = 100;

/**
 * How many matching goals `list` reads at most to find the newest `--limit` by start time. The visibility store
 * answers running goals first and closed ones by close time, and the dev server's SQLite store refuses
 * `ORDER BY StartTime`, so the order is made here; past this many, narrow the list with --query or --status.
 */
export const LIST_SCAN_LIMIT = 10_000;

/** What `list` asks for: a status bucket, a visibility query of the user's own, how many. */
export interface ListOptions {
  status?: ListStatus;
  /** A visibility query (`TandemKey = 'nightly'`, `StartTime > '2026-11-30T00:00:00Z'`), ANDed with the rest. */
  query?: string;
  limit?: number;
}

const TANDEM_STATUS = SEARCH_ATTRIBUTE_NAMES.status;

/**
 * Visibility queries per bucket. A not-ok goal is Failed and a cancelled one Canceled (docs/endings.md); the clauses on
 * a Completed workflow's TandemStatus keep the runs recorded before that, which completed whatever their outcome.
 */
const STATUS_QUERIES: Record<ListStatus, string> = {
  running: `ExecutionStatus = 'Running'`,
  completed: `ExecutionStatus = 'Completed' AND ${TANDEM_STATUS} != 'failed' AND ` + `${TANDEM_STATUS} != 'cancelled'`,
  failed: `(ExecutionStatus = 'Failed' OR (ExecutionStatus = 'Completed' AND ${TANDEM_STATUS} = 'failed'))`,
  cancelled:
    `(ExecutionStatus = 'Canceled' OR ` + `(ExecutionStatus = 'Completed' AND ${TANDEM_STATUS} = 'cancelled'))`,
  terminated: `ExecutionStatus = 'Terminated'`,
  timed_out: `ExecutionStatus = 'TimedOut'`,
};

/**
 * The visibility query for planner workflows, optionally of one status bucket and narrowed by the user's query. Runs
 * that continued as new are left out: the goal is its latest run.
 */
export function listQuery(status?: ListStatus, query?: string): string {
  return [
    `WorkflowType = 'plannerWorkflow' AND ExecutionStatus != 'ContinuedAsNew'`,
    ...(status ? [STATUS_QUERIES[status]] : []),
    ...(query ? [`(${query})`] : []),
  ].join(' AND ');
}

/** Strings in code-point order: `localeCompare` loads ICU's collation data first, 30-80 ms of a `list` process. */
function byCodePoint(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function summarize(info: ListedWorkflow): GoalSummary {
  return {
    id: info.workflowId,
    runId: info.runId,
    status: bucketOf(info.executionStatus, info.tandemStatus),
    executionStatus: info.executionStatus,
    tandemStatus: info.tandemStatus,
    goal: info.goal,
    key: info.key,
    planVersion: info.planVersion,
    tokens: info.tokens,
    startTime: info.startTime,
    closeTime: info.closeTime,
    blocked: null,
  };
}

/**
 * Up to `limit` goals ({@link LIST_LIMIT} by default), newest start first (ties by id), of the first
 * {@link LIST_SCAN_LIMIT} that match. A query the server refuses is a GoalError.
 */
export async function listGoalsOf(reader: WorkflowReader, opts: ListOptions = {}): Promise<GoalSummary[]> {
  const limit = opts.limit ?? LIST_LIMIT;
  const goals: GoalSummary[] = [];
  try {
    const query = listQuery(opts.status, opts.query);
    for await (const info of reader.list(query)) {
      goals.push(summarize(info));
      if (goals.length >= LIST_SCAN_LIMIT) break;
    }
  } catch (err) {
    // INVALID_ARGUMENT: the server could not parse the query or does not know an attribute it names.
    const status = grpcStatusOf(err);
    if (opts.query !== undefined && status?.code === INVALID_ARGUMENT) {
      throw new GoalError(`the server refused --query "${opts.query}": ${status.details}`);
    }
    throw err;
  }
  // ISO 8601 times of one format compare as strings.
  goals.sort((a, b) => byCodePoint(b.startTime, a.startTime) || byCodePoint(a.id, b.id));
  const shown = goals.slice(0, limit);
  // Visibility says "running" for a goal whose workflow task fails on every attempt: each running goal shown is looked at.
  await Promise.all(
    shown
      .filter((goal) => goal.executionStatus === 'RUNNING')
      .map(async (goal) => {
        goal.blocked = (await blockedWorkflowTask(reader, goal.id).catch(() => undefined)) ?? null;
      }),
  );
  return shown;
}

/** {@link listGoalsOf} through the SDK's client. */
export async function listGoals(client: Client, opts: ListOptions = {}): Promise<GoalSummary[]> {
  const { grpcReader } = await import('./grpc-reader');
  return listGoalsOf(grpcReader(client), opts);
}
