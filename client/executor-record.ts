/**
 * What an executor recorded in its workflow history, step by step, for `tandem fork`: each step's model call (the
 * conversation it was sent, by reference, and the messages new to it), what it cost, and the workspace manifest after
 * each side-effecting tool call. Read from history only: nothing is asked of a worker or a model.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, tsToMs } from '@temporalio/common';
import type { ExecutorSeed } from '../common/fork';
import type { CallModelInput, CallModelOutput, ExecutorInput } from '../common/types';
import { addUsage, type TokenUsage, zeroUsage } from '../common/usage';

/** One step's model call as history holds it. */
export interface RecordedStep {
  step: number;
  /** The call's input: the conversation before it (reference) and the messages appended for it. */
  input: CallModelInput;
  usage: TokenUsage;
  /** When the call was scheduled (epoch ms). */
  scheduledMs: number;
}

/** A side-effecting tool call's workspace manifest, at its step and completion time. */
export interface RecordedWrite {
  step: number;
  atMs: number;
  workspaceRef: string;
}

/** An executor's recorded run, every continue-as-new run of it together. */
export interface ExecutorRecord {
  workflowId: string;
  /** The seed its first run started from, when it was a fork's resumed subtask. */
  seed?: ExecutorSeed;
  startedMs: number;
  /** Its model steps by number (a fork's resumed run starts after its seed's steps). */
  steps: Map<number, RecordedStep>;
  writes: RecordedWrite[];
}

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];
type Payload = NonNullable<NonNullable<HistoryEvent['userMetadata']>['summary']>;

function decode<T>(payloads: { payloads?: Payload[] | null } | null | undefined): T | undefined {
  const first = payloads?.payloads?.[0];
  return first ? defaultPayloadConverter.fromPayload<T>(first) : undefined;
}

/** The events of every run of `workflowId`, oldest run first (a continue-as-new chain, followed backwards). */
async function eventsOf(client: Client, workflowId: string): Promise<HistoryEvent[][]> {
  const runs: HistoryEvent[][] = [];
  for (let runId: string | undefined = undefined; ;) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events: HistoryEvent[] = history.events ?? [];
    runs.unshift(events);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
    if (!runId) return runs;
  }
}

const STEP_SUMMARY = /^LLM step (\d+)$/;

/** Reads what executor `workflowId` recorded. */
export async function readExecutorRecord(client: Client, workflowId: string): Promise<ExecutorRecord> {
  const runs = await eventsOf(client, workflowId);
  const started = runs[0][0];
  const input = decode<ExecutorInput>(started?.workflowExecutionStartedEventAttributes?.input);
  const record: ExecutorRecord = {
    workflowId,
    ...(input?.seed ? { seed: input.seed } : {}),
    startedMs: tsToMs(started?.eventTime),
    steps: new Map(),
    writes: [],
  };
  for (const events of runs) {
    // Scheduled activities by event id, so a completion finds its step.
    const scheduled = new Map<string, { kind: 'step'; step: RecordedStep } | { kind: 'tool'; step: number }>();
    for (const event of events) {
      const attributes = event.activityTaskScheduledEventAttributes;
      if (attributes) {
        const type = attributes.activityType?.name;
        const id = String(event.eventId);
        if (type === 'callModel') {
          const summary = decode<string>({ payloads: event.userMetadata?.summary ? [event.userMetadata.summary] : [] });
          const number = STEP_SUMMARY.exec(summary ?? '')?.[1];
          const callInput = decode<CallModelInput>(attributes.input);
          if (number === undefined || !callInput) continue;
          const step: RecordedStep = {
            step: Number(number),
            input: callInput,
            usage: zeroUsage(),
            scheduledMs: tsToMs(event.eventTime),
          };
          record.steps.set(step.step, step);
          scheduled.set(id, { kind: 'step', step });
        } else if (type === 'runTool') {
          const callKey = decode<{ callKey: string }>(attributes.input)?.callKey ?? '';
          // The call key ends in /<step>/<call id> (workflows/executor/execution.ts).
          scheduled.set(id, { kind: 'tool', step: Number(callKey.split('/').at(-2)) });
        }
      }
      const completed = event.activityTaskCompletedEventAttributes;
      const of = completed && scheduled.get(String(completed.scheduledEventId));
      if (!completed || !of) continue;
      if (of.kind === 'step') {
        addUsage(of.step.usage, decode<CallModelOutput>(completed.result)?.usage ?? zeroUsage());
      } else {
        const workspaceRef = decode<{ workspaceRef?: string }>(completed.result)?.workspaceRef;
        if (workspaceRef) record.writes.push({ step: of.step, atMs: tsToMs(event.eventTime), workspaceRef });
      }
    }
  }
  return record;
}

/** The step numbers the record holds, lowest and highest (a fork's resumed run starts after its seed). */
export function stepRange(record: ExecutorRecord): { first: number; last: number } | undefined {
  const numbers = [...record.steps.keys()];
  return numbers.length === 0 ? undefined : { first: Math.min(...numbers), last: Math.max(...numbers) };
}

/** Tokens of the steps before `step`, the seed's included. */
export function usageBefore(record: ExecutorRecord, step: number): TokenUsage {
  const total = { ...(record.seed?.usage ?? zeroUsage()) };
  for (const recorded of record.steps.values()) if (recorded.step < step) addUsage(total, recorded.usage);
  return total;
}

/**
 * The workspace manifest after the tool calls of the steps before `step`: the latest such write of this run, else
 * the workspace its seed started from (undefined: it wrote nothing before).
 */
export function workspaceBefore(record: ExecutorRecord, step: number): string | undefined {
  const writes = record.writes.filter((write) => write.step < step);
  return writes.at(-1)?.workspaceRef ?? record.seed?.workspaceRef;
}
