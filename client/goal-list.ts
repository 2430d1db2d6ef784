/**
 * `tandem list`: goals found through Temporal's visibility store, filtered by execution status and tandem's search
 * attributes, so it works on any cluster without asking a worker.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import {
  goalSearchAttribute,
  keySearchAttribute,
  planVersionSearchAttribute,
  statusSearchAttribute,
  tokensSearchAttribute,
} from '../common/contract';

/**
 * The `--status` filter values. A cancelled goal *completes* with `reason: 'cancelled'` (TandemStatus `cancelled`), or
 * was cancelled as a workflow (runs from before that, or a planner that did not get to report); a terminated or timed-out
 * goal never reported, so its TandemStatus is whatever it was (often `running`): the bucket says what happened.
 */
export const LIST_STATUSES = ['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out'] as const;
export type ListStatus = (typeof LIST_STATUSES)[number];

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
}

/** How many goals `list` prints at most; the newest first. */
export const LIST_LIMIT = 100;

/**
 * Visibility queries per bucket. A goal whose workflow completed but whose result is not ok counts as failed: the
 * planner records that in TandemStatus, while Temporal only sees a completed workflow.
 */
const STATUS_QUERIES: Record<ListStatus, string> = {
  running: `ExecutionStatus = 'Running'`,
  completed:
    `ExecutionStatus = 'Completed' AND ${statusSearchAttribute.name} != 'failed' AND ` +
    `${statusSearchAttribute.name} != 'cancelled'`,
  failed: `(ExecutionStatus = 'Failed' OR (ExecutionStatus = 'Completed' AND ${statusSearchAttribute.name} = 'failed'))`,
  cancelled:
    `(ExecutionStatus = 'Canceled' OR ` +
    `(ExecutionStatus = 'Completed' AND ${statusSearchAttribute.name} = 'cancelled'))`,
  terminated: `ExecutionStatus = 'Terminated'`,
  timed_out: `ExecutionStatus = 'TimedOut'`,
};

/**
 * The visibility query for planner workflows, optionally of one status bucket. Runs that continued as new are left out:
 * the goal is its latest run.
 */
export function listQuery(status?: ListStatus): string {
  const base = `WorkflowType = 'plannerWorkflow' AND ExecutionStatus != 'ContinuedAsNew'`;
  return status ? `${base} AND ${STATUS_QUERIES[status]}` : base;
}

function bucketOf(executionStatus: string, tandemStatus: string | null): ListStatus {
  switch (executionStatus) {
    case 'RUNNING':
      return 'running';
    case 'COMPLETED':
      return tandemStatus === 'failed' ? 'failed' : tandemStatus === 'cancelled' ? 'cancelled' : 'completed';
    case 'CANCELLED':
      return 'cancelled';
    case 'TERMINATED':
      return 'terminated';
    case 'TIMED_OUT':
      return 'timed_out';
    default:
      return 'failed';
  }
}

function summarize(info: WorkflowExecutionInfo): GoalSummary {
  const attributes = info.typedSearchAttributes;
  const tandemStatus = attributes.get(statusSearchAttribute) ?? null;
  return {
    id: info.workflowId,
    runId: info.runId,
    status: bucketOf(info.status.name, tandemStatus),
    executionStatus: info.status.name,
    tandemStatus,
    goal: attributes.get(goalSearchAttribute) ?? null,
    key: attributes.get(keySearchAttribute) ?? null,
    planVersion: attributes.get(planVersionSearchAttribute) ?? null,
    tokens: attributes.get(tokensSearchAttribute) ?? null,
    startTime: info.startTime.toISOString(),
    closeTime: info.closeTime?.toISOString() ?? null,
  };
}

/** Up to {@link LIST_LIMIT} goals, newest first. */
export async function listGoals(client: Client, status?: ListStatus): Promise<GoalSummary[]> {
  const goals: GoalSummary[] = [];
  for await (const info of client.workflow.list({ query: listQuery(status), pageSize: LIST_LIMIT })) {
    goals.push(summarize(info));
    if (goals.length >= LIST_LIMIT) break;
  }
  return goals;
}
