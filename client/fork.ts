/**
 * `tandem fork`: a new goal that starts where an original stood at a subtask's step (or at a plan version), built from
 * what the original recorded (docs/fork.md): its `progress`, its executors' histories and results, and the content
 * store. Nothing of the original changes, and none of its model or tool calls is made again: the fork's planner is
 * handed the plan, the finished subtasks and the resumed subtask's state as its input (common/fork.ts).
 */
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { contentStore } from '../activities/content-store';
import { loadTranscript } from '../activities/transcripts';
import { missingContent } from '../activities/workspace-sync';
import {
  type ExecutorSeed,
  type ForkedFrom,
  forkedFromLine,
  type ForkOrigin,
  INTERRUPT_LEAD,
  type KeptSubtask,
} from '../common/fork';
import { interruptPayloadSchema } from '../common/contract';
import { goalSearchAttributes, goalSummary } from '../common/goal-start';
import type { ChatMessage, ExecutorResult, GoalInput, GoalProgress, SubtaskProgress } from '../common/types';
import { loadConfig } from '../node/config';
import { GoalError, messageWithCauses } from '../node/errors';
import type { PlannerInput, plannerWorkflow } from '../workflows/planner/planner';
import { type ExecutorRecord, readExecutorRecord, stepRange, usageBefore, workspaceBefore } from './executor-record';
import { describeGoal, goalProgress, runResult } from './goals';
import { shellArg } from './shell-arg';

/** Where to fork and how: `tandem fork ID --subtask S --step N` or `--plan-version V`, with the optional flags. */
export interface ForkOptions {
  subtask?: string;
  step?: number;
  planVersion?: number;
  interrupt?: string;
  model?: string;
  id?: string;
}

/** A started fork: its id and where it came from. */
export interface StartedFork {
  id: string;
  forkedFrom: ForkedFrom;
}

