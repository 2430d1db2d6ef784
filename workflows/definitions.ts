/**
 * The one home of tandem's wire contract: workflow messages (signals, queries, updates), their payload schemas,
 * the shared result types and the custom search attributes. Imported by workflows, activities and the client alike,
 * so it may import only `@temporalio/workflow`, `@temporalio/common` and pure libraries (zod).
 *
 * Names here travel over the wire and are scripted against with the `temporal` CLI: renaming one strands runs in flight.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';

/** Default task queue; the worker and client read `TANDEM_TASK_QUEUE` to override it. */
export const DEFAULT_TASK_QUEUE = 'tandem';

// ---------------------------------------------------------------------------------------------------------------------
// Tools

/** Every tool the executor knows. The activity-side registry is typed by this list, so the two cannot drift apart. */
export const TOOL_NAMES = ['calculator', 'write_file'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];
export const toolNameSchema = z.enum(TOOL_NAMES);

// ---------------------------------------------------------------------------------------------------------------------
// Model messages (the subset of OpenAI chat-completions tandem keeps in its transcripts)

export interface ToolCall {
  id: string;
  name: string;
  /** Raw JSON text exactly as the model produced it; it may be malformed, and the executor says so to the model. */
  arguments: string;
}

export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** Input of the `callModel` activity: the transcript so far (by reference) and the messages new since then. */
export interface CallModelInput {
  transcript: string | null;
  append: ChatMessage[];
  tools: ToolName[];
  /** Structured output: the reply must be JSON matching this JSON schema. */
  responseFormat?: { name: string; schema: Record<string, unknown> };
}

export interface CallModelOutput {
  /** Reference of the transcript extended by `append` and the model's reply. */
  transcript: string;
  content: string | null;
  toolCalls: ToolCall[];
  /** `stop`, `tool_calls`, `length` (cut off by the token limit), ... as the endpoint reports it. */
  finishReason: string;
  usage: TokenUsage;
}

// ---------------------------------------------------------------------------------------------------------------------
// Plans

export const subtaskBudgetSchema = z
  .object({
    maxSteps: z.number().int().positive().optional(),
    maxTokens: z.number().int().positive().optional(),
    maxSeconds: z.number().positive().optional(),
  })
  .strict();
export type SubtaskBudget = z.infer<typeof subtaskBudgetSchema>;

export const subtaskSchema = z
  .object({
    id: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9_-]{0,31}$/,
        'ids are 1-32 characters of a-z, 0-9, "_" or "-" (they become part of workflow ids)',
      ),
    title: z.string().min(1).max(120),
    instructions: z.string().min(1),
    milestone: z.string().min(1).describe('Acceptance criteria a reviewer can check against the result'),
    dependsOn: z.array(z.string()).default([]),
    tools: z.array(toolNameSchema).optional(),
    budget: subtaskBudgetSchema.optional(),
  })
  .strict();
export type Subtask = z.infer<typeof subtaskSchema>;

/** One version of the plan; every version is kept. */
export interface PlanVersion {
  version: number;
  /** Why this version exists: "initial plan", or the evidence that caused the replan. */
  reason: string;
  /** ISO time, from the workflow clock (deterministic on replay). */
  createdAt: string;
  subtasks: Subtask[];
}

/** What the planner model must return (structured output). */
export const planSchema = z.object({ subtasks: z.array(subtaskSchema).min(1) }).strict();
export type PlanDraft = z.infer<typeof planSchema>;

// ---------------------------------------------------------------------------------------------------------------------
// Executor

/** Input of one executor run: a subtask and nothing about the goal's other subtasks (the inner loop is pure of them). */
export interface ExecutorInput {
  subtask: Subtask;
  /** Folder name of the goal's workspace; file tools are confined to it. */
  workspace: string;
  /** Answers of the subtasks this one depends on, keyed by subtask id. */
  context?: Record<string, string>;
  /** Tools offered to the model; all built-in tools when absent. */
  tools?: ToolName[];
  maxSteps?: number;
}

export type ExecutorStatus = 'running' | 'done' | 'failed';

export interface ExecutorResult {
  ok: boolean;
  answer: string | null;
  reason?: 'max_steps' | 'model_error';
  steps: number;
  usage: TokenUsage;
  toolCalls: Array<{ step: number; name: string; arguments: string; ok: boolean }>;
  /** What the planner needs to judge the milestone: the answer and the observations that back it. */
  evidence: string;
}

export interface ExecutorProgress {
  subtaskId: string;
  status: ExecutorStatus;
  step: number;
  usage: TokenUsage;
}

// ---------------------------------------------------------------------------------------------------------------------
// Planner

