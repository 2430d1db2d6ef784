/**
 * OpenTelemetry traces of goals (docs/tracing.md): one trace per goal, with a span for the goal, each plan version,
 * each subtask, each model call and each tool call, named and attributed by the GenAI semantic conventions.
 *
 * Why spans come only from activities and from the trace sink, never from workflow code: an activity attempt runs
 * once (a completed activity is never run again on replay), and the sink (common/tracing.ts) is not called while the
 * worker replays history. Temporal's `@temporalio/interceptors-opentelemetry` makes workflow spans inside the sandbox
 * and exports them through a sink too, but its spans are per workflow run and per Temporal call (RunWorkflow,
 * StartActivity), not per goal, plan version or subtask; it needs interceptor modules in the workflow bundle; it pins
 * the 1.x OpenTelemetry SDK; and one of its versions broke replay (sdk-typescript #2023). Here no workflow code is
 * traced at all, so tracing cannot change what a replay does.
 *
 * What makes one trace per goal without passing a trace context through history: every id is derived from workflow
 * ids. The trace id hashes the goal's workflow id; an executor's id is `<goal id>.v<plan version>.<subtask id>`
 * (workflows/planner/goal-children.ts), so its activities find their goal, their plan version and their subtask span
 * from their own workflow id. An executor started alone is a trace of its own.
 *
 * This module loads nothing of OpenTelemetry: {@link loadTracing} imports ./tracing-otel.ts only when an endpoint is
 * set, so a worker without one pays one `undefined` check per activity.
 */
import { Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import type { GoalEnded, SubtaskEnded } from '../common/tracing';
import type { CallModelInput, CallModelOutput, ChatMessage } from '../common/types';
import { endpointFor, ROLE_OF_PURPOSE, type TracingConfig } from '../node/config';
import { pricedUsage } from '../common/cost';
import type { TokenUsage } from '../common/usage';
import type { ActivityDeps } from './deps';
import { loadPrices } from './prices';
import { fullArguments } from './large-arguments';
import type { RunToolInput, ToolObservation } from './run-tool';
import { loadTranscript } from './transcripts';

/** Attribute values as OpenTelemetry takes them (kept here so this module needs no OpenTelemetry types). */
export type SpanAttributes = Record<string, string | number | boolean | string[]>;

/** What a workflow's span is known by: its trace, its own span id, and its parent's. */
export interface SpanPlace {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

/** A span an activity attempt runs in: its name, kind and the attributes known before the work starts. */
export interface ActivitySpanSpec {
  name: string;
  kind: 'client' | 'internal';
  attributes: SpanAttributes;
  /** Where the span hangs: its parent is the span of the workflow that scheduled the activity. */
  parent: SpanPlace;
}

/** The workflow fields a trace sink call comes with (the SDK's `WorkflowInfo`, as far as spans need it). */
export interface TracedWorkflow {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** The run chain's start (a continue-as-new keeps it). */
  startTime: Date;
}

/** The exporter side, implemented in ./tracing-otel.ts. */
export interface Tracing {
  readonly captureContent: boolean;
  /** Runs `run` in a span; `describe` adds what the outcome tells (tokens, the response). A throw ends it as an error. */
  activitySpan<T>(
    spec: ActivitySpanSpec,
    run: () => Promise<T>,
    describe: (outcome: T) => Promise<SpanAttributes>,
  ): Promise<T>;
  goalEnded(workflow: TracedWorkflow, ended: GoalEnded): void;
  subtaskEnded(workflow: TracedWorkflow, ended: SubtaskEnded): void;
  /** Exports what is buffered; the worker calls it after it stops. */
  shutdown(): Promise<void>;
}

/** The exporter for `config`, or undefined when no endpoint is set (nothing of OpenTelemetry is loaded then). */
export async function loadTracing(config: TracingConfig): Promise<Tracing | undefined> {
  if (config.tracesURL === undefined) return undefined;
  const { openTelemetryTracing } = await import('./tracing-otel');
  return openTelemetryTracing({ ...config, tracesURL: config.tracesURL });
}

function hexId(seed: string, chars: 16 | 32): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, chars);
}