/** Starts a fork of goal `originalId`; every refusal is a {@link GoalError} naming what is missing and what to do. */
export async function forkGoal(client: Client, originalId: string, opts: ForkOptions): Promise<StartedFork> {
  const target = forkTarget(originalId, opts);
  const interrupt = forkInterrupt(opts);
  if (opts.model !== undefined && !opts.model.trim()) {
    throw new GoalError(
      "--model is blank: name the model the fork's steps use, or leave it out for the configured one",
    );
  }
  const { description } = await describeGoal(client, originalId);
  const id = opts.id ?? `${originalId}-fork-${randomUUID().slice(0, 6)}`;
  await refuseTakenId(client, id);
  const progress = await goalProgress(client, originalId);
  const origin =
    target.kind === 'subtask'
      ? await subtaskFork(client, originalId, progress, target.subtask, target.step)
      : await planFork(client, originalId, progress, target.planVersion);
  if (origin.workspaceRef) await refuseMissingWorkspace(origin.workspaceRef, origin.forkedFrom);
  if (interrupt !== undefined) origin.interrupt = interrupt;
  const input: PlannerInput = {
    ...(await goalInputOf(client, originalId)),
    ...(opts.model ? { model: opts.model } : {}),
    fork: origin,
  };
  try {
    await client.workflow.start<typeof plannerWorkflow>('plannerWorkflow', {
      workflowId: id,
      // The original's queue: its workers are the ones that know its tools and model.
      taskQueue: description.taskQueue,
      args: [input],
      staticSummary: goalSummary(input.goal),
      staticDetails: forkedFromLine(origin.forkedFrom),
      typedSearchAttributes: goalSearchAttributes(input.goal),
      // A closed workflow under the id counts as taken too: its history is someone's record.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw takenId(id);
    throw new GoalError(`could not start the fork "${id}": ${messageWithCauses(err)}`);
  }
  return { id, forkedFrom: origin.forkedFrom };
}

type Target = { kind: 'subtask'; subtask: string; step: number } | { kind: 'plan'; planVersion: number };

function forkTarget(originalId: string, opts: ForkOptions): Target {
  const goal = shellArg(originalId);
  if (opts.planVersion !== undefined) {
    if (opts.subtask !== undefined || opts.step !== undefined) {
      throw new GoalError('--plan-version forks the planner; pass it alone, or --subtask S --step N for a subtask');
    }
    return { kind: 'plan', planVersion: opts.planVersion };
  }
  if (opts.subtask === undefined || opts.step === undefined) {
    throw new GoalError(
      `name where to fork: --subtask S --step N (steps: tandem transcript ${goal} S), or --plan-version V ` +
        `(versions: tandem history ${goal})`,
    );
  }
  return { kind: 'subtask', subtask: opts.subtask, step: opts.step };
}

/**
 * The fork's `--interrupt`, held to the rules of `tandem interrupt` (not blank, at most the interrupt limit): a blank
 * one (`--interrupt "$MSG"` with `MSG` unset) was dropped in silence, and the person believed the fork corrected.
 */
function forkInterrupt(opts: ForkOptions): string | undefined {
  if (opts.interrupt === undefined) return undefined;
  const parsed = interruptPayloadSchema.safeParse({ message: opts.interrupt });
  if (!parsed.success) throw new GoalError(`--interrupt: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data.message;
}

function takenId(id: string): GoalError {
  return new GoalError(`the id "${id}" is taken (a workflow with it exists); choose another --id`);
}

async function refuseTakenId(client: Client, id: string): Promise<void> {
  try {
    await client.workflow.getHandle(id).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return;
    throw err;
  }
  throw takenId(id);
}

async function refuseMissingWorkspace(workspaceRef: string, from: ForkedFrom): Promise<void> {
  const missing = await missingContent(contentStore(loadConfig().store), workspaceRef);
  if (missing.length === 0) return;
  throw new GoalError(
    `the workspace of ${from.id} as it was at the fork's point (${forkedFromLine(from).replace(/^forked from \S+ /, '')}) ` +
      `is gone from the store: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''} ` +
      'missing; fork at a step whose files the store still holds, or check that TANDEM_STORE_URL is the one the ' +
      "original's workers used",
  );
}

/** A planner input without a continuation's state or a fork's origin (the planner's own `goalFieldsOf`). */
const goalFields = ({ continued: _state, fork: _origin, ...fields }: PlannerInput): GoalInput => fields;

/** The original's goal input as it was started (every run's input carries it, next to a continuation's state). */
async function goalInputOf(client: Client, id: string): Promise<GoalInput> {
  const history = await client.workflow.getHandle(id).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new GoalError(`goal "${id}" has no recorded input; it cannot be forked`);
  return goalFields(JSON.parse(Buffer.from(payload.data ?? new Uint8Array()).toString('utf8')) as PlannerInput);
}

/** An executor's result; a run still going has none yet, and a fork of it would race it. */
async function closedResult(client: Client, workflowId: string, what: string): Promise<ExecutorResult> {
  const handle = client.workflow.getHandle(workflowId);
  const { status } = await handle.describe();
  if (status.name === 'RUNNING') {
    throw new GoalError(`${what} (${workflowId}) is still running: wait for it to end, or cancel it, then fork`);
  }
  const ended = await runResult<ExecutorResult>(handle);
  if ('error' in ended) throw new GoalError(`${what} (${workflowId}) closed without a result; it cannot be forked`);
  return ended.result;
}

/** The subtasks done (milestone met) whose executors closed before `beforeMs`, with their results and verdicts. */
async function keptSubtasks(
  client: Client,
  subtasks: SubtaskProgress[],
  beforeMs: number,
): Promise<{ kept: KeptSubtask[]; records: ExecutorRecord[] }> {
  const kept: KeptSubtask[] = [];
  const records: ExecutorRecord[] = [];
  for (const subtask of subtasks) {
    if (subtask.status !== 'done' || !subtask.verdict?.met) continue;
    const { closeTime } = await client.workflow.getHandle(subtask.workflowId).describe();
    if (!closeTime || closeTime.getTime() > beforeMs) continue;
    const result = await closedResult(client, subtask.workflowId, `subtask ${subtask.id}`);
    kept.push({ id: subtask.id, workflowId: subtask.workflowId, result, verdict: subtask.verdict });
    records.push(await readExecutorRecord(client, subtask.workflowId));
  }
  return { kept, records };
}

/** The latest workspace any of `records` left (their last write, else what their seed started from). */
function latestWorkspace(records: ExecutorRecord[]): string | undefined {
  const writes = records.flatMap((record) => record.writes);
  writes.sort((a, b) => a.atMs - b.atMs);
  return writes.at(-1)?.workspaceRef ?? records.find((record) => record.seed?.workspaceRef)?.seed?.workspaceRef;
}

async function subtaskFork(
  client: Client,
  originalId: string,
  progress: GoalProgress,
  subtaskId: string,
  step: number,
): Promise<ForkOrigin> {
  const entry = progress.subtasks.find((subtask) => subtask.id === subtaskId);
  if (!entry) {
    const known = progress.subtasks.map((subtask) => subtask.id);
    throw new GoalError(
      `goal "${originalId}" has no subtask "${subtaskId}" in its plan v${progress.planVersion}` +
        (known.length ? `; its subtasks: ${known.join(', ')}` : ': it has no plan'),
    );
  }
  if (entry.status === 'pending' || entry.status === 'skipped') {
    throw new GoalError(`subtask ${subtaskId} of "${originalId}" never ran: there is no step to fork at`);
  }
  const record = await readExecutorRecord(client, entry.workflowId);
  const seed = await seedAt(client, record, subtaskId, step, originalId);
  const { kept, records } = await keptSubtasks(
    client,
    progress.subtasks.filter((subtask) => subtask.id !== subtaskId),
    record.startedMs,
  );
  seed.workspaceRef ??= latestWorkspace(records);
  return {
    forkedFrom: { id: originalId, subtask: subtaskId, step },
    plans: progress.versions,
    kept,
    resume: { subtaskId, seed },
    ...(seed.workspaceRef ? { workspaceRef: seed.workspaceRef } : {}),
  };
}

/**
 * The state executor `record` was in before its step `step`. A fork's resumed run holds only the steps after its
 * seed: an earlier step is read from the run the seed came from (a fork of a fork names its steps as the first did).
 */
async function seedAt(
  client: Client,
  record: ExecutorRecord,
  subtaskId: string,
  step: number,
  originalId: string,
): Promise<ExecutorSeed> {
  if (record.seed && step <= record.seed.step) {
    return seedAt(client, await readExecutorRecord(client, record.seed.from), subtaskId, step, originalId);
  }
  const result = await closedResult(client, record.workflowId, `subtask ${subtaskId}`);
  const recorded = record.steps.get(step);
  if (!recorded) {
    const range = stepRange(record);
    const first = record.seed ? 1 : (range?.first ?? 1);
    throw new GoalError(
      `subtask ${subtaskId} of "${originalId}" has no step ${step}` +
        (range ? `: its steps are ${first}-${range.last}` : ': it made no model call') +
        `; see them with: tandem transcript ${shellArg(originalId)} ${shellArg(subtaskId)}`,
    );
  }
  const { transcript, append } = recorded.input;
  const store = contentStore(loadConfig().store);
  // Step N read step N−1's observations first, then the interrupts that had come: the fork keeps the former.
  const observations =
    transcript === null ? [] : append.filter((m) => !(m.role === 'user' && m.content.startsWith(INTERRUPT_LEAD)));
  const before = transcript === null ? [] : await loadTranscript(store, transcript);
  const workspaceRef = workspaceBefore(record, step);
  return {
    from: record.workflowId,
    step: step - 1,
    transcript,
    observations,
    usage: usageBefore(record, step),
    elapsedMs: recorded.scheduledMs - record.startedMs + (record.seed?.elapsedMs ?? 0),
    toolCalls: result.toolCalls.filter((call) => call.step < step),
    evidence: evidenceOf([...before, ...observations]),
    ...(workspaceRef ? { workspaceRef } : {}),
  };
}

/** The evidence lines the executor wrote for these messages: each tool call with what it returned, each interrupt. */
function evidenceOf(messages: ChatMessage[]): string[] {
  const outputs = new Map(messages.flatMap((m) => (m.role === 'tool' ? [[m.toolCallId, m.content] as const] : [])));
  return messages.flatMap((message) => {
    if (message.role === 'user' && message.content.startsWith(INTERRUPT_LEAD)) {
      return [`interrupt: ${message.content.slice(INTERRUPT_LEAD.length)}`];
    }
    if (message.role !== 'assistant') return [];
    return (message.toolCalls ?? []).map((call) => `${call.name}(${call.arguments}) → ${outputs.get(call.id) ?? ''}`);
  });
}

async function planFork(
  client: Client,
  originalId: string,
  progress: GoalProgress,
  planVersion: number,
): Promise<ForkOrigin> {
  const plan = progress.versions[planVersion - 1];
  if (!plan) {
    throw new GoalError(
      `goal "${originalId}" has no plan v${planVersion}` +
        (progress.planVersion ? `: its versions are 1-${progress.planVersion}` : ': it has no plan') +
        `; see them with: tandem history ${shellArg(originalId)}`,
    );
  }
  // The plan as it was adopted: what had finished by then is kept, the rest of it runs again.
  const ids = new Set(plan.subtasks.map((subtask) => subtask.id));
  const { kept, records } = await keptSubtasks(
    client,
    progress.subtasks.filter((subtask) => ids.has(subtask.id)),
    Date.parse(plan.createdAt),
  );
  const workspaceRef = latestWorkspace(records);
  return {
    forkedFrom: { id: originalId, planVersion },
    plans: progress.versions.slice(0, planVersion),
    kept,
    ...(workspaceRef ? { workspaceRef } : {}),
  };
}