export const goalInputSchema = z
  .object({
    goal: z
      .string()
      .trim()
      .min(1, 'the goal is empty: pass what you want done, e.g. tandem start "Compute 2+2 and save it to answer.txt"'),
    maxStepsPerSubtask: z.number().int().positive().optional(),
    /** Token budget of the whole goal (the CLI's --max-tokens); enforced by the planner. */
    maxTokens: z.number().int().positive().optional(),
    /** How many executors may run at once (the CLI's --max-parallel, TANDEM_MAX_PARALLEL). */
    maxParallel: z.number().int().positive().optional(),
  })
  .strict();
export type GoalInput = z.infer<typeof goalInputSchema>;

export type GoalStatus = 'planning' | 'running' | 'reporting' | 'completed' | 'failed';
export type SubtaskStatus = 'pending' | 'running' | 'done' | 'failed' | 'cancelled' | 'skipped';

export interface SubtaskProgress {
  id: string;
  title: string;
  status: SubtaskStatus;
  steps: number;
  workflowId: string;
  usage: TokenUsage;
}

export interface GoalProgress {
  status: GoalStatus;
  goal: string;
  plan: Subtask[];
  subtasks: SubtaskProgress[];
  usage: TokenUsage;
}

export interface GoalResult {
  ok: boolean;
  report: string;
  subtasks: Array<{ id: string; title: string; result: ExecutorResult }>;
  usage: TokenUsage;
}

// ---------------------------------------------------------------------------------------------------------------------
// Messages: the interrupt/replan channel (the only way in from outside) and the queries that read the tree.
//
// Signals only record what arrived; the loops act on it at defined points (see the README). Payloads are validated by
// the zod schemas below: a malformed signal is logged and dropped without touching the loop's state.

export const interruptPayloadSchema = z
  .object({
    message: z.string().trim().min(1, 'an interrupt needs a non-empty message'),
    /** On the planner: forward only to this subtask's executor; all running executors when absent. */
    subtaskId: z.string().optional(),
  })
  .strict();
export type InterruptPayload = z.infer<typeof interruptPayloadSchema>;

export const replanPayloadSchema = z
  .object({ evidence: z.string().trim().min(1, 'a replan needs evidence: say what is wrong with the current plan') })
  .strict();
export type ReplanPayload = z.infer<typeof replanPayloadSchema>;

export const cancelSubtaskPayloadSchema = z
  .object({ subtaskId: z.string().min(1), reason: z.string().trim().min(1, 'say why the subtask is cancelled') })
  .strict();
export type CancelSubtaskPayload = z.infer<typeof cancelSubtaskPayloadSchema>;

/** Planner and executor: a message for the model, delivered at the next input assembly. */
export const interruptSignal = defineSignal<[InterruptPayload]>('interrupt');
/** Planner and executor: stop before the next LLM call (the whole tree, on the planner) until `resume`. */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Planner: replan with this evidence at the next decision point. */
export const replanSignal = defineSignal<[ReplanPayload]>('replan');
/** Planner: cancel one subtask's executor; its partial result becomes evidence. */
export const cancelSubtaskSignal = defineSignal<[CancelSubtaskPayload]>('cancelSubtask');

/** Planner: replan now and return the new plan version; the validator refuses empty evidence or a finished goal. */
export const revisePlanUpdate = defineUpdate<PlanVersion, [ReplanPayload]>('revisePlan');

/** Executor → its parent planner after each step, so the planner's `progress` covers the whole tree in one query. */
export interface SubtaskStepReport {
  subtaskId: string;
  step: number;
  usage: TokenUsage;
}
export const subtaskProgressSignal = defineSignal<[SubtaskStepReport]>('subtaskProgress');

/** Planner and executor both answer `progress`; each returns its own shape. */
export const progressQuery = defineQuery<GoalProgress>('progress');
export const executorProgressQuery = defineQuery<ExecutorProgress>('progress');

// ---------------------------------------------------------------------------------------------------------------------
// Search attributes, registered on the dev server at start so the Web UI and `tandem list` can filter by them.

export const goalSearchAttribute = defineSearchAttributeKey('TandemGoal', SearchAttributeType.TEXT);
export const statusSearchAttribute = defineSearchAttributeKey('TandemStatus', SearchAttributeType.KEYWORD);
export const planVersionSearchAttribute = defineSearchAttributeKey('TandemPlanVersion', SearchAttributeType.INT);
export const tokensSearchAttribute = defineSearchAttributeKey('TandemTokens', SearchAttributeType.INT);
export const keySearchAttribute = defineSearchAttributeKey('TandemKey', SearchAttributeType.KEYWORD);

export const TANDEM_SEARCH_ATTRIBUTES = [
  goalSearchAttribute,
  statusSearchAttribute,
  planVersionSearchAttribute,
  tokensSearchAttribute,
  keySearchAttribute,
] as const;
