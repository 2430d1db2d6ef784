/**
 * The OpenTelemetry side of ./tracing.ts, loaded only when an OTLP endpoint is set: a tracer provider of its own (the
 * process-wide one is left to the application), a batch processor, and the OTLP/HTTP exporter for the protocol asked.
 */
import { type Attributes, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type IdGenerator, RandomIdGenerator, TracerProvider } from '@opentelemetry/sdk-trace';
import type { GoalEnded, SubtaskEnded } from '../common/tracing';
import type { TracingConfig } from '../node/config';
import {
  type ActivitySpanSpec,
  costAttributes,
  planVersionSpanId,
  type SpanPlace,
  spanPlaceOf,
  temporalAttributes,
  type TracedWorkflow,
  type Tracing,
} from './tracing';

/**
 * Random ids, except for the one span being started by {@link FixedIds.startWith}: goal, plan version and subtask
 * spans get the ids their children already point at (./tracing.ts derives them from workflow ids).
 */
class FixedIds implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  private next: { traceId: string; spanId: string } | undefined;

  generateTraceId(): string {
    return this.next?.traceId ?? this.random.generateTraceId();
  }

  generateSpanId(): string {
    return this.next?.spanId ?? this.random.generateSpanId();
  }

  /** Runs `start` (synchronous, so no other span can take the ids) with the ids of `place`. */
  startWith<T>(place: SpanPlace, start: () => T): T {
    this.next = { traceId: place.traceId, spanId: place.spanId };
    try {
      return start();
    } finally {
      this.next = undefined;
    }
  }
}

/** A context whose current span is `parent`: a remote span context, since its span is exported by another call. */
function parentContext(traceId: string, spanId: string | undefined) {
  if (spanId === undefined) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
}

/** The failure type Temporal sorts on (`ApplicationFailure.type`), else the error's class name. */
function errorType(err: unknown): string {
  if (err instanceof Error) return (err as Error & { type?: string }).type ?? err.name;
  return typeof err;
}

export function openTelemetryTracing(config: TracingConfig & { tracesURL: string }): Tracing {
  const exporter =
    config.protocol === 'http/json'
      ? new JsonTraceExporter({ url: config.tracesURL })
      : new ProtobufTraceExporter({ url: config.tracesURL });
  const ids = new FixedIds();
  const provider = new TracerProvider({
    // OTEL_RESOURCE_ATTRIBUTES count as everywhere; the service name is the one the configuration resolved.
    resource: detectResources({ detectors: [envDetector] }).merge(
      resourceFromAttributes({ 'service.name': config.serviceName }),
    ),
    idGenerator: ids,
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('tandem');

  /** Exports one span of a workflow at `place`, from `start` to `endMs`. */
  const workflowSpan = (
    name: string,
    place: SpanPlace,
    start: Date | number,
    endMs: number,
    attributes: Attributes,
  ) => {
    const span = ids.startWith(place, () =>
      tracer.startSpan(
        name,
        { kind: SpanKind.INTERNAL, startTime: start, attributes },
        parentContext(place.traceId, place.parentSpanId),
      ),
    );
    if (attributes['error.type'] !== undefined) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(endMs);
  };

  return {
    captureContent: config.captureContent,

    async activitySpan(spec: ActivitySpanSpec, run, describe) {
      const span = tracer.startSpan(
        spec.name,
        { kind: spec.kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes: spec.attributes },
        parentContext(spec.parent.traceId, spec.parent.spanId),
      );
      try {
        const outcome = await run();
        try {
          const described = await describe(outcome);
          span.setAttributes(described);
          if (described['error.type'] !== undefined) span.setStatus({ code: SpanStatusCode.ERROR });
        } catch (err) {
          // A span is telemetry: failing to read what it would show must not fail the call it describes.
          span.setAttribute('tandem.trace.problem', String(err));
        }
        return outcome;
      } catch (err) {
        span.recordException(err instanceof Error ? err : String(err));
        span.setAttribute('error.type', errorType(err));
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        span.end();
      }
    },

    goalEnded(workflow: TracedWorkflow, ended: GoalEnded) {
      const goal = spanPlaceOf(workflow.workflowType, workflow.workflowId);
      const common = { ...temporalAttributes(workflow), 'tandem.goal.id': workflow.workflowId };
      workflowSpan('invoke_agent planner', goal, workflow.startTime, ended.endedMs, {
        ...common,
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'planner',
        'tandem.ending': ended.ending,
        'tandem.plan.versions': ended.plans.length,
        ...costAttributes(ended.costUsd),
        ...(ended.ok ? {} : { 'error.type': ended.ending }),
      });
      ended.plans.forEach((plan, i) => {
        const place = {
          traceId: goal.traceId,
          spanId: planVersionSpanId(workflow.workflowId, plan.version),
          parentSpanId: goal.spanId,
        };
        workflowSpan(`plan v${plan.version}`, place, plan.createdMs, ended.plans[i + 1]?.createdMs ?? ended.endedMs, {
          ...common,
          'tandem.plan.version': plan.version,
          'tandem.plan.reason': plan.reason,
          'tandem.plan.subtasks': plan.subtasks,
        });
      });
    },

    subtaskEnded(workflow: TracedWorkflow, ended: SubtaskEnded) {
      const place = spanPlaceOf(workflow.workflowType, workflow.workflowId);
      workflowSpan('invoke_agent executor', place, workflow.startTime, ended.endedMs, {
        ...temporalAttributes(workflow),
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'executor',
        'tandem.subtask.id': ended.subtaskId,
        'tandem.subtask.title': ended.title,
        'tandem.ending': ended.ending,
        'tandem.steps': ended.steps,
        ...costAttributes(ended.costUsd),
        ...(ended.ok ? {} : { 'error.type': ended.ending }),
      });
    },

    shutdown: () => provider.shutdown(),
  };
}