/** Matches a child executor's id, `<goal id>.v<plan version>.<subtask id>` (subtask ids as common/types.ts allows). */
const CHILD_EXECUTOR_ID = /^(.+)\.v(\d+)\.([a-z0-9][a-z0-9_-]{0,31})$/;

/**
 * Where the span of workflow `workflowId` (of type `workflowType`) is: a planner is its goal's root span; a child
 * executor is a subtask span under its plan version's span; an executor started alone is the root of its own trace.
 */
export function spanPlaceOf(workflowType: string | undefined, workflowId: string): SpanPlace {
  const child = workflowType === 'executorWorkflow' ? CHILD_EXECUTOR_ID.exec(workflowId) : null;
  if (workflowType === 'executorWorkflow') {
    return {
      traceId: hexId(`tandem trace ${child ? child[1] : workflowId}`, 32),
      spanId: hexId(`tandem subtask ${workflowId}`, 16),
      ...(child ? { parentSpanId: planVersionSpanId(child[1], Number(child[2])) } : {}),
    };
  }
  return { traceId: hexId(`tandem trace ${workflowId}`, 32), spanId: hexId(`tandem goal ${workflowId}`, 16) };
}

/** The span id of plan version `version` of goal `goalId`, a child of the goal's span. */
export function planVersionSpanId(goalId: string, version: number): string {
  return hexId(`tandem plan ${goalId} v${version}`, 16);
}

/** The Temporal attributes every tandem span carries (names as Temporal's own interceptors' docs spell them). */
export function temporalAttributes(workflow: { workflowId: string; runId: string; workflowType: string }) {
  return {
    'temporal.workflow_id': workflow.workflowId,
    'temporal.run_id': workflow.runId,
    'temporal.workflow_type': workflow.workflowType,
  };
}

/** The span of the current activity attempt: named `name`, under the span of the workflow that scheduled it. */
function activitySpec(name: string, kind: ActivitySpanSpec['kind'], attributes: SpanAttributes): ActivitySpanSpec {
  const { info } = Context.current();
  const workflowId = info.workflowExecution?.workflowId ?? info.activityId;
  return {
    name,
    kind,
    parent: spanPlaceOf(info.workflowType, workflowId),
    attributes: {
      ...temporalAttributes({
        workflowId,
        runId: info.workflowExecution?.runId ?? '',
        workflowType: info.workflowType ?? '',
      }),
      'temporal.activity_id': info.activityId,
      'temporal.activity_type': info.activityType,
      'temporal.activity.attempt': info.attempt,
      ...attributes,
    },
  };
}

/**
 * The cost attributes of a span from a usage's `costUsd` (docs/tracing.md): `tandem.cost.usd` when priced,
 * `tandem.cost.unknown` when a model had no price, nothing when the goal counts no cost (started before prices).
 */
export function costAttributes(costUsd: number | null | undefined): SpanAttributes {
  if (costUsd === undefined) return {};
  return costUsd === null ? { 'tandem.cost.unknown': true } : { 'tandem.cost.usd': costUsd };
}

/**
 * What one call cost by the worker's price table now (activities/prices.ts). The goal's `usage.costUsd` is priced by
 * the table the goal read at its start, so the two differ only for a price file edited while the goal ran. A table
 * that cannot be read leaves the span without a cost: the call itself succeeded and must not fail for it.
 */
async function callCost(deps: ActivityDeps, usage: TokenUsage, model: string): Promise<SpanAttributes> {
  const loaded = await loadPrices(deps.config).catch(() => undefined);
  return loaded ? costAttributes(pricedUsage(usage, model, loaded.prices).costUsd) : {};
}

/** GenAI message parts (the conventions' `gen_ai.input.messages` shape), for content capture only. */
function genAiMessage(message: ChatMessage): Record<string, unknown> {
  if (message.role === 'tool') {
    return { role: 'tool', parts: [{ type: 'tool_call_response', id: message.toolCallId, response: message.content }] };
  }
  const parts: Record<string, unknown>[] = [];
  if (message.role === 'assistant' && message.reasoning) parts.push({ type: 'reasoning', content: message.reasoning });
  if (message.content) parts.push({ type: 'text', content: message.content });
  if (message.role === 'assistant') {
    for (const call of message.toolCalls ?? []) {
      parts.push({ type: 'tool_call', id: call.id, name: call.name, arguments: call.arguments });
    }
  }
  return { role: message.role, parts };
}

