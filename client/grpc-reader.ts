/**
 * The {@link WorkflowReader} over the SDK's client: gRPC, with whatever TLS, API key, proxy or data converter the
 * connection has. Every verb can use it; `status` and `list` use it unless the HTTP API is known (./http-reader.ts).
 */
import { type Client, QueryRejectedError, WorkflowClient, type WorkflowExecutionInfo } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  goalSearchAttribute,
  keySearchAttribute,
  planVersionSearchAttribute,
  statusSearchAttribute,
  tokensSearchAttribute,
} from '../common/contract';
import { PROGRESS_MEMO_KEY } from '../common/names';
import { describeWorkflow, failureOf, isDeadlineExceeded, runResult } from './goals';
import { endOfFailure, endOfResult, type RunEnd } from './run-end';
import type { ExecutorResult, GoalResult } from '../common/types';
import {
  type FailureNode,
  type ListedWorkflow,
  QueryDeadlineExceeded,
  type QueryOptions,
  type QueryOutcome,
  RECENT_EVENTS,
  type WorkflowReader,
  type WorkflowTaskFailure,
  type WorkflowView,
} from './workflow-reader';

/** `WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR` of `temporal.api.enums.v1.WorkflowTaskFailedCause`. */
const NON_DETERMINISTIC_CAUSE = 24;

interface RawFailure {
  message?: string | null;
  applicationFailureInfo?: { type?: string | null } | null;
  cause?: RawFailure | null;
}

function failureNode(failure: RawFailure | null | undefined): FailureNode | null {
  if (!failure) return null;
  return {
    message: failure.message ?? '',
    applicationType: failure.applicationFailureInfo?.type || null,
    cause: failureNode(failure.cause),
  };
}

function timeOf(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): string | null {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return null;
  return new Date(Number(ts.seconds) * 1000 + Math.round((ts.nanos ?? 0) / 1e6)).toISOString();
}

function listed(info: WorkflowExecutionInfo): ListedWorkflow {
  const attributes = info.typedSearchAttributes;
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    executionStatus: info.status.name,
    startTime: info.startTime.toISOString(),
    closeTime: info.closeTime?.toISOString() ?? null,
    goal: attributes.get(goalSearchAttribute) ?? null,
    tandemStatus: attributes.get(statusSearchAttribute) ?? null,
    key: attributes.get(keySearchAttribute) ?? null,
    planVersion: attributes.get(planVersionSearchAttribute) ?? null,
    tokens: attributes.get(tokensSearchAttribute) ?? null,
  };
}

/** Reads through `client`. */
export function grpcReader(client: Client): WorkflowReader {
  const namespace = client.options.namespace;
  // The SDK sets the reject condition per client, not per call: a second client on the same connection asks so.
  const ifOpen = new WorkflowClient({
    connection: client.connection,
    namespace,
    dataConverter: client.options.dataConverter,
    queryRejectCondition: 'NOT_OPEN',
  });
  return {
    async describe(workflowId): Promise<WorkflowView> {
      const { description } = await describeWorkflow(client, workflowId);
      const { raw } = description;
      return {
        workflowId: description.workflowId,
        type: description.type,
        executionStatus: description.status.name,
        taskQueue: description.taskQueue,
        parentWorkflowId: description.parentExecution?.workflowId ?? null,
        pendingActivities: (raw.pendingActivities ?? []).map((activity) => {
          const payload = activity.heartbeatDetails?.payloads?.[0];
          return {
            activityType: activity.activityType?.name ?? null,
            attempt: activity.attempt ?? 0,
            maximumAttempts: activity.maximumAttempts ?? 0,
            lastFailure: failureNode(activity.lastFailure),
            nextAttemptTime: timeOf(activity.nextAttemptScheduleTime),
            heartbeat: payload ? defaultPayloadConverter.fromPayload(payload) : undefined,
          };
        }),
        pendingChildIds: (raw.pendingChildren ?? []).flatMap(({ workflowId: child }) => (child ? [child] : [])),
        pendingWorkflowTaskAttempt: raw.pendingWorkflowTask?.attempt ?? 0,
        finalProgress: description.memo?.[PROGRESS_MEMO_KEY],
      };
    },

    async query<T>(workflowId: string, queryName: string, opts: QueryOptions): Promise<QueryOutcome<T>> {
      const workflows = opts.onlyIfOpen ? ifOpen : client.workflow;
      const ask = () =>
        client.withDeadline(Date.now() + opts.deadlineMs, () => workflows.getHandle(workflowId).query<T>(queryName));
      try {
        return { answered: true, value: await (opts.signal ? client.withAbortSignal(opts.signal, ask) : ask()) };
      } catch (err) {
        if (err instanceof QueryRejectedError) return { answered: false };
        if (isDeadlineExceeded(err)) throw new QueryDeadlineExceeded(`no worker answered ${queryName} in time`);
        throw err;
      }
    },

    async runEnd(workflowId): Promise<RunEnd> {
      const ended = await runResult<GoalResult | ExecutorResult>(client.workflow.getHandle(workflowId));
      return 'result' in ended ? endOfResult(ended.result) : endOfFailure(failureOf(ended.error));
    },

    async lastWorkflowTaskFailure(workflowId): Promise<WorkflowTaskFailure | undefined> {
      const history = await client.workflowService.getWorkflowExecutionHistoryReverse({
        namespace,
        execution: { workflowId },
        maximumPageSize: RECENT_EVENTS,
      });
      const failed = history.history?.events?.find(
        (event) => event.workflowTaskFailedEventAttributes,
      )?.workflowTaskFailedEventAttributes;
      if (!failed) return undefined;
      return {
        nonDeterministicCause: failed.cause === NON_DETERMINISTIC_CAUSE,
        message: failed.failure?.message ?? 'no message',
      };
    },

    async pollerCount(taskQueue): Promise<number> {
      const { pollers } = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue } });
      return (pollers ?? []).length;
    },

    async *list(query): AsyncIterable<ListedWorkflow> {
      for await (const info of client.workflow.list({ query, pageSize: 1_000 })) yield listed(info);
    },
  };
}
