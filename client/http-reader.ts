/**
 * The {@link WorkflowReader} over Temporal's HTTP API (node/http-api.ts): the same reads as ./grpc-reader.ts, decoded
 * as the SDK decodes them (payloads by the default converter, a closed run's failure as `WorkflowFailedError` and
 * client/goals.ts `failureOf` summarise it), so `status` and `list` print the same either way. Anything this reader
 * does not decode (a payload of another encoding, failure attributes a codec encoded) is an `HttpApiUnavailable`, and
 * the verb reads over gRPC instead.
 */
import { FailureType } from '../common/failures';
import { PROGRESS_MEMO_KEY, RESULT_MEMO_KEY, SEARCH_ATTRIBUTE_NAMES } from '../common/names';
import {
  callHttpApi,
  type HttpApi,
  HttpApiDeadlineExceeded,
  HttpApiError,
  HttpApiUnavailable,
  isoOfTimestamp,
  type JsonPayload,
  payloadType,
  payloadValue,
} from '../node/http-api';
import { noGoalWithId } from '../node/errors';
import type { FailureSummary } from './goals';
import { endOfFailure, endOfResult, type RunEnd } from './run-end';
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

/** `temporal.api.failure.v1.Failure` in proto JSON, the fields tandem reads. */
interface JsonFailure {
  message?: string;
  encodedAttributes?: JsonPayload;
  cause?: JsonFailure;
  applicationFailureInfo?: { type?: string; details?: { payloads?: JsonPayload[] } };
  activityFailureInfo?: { activityType?: { name?: string } };
  terminatedFailureInfo?: object;
  canceledFailureInfo?: object;
  timeoutFailureInfo?: object;
}

interface JsonExecutionInfo {
  execution?: { workflowId?: string; runId?: string };
  type?: { name?: string };
  status?: string;
  startTime?: string;
  closeTime?: string;
  taskQueue?: string;
  parentExecution?: { workflowId?: string };
  memo?: { fields?: Record<string, JsonPayload> };
  searchAttributes?: { indexedFields?: Record<string, JsonPayload> };
}

interface JsonDescription {
  workflowExecutionInfo?: JsonExecutionInfo;
  pendingActivities?: Array<{
    activityType?: { name?: string };
    attempt?: number;
    maximumAttempts?: number;
    lastFailure?: JsonFailure;
    nextAttemptScheduleTime?: string;
    heartbeatDetails?: { payloads?: JsonPayload[] };
  }>;
  pendingChildren?: Array<{ workflowId?: string }>;
  pendingWorkflowTask?: { attempt?: number };
}

interface JsonEvent {
  workflowExecutionCompletedEventAttributes?: { result?: { payloads?: JsonPayload[] } };
  workflowExecutionFailedEventAttributes?: { failure?: JsonFailure };
  workflowExecutionCanceledEventAttributes?: object;
  workflowExecutionTerminatedEventAttributes?: { reason?: string };
  workflowExecutionTimedOutEventAttributes?: object;
  workflowTaskFailedEventAttributes?: { cause?: string; failure?: JsonFailure };
}

/** `HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT`: the gateway reads enums in a query string as numbers only. */
const CLOSE_EVENT_FILTER = 2;

/** The failure types whose first detail is the run's result (common/endings.ts). */
const RESULT_FAILURE_TYPES: ReadonlySet<string> = new Set([FailureType.GoalNotOk, FailureType.SubtaskNotOk]);

/** How deep the SDK's readers of a failure look (common/endings.ts): the error itself, then four causes. */
const FAILURE_DEPTH = 4;

/** `WORKFLOW_EXECUTION_STATUS_CANCELED` → `CANCELLED`, as the SDK names execution statuses. */
function statusName(status: string | undefined): string {
  const name = (status ?? '').replace(/^WORKFLOW_EXECUTION_STATUS_/, '');
  if (name === 'CANCELED') return 'CANCELLED';
  return name === '' ? 'UNKNOWN' : name;
}

function chain(failure: JsonFailure | undefined): JsonFailure[] {
  const levels: JsonFailure[] = [];
  for (let at = failure; at; at = at.cause) {
    // Attributes a failure converter encoded need the SDK's data converter to read.
    if (at.encodedAttributes) throw new HttpApiUnavailable('a failure with encoded attributes');
    levels.push(at);
  }
  return levels;
}

function failureNode(failure: JsonFailure | undefined): FailureNode | null {
  const levels = chain(failure);
  let node: FailureNode | null = null;
  for (const level of levels.reverse()) {
    node = { message: level.message ?? '', applicationType: level.applicationFailureInfo?.type || null, cause: node };
  }
  return node;
}

/** client/goals.ts `failureOf` on the failure of a closed run: the deepest words, the activity, the type. */
function failureSummary(levels: JsonFailure[]): FailureSummary {
  let type: string | null = null;
  let activity: string | null = null;
  for (const level of levels) {
    if (level.activityFailureInfo) activity ??= level.activityFailureInfo.activityType?.name ?? null;
    else if (level.applicationFailureInfo?.type) type = level.applicationFailureInfo.type;
    else if (level.terminatedFailureInfo) type = 'Terminated';
    else if (level.canceledFailureInfo) type = 'Cancelled';
    else if (level.timeoutFailureInfo) type ??= 'TimedOut';
  }
  const message = levels.at(-1)?.message ?? '';
  return { message: activity ? `${activity} failed: ${message}` : message, type };
}