/** The endpoint's URL, for `server.address`; none when unset or unreadable (the call itself then fails and says why). */
function urlOf(baseURL: string | undefined): URL | undefined {
  try {
    return baseURL ? new URL(baseURL) : undefined;
  } catch {
    return undefined;
  }
}

/** A span about to start: its spec, and what adds the outcome's attributes when it ends. */
interface PlannedSpan<T> {
  spec: ActivitySpanSpec;
  describe: (outcome: T) => Promise<SpanAttributes>;
}

/**
 * An activity's tracing wrapper: with tracing on, runs the attempt in the span `plan` gives; with it off, runs it as
 * it is, at the cost of one `undefined` check (`plan` is not called).
 */
function tracedActivity<I, T>(
  plan: (tracing: Tracing, deps: ActivityDeps, input: I) => Promise<PlannedSpan<T>>,
): (deps: ActivityDeps, input: I, run: () => Promise<T>) => Promise<T> {
  return async (deps, input, run) => {
    const { tracing } = deps;
    if (!tracing) return run();
    const { spec, describe } = await plan(tracing, deps, input);
    return tracing.activitySpan(spec, run, describe);
  };
}

/** One `callModel` attempt in a `chat <model>` span (CLIENT: the model is a remote service). */
export const traceModelCall = tracedActivity<CallModelInput, CallModelOutput>(async (tracing, deps, input) => {
  const endpoint = endpointFor(deps.config.model, ROLE_OF_PURPOSE[input.purpose]);
  const model = input.model ?? endpoint.model;
  const server = urlOf(endpoint.baseURL);
  const spec = activitySpec(`chat ${model}`, 'client', {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': model,
    ...(server ? { 'server.address': server.hostname } : {}),
    ...(server?.port ? { 'server.port': Number(server.port) } : {}),
    'tandem.purpose': input.purpose,
    ...(input.subtaskId ? { 'tandem.subtask.id': input.subtaskId } : {}),
  });
  const describe = async (output: CallModelOutput): Promise<SpanAttributes> => {
    const messages = tracing.captureContent ? await loadTranscript(deps.store, output.transcript) : [];
    return {
      'gen_ai.response.model': output.responseModel ?? model,
      'gen_ai.usage.input_tokens': output.usage.promptTokens,
      'gen_ai.usage.output_tokens': output.usage.completionTokens,
      'gen_ai.response.finish_reasons': [output.finishReason],
      ...(output.usage.estimated ? { 'tandem.usage.estimated': true } : {}),
      ...(await callCost(deps, output.usage, output.model ?? model)),
      ...(tracing.captureContent
        ? {
            'gen_ai.input.messages': JSON.stringify(messages.slice(0, -1).map(genAiMessage)),
            'gen_ai.output.messages': JSON.stringify(
              messages.slice(-1).map((message) => ({ ...genAiMessage(message), finish_reason: output.finishReason })),
            ),
          }
        : {}),
    };
  };
  return { spec, describe };
});

/** One `runTool` attempt in an `execute_tool <name>` span; a tool's error observation marks the span an error. */
export const traceToolCall = tracedActivity<RunToolInput, ToolObservation>(async (tracing, deps, input) => {
  const spec = activitySpec(`execute_tool ${input.call.name}`, 'internal', {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': input.call.name,
    'gen_ai.tool.call.id': input.call.id,
    'gen_ai.tool.type': input.mcp ? 'extension' : 'function',
    ...(input.mcp ? { 'tandem.mcp.server': input.mcp.server } : {}),
    ...(tracing.captureContent ? { 'gen_ai.tool.call.arguments': await fullArguments(deps.store, input.call) } : {}),
  });
  const describe = async (observation: ToolObservation): Promise<SpanAttributes> => ({
    'tandem.tool.ok': observation.ok,
    ...(observation.ok ? {} : { 'error.type': 'tool_error' }),
    ...(observation.outcomeUnknown ? { 'tandem.tool.outcome_unknown': true } : {}),
    ...(tracing.captureContent
      ? {
          'gen_ai.tool.call.result': observation.outputRef
            ? await deps.store.get(observation.outputRef)
            : observation.output,
        }
      : {}),
  });
  return { spec, describe };
});
