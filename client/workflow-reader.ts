/**
 * What `status` and `list` read from Temporal, as plain values, whichever way they are read: through the SDK's gRPC
 * client (./grpc-reader.ts, every connection) or through the server's HTTP API (./http-reader.ts, a plain connection
 * whose `TEMPORAL_HTTP_ADDRESS` is known, without loading the SDK). The logic that turns them into what the CLI prints
 * (./inspect.ts, ./goal-list.ts) is written once over this interface, so both ways print the same.
 */
import type { RunEnd } from './inspect';

/** A failure's chain: each level's words and `ApplicationFailure` type, outermost first. */
export interface FailureNode {
  message: string;
  /** The `ApplicationFailure` type at this level (`ModelUnavailable`, ...); null for other kinds of failure. */
  applicationType: string | null;
  cause: FailureNode | null;
}

/** An activity the workflow is waiting on. */
export interface PendingActivityView {
  activityType: string | null;
  attempt: number;
  /** 0 means unlimited. */
  maximumAttempts: number;
  lastFailure: FailureNode | null;
  /** ISO 8601, to the millisecond (rounded), when Temporal has scheduled another attempt. */
  nextAttemptTime: string | null;
  /** The first detail of its last heartbeat, decoded; undefined when it has not heartbeated. */
  heartbeat: unknown;
}

/** A workflow's description: what it is, how it stands, and what it waits on. */
export interface WorkflowView {
  workflowId: string;
  type: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, ... */
  executionStatus: string;
  taskQueue: string;
  parentWorkflowId: string | null;
  pendingActivities: PendingActivityView[];
  pendingChildIds: string[];
  /** The attempt of its pending workflow task; 0 when none is pending. */
  pendingWorkflowTaskAttempt: number;
  /**
   * The `progress` the run wrote to its memo as it closed (workflows/ending.ts), the query's answer from then on;
   * undefined while it runs, and for a run that closed without writing it (terminated, timed out, too large).
   */
  finalProgress: unknown;
}

/** The last workflow task failure of a run. */
export interface WorkflowTaskFailure {
  /** The server recorded the failure's cause as a non-determinism error. */
  nonDeterministicCause: boolean;
  message: string;
}

/** A workflow as the visibility store lists it, with tandem's search attributes. */
export interface ListedWorkflow {
  workflowId: string;
  runId: string;
  executionStatus: string;
  /** ISO 8601, to the millisecond (cut). */
  startTime: string;
  closeTime: string | null;
  goal: string | null;
  tandemStatus: string | null;
  key: string | null;
  planVersion: number | null;
  tokens: number | null;
}

/** How far back in history the last workflow task failure is looked for: a blocked run's last events. */
export const RECENT_EVENTS = 20;

/** Thrown by {@link WorkflowReader.query} when no worker answered within the deadline. */
export class QueryDeadlineExceeded extends Error {
  override name = 'QueryDeadlineExceeded';
}

/** How {@link WorkflowReader.query} asks. */
export interface QueryOptions {
  /** How long a worker has to answer, in milliseconds. */
  deadlineMs: number;
  /**
   * Ask the server to refuse the query of a closed run (`QUERY_REJECT_CONDITION_NOT_OPEN`) instead of handing it to a
   * worker, which would replay the run's whole history to answer: the refusal comes at once, with no worker at all.
   */
  onlyIfOpen?: boolean;
  /** Abandons the query (it then rejects). */
  signal?: AbortSignal;
}

/** A query's outcome: the worker's answer, or the server's refusal of a query asked `onlyIfOpen` of a closed run. */
export type QueryOutcome<T> = { answered: true; value: T } | { answered: false };

/** The reads `status` and `list` make. Every method is side-effect free, so a caller may retry it another way. */
export interface WorkflowReader {
  /**
   * The workflow's latest run.
   *
   * @throws NotFoundError when the server has no workflow with that id.
   */
  describe(workflowId: string): Promise<WorkflowView>;
  /**
   * A query's answer, from a worker; `{ answered: false }` only when asked `onlyIfOpen` and the run has closed.
   *
   * @throws QueryDeadlineExceeded when none answered within `deadlineMs`.
   */
  query<T>(workflowId: string, queryName: string, opts: QueryOptions): Promise<QueryOutcome<T>>;
  /** How the latest run, which has closed, ended: its result, wherever it travelled, or its failure. */
  runEnd(workflowId: string): Promise<RunEnd>;
  /** The failure of the latest workflow task among the last events, if one failed. */
  lastWorkflowTaskFailure(workflowId: string): Promise<WorkflowTaskFailure | undefined>;
  /** How many workers poll the task queue for workflow tasks. */
  pollerCount(taskQueue: string): Promise<number>;
  /** The workflows matching a visibility query, in the store's order. */
  list(query: string): AsyncIterable<ListedWorkflow>;
}