/** The result a `GoalNotOk`/`SubtaskNotOk` failure carries in its first detail, as common/endings.ts reads it. */
function resultInFailure(levels: JsonFailure[]): { ok: boolean; reason?: string } | undefined {
  for (const level of levels.slice(0, FAILURE_DEPTH)) {
    const info = level.applicationFailureInfo;
    if (info?.type && RESULT_FAILURE_TYPES.has(info.type)) {
      return payloadValue(info.details?.payloads?.[0]) as { ok: boolean; reason?: string } | undefined;
    }
  }
  return undefined;
}

/** A search attribute as the SDK's typed search attributes read it: of the type registered, else absent. */
function attribute(fields: Record<string, JsonPayload> | undefined, name: string, type: 'Text' | 'Keyword' | 'Int') {
  const payload = fields?.[name];
  if (!payload || payloadType(payload) !== type) return null;
  let value = payloadValue(payload);
  if (Array.isArray(value)) {
    if (value.length > 1) return null;
    value = value[0];
  }
  if (type === 'Int') return Number.isInteger(value) ? (value as number) : null;
  return typeof value === 'string' ? value : null;
}

function listed(info: JsonExecutionInfo): ListedWorkflow {
  const fields = info.searchAttributes?.indexedFields;
  return {
    workflowId: info.execution?.workflowId ?? '',
    runId: info.execution?.runId ?? '',
    executionStatus: statusName(info.status),
    startTime: isoOfTimestamp(info.startTime ?? '', 'floor'),
    closeTime: info.closeTime ? isoOfTimestamp(info.closeTime, 'floor') : null,
    goal: attribute(fields, SEARCH_ATTRIBUTE_NAMES.goal, 'Text') as string | null,
    tandemStatus: attribute(fields, SEARCH_ATTRIBUTE_NAMES.status, 'Keyword') as string | null,
    key: attribute(fields, SEARCH_ATTRIBUTE_NAMES.key, 'Keyword') as string | null,
    planVersion: attribute(fields, SEARCH_ATTRIBUTE_NAMES.planVersion, 'Int') as number | null,
    tokens: attribute(fields, SEARCH_ATTRIBUTE_NAMES.tokens, 'Int') as number | null,
  };
}

/** A missing namespace, named as the SDK names it, so the CLI's connection errors word it the same way. */
class NamespaceNotFoundError extends Error {
  override name = 'NamespaceNotFoundError';
}

/** Runs `call`, turning the server's "no such namespace" into {@link NamespaceNotFoundError}. */
async function inNamespace<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof HttpApiError && err.detailTypes.some((type) => type.endsWith('.NamespaceNotFoundFailure'))) {
      throw new NamespaceNotFoundError(err.details);
    }
    throw err;
  }
}

/** Reads through the HTTP API at `api`. */
export function httpReader(api: HttpApi): WorkflowReader {
  const workflow = (workflowId: string) => `/workflows/${encodeURIComponent(workflowId)}`;
  const describeRaw = (workflowId: string) =>
    inNamespace(async () => {
      try {
        return await callHttpApi<JsonDescription>(api, workflow(workflowId));
      } catch (err) {
        if (
          err instanceof HttpApiError &&
          err.code === 5 &&
          err.detailTypes.some((t) => t.endsWith('.NotFoundFailure'))
        ) {
          throw noGoalWithId(workflowId);
        }
        throw err;
      }
    });

  /** The result a Canceled run wrote to its memo (common/endings.ts). */
  const memoResult = async (workflowId: string) => {
    const memo = (await describeRaw(workflowId)).workflowExecutionInfo?.memo?.fields?.[RESULT_MEMO_KEY];
    return memo ? (payloadValue(memo) as { ok: boolean; reason?: string } | undefined) : undefined;
  };

  return {
    async describe(workflowId): Promise<WorkflowView> {
      const raw = await describeRaw(workflowId);
      const info = raw.workflowExecutionInfo ?? {};
      return {
        workflowId: info.execution?.workflowId ?? workflowId,
        type: info.type?.name ?? '',
        executionStatus: statusName(info.status),
        taskQueue: info.taskQueue ?? '',
        parentWorkflowId: info.parentExecution?.workflowId ?? null,
        pendingActivities: (raw.pendingActivities ?? []).map((activity) => ({
          activityType: activity.activityType?.name ?? null,
          attempt: activity.attempt ?? 0,
          maximumAttempts: activity.maximumAttempts ?? 0,
          lastFailure: failureNode(activity.lastFailure),
          nextAttemptTime: activity.nextAttemptScheduleTime
            ? isoOfTimestamp(activity.nextAttemptScheduleTime, 'round')
            : null,
          heartbeat: activity.heartbeatDetails?.payloads?.[0]
            ? payloadValue(activity.heartbeatDetails.payloads[0])
            : undefined,
        })),
        pendingChildIds: (raw.pendingChildren ?? []).flatMap((child) => (child.workflowId ? [child.workflowId] : [])),
        pendingWorkflowTaskAttempt: raw.pendingWorkflowTask?.attempt ?? 0,
        finalProgress: payloadValue(info.memo?.fields?.[PROGRESS_MEMO_KEY]),
      };
    },

    async query<T>(workflowId: string, queryName: string, opts: QueryOptions): Promise<QueryOutcome<T>> {
      const body = opts.onlyIfOpen
        ? { query: {}, queryRejectCondition: 'QUERY_REJECT_CONDITION_NOT_OPEN' }
        : { query: {} };
      try {
        const answer = await inNamespace(() =>
          callHttpApi<{ queryResult?: { payloads?: JsonPayload[] }; queryRejected?: object }>(
            api,
            `${workflow(workflowId)}/query/${encodeURIComponent(queryName)}`,
            { body, timeoutMs: opts.deadlineMs, signal: opts.signal },
          ),
        );
        if (answer.queryRejected) return { answered: false };
        return { answered: true, value: payloadValue(answer.queryResult?.payloads?.[0]) as T };
      } catch (err) {
        // Cut off here, or by the server's own deadline (gRPC status 4, DEADLINE_EXCEEDED).
        if (err instanceof HttpApiDeadlineExceeded || (err instanceof HttpApiError && err.code === 4)) {
          throw new QueryDeadlineExceeded(err.message);
        }
        throw err;
      }
    },

    async runEnd(workflowId): Promise<RunEnd> {
      const { history } = await inNamespace(() =>
        callHttpApi<{ history?: { events?: JsonEvent[] } }>(api, `${workflow(workflowId)}/history`, {
          params: { historyEventFilterType: CLOSE_EVENT_FILTER },
        }),
      );
      const event = history?.events?.at(-1);
      if (event?.workflowExecutionCompletedEventAttributes) {
        const value = payloadValue(event.workflowExecutionCompletedEventAttributes.result?.payloads?.[0]);
        return endOfResult(value as { ok: boolean; reason?: string });
      }
      if (event?.workflowExecutionFailedEventAttributes) {
        const levels = chain(event.workflowExecutionFailedEventAttributes.failure);
        const carried = resultInFailure(levels);
        if (carried) return endOfResult(carried);
        const cancelled = levels.slice(0, FAILURE_DEPTH).some((level) => level.canceledFailureInfo);
        const memo = cancelled ? await memoResult(workflowId) : undefined;
        return memo ? endOfResult(memo) : endOfFailure(failureSummary(levels));
      }
      if (event?.workflowExecutionCanceledEventAttributes) {
        const memo = await memoResult(workflowId);
        return memo ? endOfResult(memo) : endOfFailure({ message: 'Workflow canceled', type: 'Cancelled' });
      }
      if (event?.workflowExecutionTerminatedEventAttributes) {
        const message = event.workflowExecutionTerminatedEventAttributes.reason || 'Workflow execution terminated';
        return endOfFailure({ message, type: 'Terminated' });
      }
      if (event?.workflowExecutionTimedOutEventAttributes) {
        return endOfFailure({ message: 'Workflow execution timed out', type: 'TimedOut' });
      }
      // Continued as new, or a close this reader does not know: the SDK follows and words those.
      throw new HttpApiUnavailable(`the close event of "${workflowId}" is not one this reader decodes`);
    },

    async lastWorkflowTaskFailure(workflowId): Promise<WorkflowTaskFailure | undefined> {
      const { history } = await inNamespace(() =>
        callHttpApi<{ history?: { events?: JsonEvent[] } }>(api, `${workflow(workflowId)}/history-reverse`, {
          params: { maximumPageSize: RECENT_EVENTS },
        }),
      );
      const failedTask = history?.events?.find(
        (event) => event.workflowTaskFailedEventAttributes,
      )?.workflowTaskFailedEventAttributes;
      if (!failedTask) return undefined;
      return {
        nonDeterministicCause: failedTask.cause === 'WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR',
        message: failedTask.failure?.message ?? 'no message',
      };
    },

    async pollerCount(taskQueue): Promise<number> {
      const answer = await inNamespace(() =>
        callHttpApi<{ pollers?: unknown[] }>(api, `/task-queues/${encodeURIComponent(taskQueue)}`),
      );
      return (answer.pollers ?? []).length;
    },

    async *list(query): AsyncIterable<ListedWorkflow> {
      let nextPageToken: string | undefined;
      do {
        const page = await inNamespace(() =>
          callHttpApi<{ executions?: JsonExecutionInfo[]; nextPageToken?: string }>(api, '/workflows', {
            params: { query, pageSize: 1_000, nextPageToken },
          }),
        );
        for (const info of page.executions ?? []) yield listed(info);
        nextPageToken = page.nextPageToken || undefined;
      } while (nextPageToken);
    },
  };
}
