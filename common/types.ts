/**
 * The shapes tandem's loops exchange: model messages, plans, executor and goal inputs, progress and results, with the
 * zod schemas that validate the ones that arrive from outside (the model, the CLI). Sandbox-safe: pure types and zod.
 */
import { z } from 'zod';
import { milestoneCheckSchema, type CheckOutcome } from './checks';
import { toolNameSchema, type ToolName } from './tools';
import { GOAL_INLINE_BYTES, utf8Bytes } from './limits';
import { mcpToolNameSchema, type McpToolName, type McpToolOffer } from './mcp';
import type { ApprovalPolicy, PendingApproval } from './approvals';
import type { PriceTable } from './cost';
import type { TokenUsage } from './usage';
import type { ExecutorSeed, ForkedFrom } from './fork';

// ---------------------------------------------------------------------------------------------------------------------
// Model messages (the subset of OpenAI chat-completions tandem keeps in its transcripts)

export interface ToolCall {
  id: string;
  name: string;
  /**
   * JSON text of the arguments. Replies normalised at the model boundary (activities/model/) always hold a JSON
   * object here; older transcripts may hold the model's malformed text, which the executor reports to the model.
   */
  arguments: string;
  /**
   * Set by the model boundary when the model's arguments were not a JSON object: what it sent and what was wrong.
   * `arguments` is then `{}`, so the next request stays valid; the executor tells the model the problem.
   */
  invalidArguments?: { raw: string; problem: string };
  /**
   * Set by `callModel` when the arguments were longer than `ARGUMENTS_INLINE_CHARS`: the content-store reference of the
   * whole JSON, which `runTool` hands the tool. `arguments` is then the same object with each long string cut.
   */
  argumentsRef?: string;
  /**
   * Provider fields that must travel back with the call in the next request (Gemini's
   * `extra_content.google.thought_signature`). Kept in the transcript only, never in workflow history.
   */
  providerFields?: Record<string, unknown>;
}

export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | {
      role: 'assistant';
      content: string | null;
      toolCalls?: ToolCall[];
      /** The model's reasoning (`reasoning_content`, `reasoning`, thinking parts): kept apart, never sent back. */
      reasoning?: string;
    }
  | { role: 'tool'; toolCallId: string; content: string };

/** Input of the `callModel` activity: the transcript so far (by reference) and the messages new since then. */
/**
 * What a model call is for. It travels to the endpoint as the `X-Tandem-Purpose` request header (and the subtask id as
 * `X-Tandem-Subtask`), so logs, proxies and the scripted model can tell calls apart without reading prompt words.
 */
export type ModelCallPurpose = 'plan' | 'judge' | 'report' | 'step';

export interface CallModelInput {
  purpose: ModelCallPurpose;
  /** The subtask an executor step or a judge call is about. */
  subtaskId?: string;
  transcript: string | null;
  append: ChatMessage[];
  tools: ToolName[];
  /** MCP tools offered besides the built-ins (by reference to the executor's recorded discovery). */
  mcpTools?: McpToolOffer;
  /** Structured output: the reply must be JSON matching this JSON schema. */
  responseFormat?: { name: string; schema: Record<string, unknown> };
  /** The model to ask instead of the role's configured one (`tandem fork --model`). */
  model?: string;
}

/**
 * Why a complete reply ended, as the model boundary (activities/model/normalize.ts) names every server's spelling:
 * `stop`, `tool_calls`, `length` (cut off by the output cap: `max_tokens`, Gemini's `MAX_TOKENS`, ...),
 * `content_filter`, or `other`. A reply that did not end (a stream cut short, `abort`) never gets one: its call fails
 * as `ModelIncompleteReply` (docs/model-replies.md).
 */
export const FINISH_REASONS = ['stop', 'length', 'tool_calls', 'content_filter', 'other'] as const;
export type FinishReason = (typeof FINISH_REASONS)[number];

export interface CallModelOutput {
  /** Reference of the transcript extended by `append` and the model's reply. */
  transcript: string;
  /** The reply's text, trimmed with a note when longer than the inline limit; then `contentRef` holds all of it. */
  content: string | null;
  contentRef?: string;
  toolCalls: ToolCall[];
  /** Why the reply ended, normalised at the model boundary ({@link FinishReason}). */
  finishReason: FinishReason;
  usage: TokenUsage;
  /**
   * The model tandem asked for, which the call is priced by (common/cost.ts); absent in replies recorded before it
   * existed.
   */
  model?: string;
  /** The model that answered, as the reply named it (the span's `gen_ai.response.model`); absent when it named none. */
  responseModel?: string;
  /** The model's reasoning, when the server sent any (bounded like `content`); never part of the answer. */
  reasoning?: string;
  /** The model's refusal (`message.refusal`, refusal parts). */
  refusal?: string;
  /**
   * A reply that must not be taken as an answer, and what the model is told: a tool call written as text that could not
   * be read, or structured output that is not JSON.
   */
  problem?: string;
  /** What the model boundary repaired in the server's reply (missing ids, object arguments, ...), for logs and tests. */
  repairs?: string[];
  /**
   * How long the server took for this reply (the successful attempt, ms, the worker's clock): the goal raises a time
   * budget a plan set below what the server needs (docs/budgets.md). Absent in replies recorded before it existed.
   */
  elapsedMs?: number;
}

// ---------------------------------------------------------------------------------------------------------------------
// Plans

/**
 * Floors of a subtask budget. A plan that sets a budget below one is repaired (raised to it, and the repair recorded):
 * a weak model writes `{maxSteps: 2, maxTokens: 4}`, and no subtask can do anything in 4 tokens. Two steps are one tool
 * call and the answer that reports it; 1,000 tokens are about one step's prompt and reply; 10 seconds is one model call.
 */
export const MIN_SUBTASK_STEPS = 2;
export const MIN_SUBTASK_TOKENS = 1_000;
export const MIN_SUBTASK_SECONDS = 10;

export const subtaskBudgetSchema = z
  .object({
    maxSteps: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(`LLM steps of the subtask (at least ${MIN_SUBTASK_STEPS}; default 20)`),
    maxTokens: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(`Tokens of the subtask's LLM calls (at least ${MIN_SUBTASK_TOKENS}; default unlimited)`),
    maxSeconds: z
      .number()
      .positive()
      .optional()
      .describe(`Wall time of the subtask (at least ${MIN_SUBTASK_SECONDS}; default unlimited)`),
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
    dependsOn: z.array(z.string()).default([]).describe('Ids of the subtasks whose results this one needs'),
    tools: z
      .array(z.union([toolNameSchema, mcpToolNameSchema]))
      .optional()
      .describe(
        'Tools the executor may call: built-in names, or MCP tools as <server>__<tool>; absent or [] means all tools ' +
          '(escalate is always offered)',
      ),
    budget: subtaskBudgetSchema.optional(),
    checks: z
      .array(milestoneCheckSchema)
      .optional()
      .describe(
        "Machine checks of the milestone, run in the goal's workspace before the judge; one per file the milestone " +
          'is about: {"file": "notes.txt"}, {"file": "notes.txt", "contains": "<text from the goal>"} or ' +
          '{"kind": "value", "file": "answer.txt", "expression": "<arithmetic from the goal>"}. A failed check is a ' +
          'missed milestone.',
      ),
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
  /** What plan validation repaired in the model's draft, one line each (absent when nothing was). */
  repairs?: string[];
}

/** A draft the model sent that validation refused (it went back to the model with `errors`), kept for `history`. */
export interface RejectedDraft {
  /** The plan version it was drafted for. */
  version: number;
  attempt: number;
  /** True when the reply was cut off by the length limit (`finish_reason: length`). */
  cutOff: boolean;
  errors: string[];
  /** The start of the reply, for reading what the model sent. */
  excerpt: string;
}

/** What the planner model must return (structured output). */
export const planSchema = z.object({ subtasks: z.array(subtaskSchema).min(1) }).strict();
export type PlanDraft = z.infer<typeof planSchema>;

/** What the judge model must return (structured output) after checking a result against its milestone. */
export const verdictSchema = z
  .object({
    met: z.boolean().describe('true when the result meets the milestone'),
    reason: z.string().min(1).describe('Why, citing the result'),
  })
  .strict();
/**
 * The verdict on a milestone: the judge's (or, when a check failed or a claim had no tool call behind it, tandem's),
 * with every check's outcome. `missingTools`: effects the subtask claimed that no available tool can have (sending
 * mail with no mail tool), named so the report can say what to add.
 */
export type Verdict = z.infer<typeof verdictSchema> & { checks?: CheckOutcome[]; missingTools?: string[] };

// ---------------------------------------------------------------------------------------------------------------------
// Executor

/** Input of one executor run: a subtask and nothing about the goal's other subtasks (the inner loop is pure of them). */
export interface ExecutorInput {
  subtask: Subtask;
  /** Folder name of the goal's workspace; file tools are confined to it. */
  workspace: string;
  /** Answers of the subtasks this one depends on, keyed by subtask id. */
  context?: Record<string, string>;
  /** Tools offered to the model; all built-in tools when absent or empty (`escalate` is always offered). */
  tools?: Array<ToolName | McpToolName>;
  /** Overrides `subtask.budget` field by field; `maxSteps` defaults to 20, the others to unlimited. */
  budget?: SubtaskBudget;
  /** Interrupts sent for this subtask before it started: the model sees them at its first step. */
  interrupts?: string[];
  /**
   * The goal's workflow id: progress reports (time-bounded) and the result go there by signal, so they reach the
   * planner's latest run after a continue-as-new. Absent for an executor started alone.
   */
  reportTo?: string;
  /** Tool calls that wait for a person's decision (`decideApproval`) before they run. */
  approval?: ApprovalPolicy;
  /** A fork's resumed subtask: the loop starts from this state instead of step 0 (common/fork.ts). */
  seed?: ExecutorSeed;
  /** The model of every step instead of the configured executor model (`tandem fork --model`). */
  model?: string;
  /** The goal's price table (read at its start): each step's cost is counted by it (docs/cost.md). */
  prices?: PriceTable;
  /** Dollars this run may spend: what was left of the goal's `--max-cost` when it was dispatched. */
  maxCostUsd?: number;
}

export type ExecutorStatus = 'running' | 'done' | 'failed' | 'cancelled';

/** Where the loop is: one of the seed's five phases, waiting on `pause`, or finished. */
export type ExecutorPhase =
  | 'input_assembly'
  | 'reasoning'
  | 'action_selection'
  | 'execution'
  | 'awaiting_approval'
  | 'observation'
  | 'paused'
  | 'finished';

/** Why a subtask ended without an answer. */
/**
 * Why an executor ended without an answer. `content_filter`: the provider withheld the model's reply
 * (`finish_reason: content_filter`); its text and tool calls were neither used nor run (docs/model-replies.md).
 */
export type ExecutorEndReason = 'budget' | 'escalated' | 'cancelled' | 'model_error' | 'content_filter';
/** A budget that can run out; `cost` is the goal's `--max-cost`, which its executors get what is left of. */
export type BudgetKind = 'steps' | 'tokens' | 'time' | 'cost';
/** A goal budget that can run out (the same kinds). */
export type GoalBudgetKind = BudgetKind;

/** One tool call the model made, as recorded in the result and shown by the `progress` query. */
export interface ToolCallRecord {
  step: number;
  name: string;
  /** Raw JSON text as the model produced it. */
  arguments: string;
  ok: boolean;
  /** Content-store reference of the full output when the model saw it trimmed (`readStoredOutput` reads it). */
  outputRef?: string;
  /** The call may have run, but its outcome never reached tandem; the model was told so (docs/delivery.md). */
  outcomeUnknown?: true;
}

/** What every executor result carries, however the run ended. */
interface ExecutorRunRecord {
  steps: number;
  usage: TokenUsage;
  /** The latest tool calls (at most 100, arguments as previews); `toolCallCount` counts them all. */
  toolCalls: ToolCallRecord[];
  toolCallCount?: number;
  /** Interrupt messages the model was shown (absent when the planner made the result of a run that returned none). */
  interruptsShown?: number;
  /** Interrupts that arrived after the loop's last look at them, before the run closed: shown to no model. */
  undeliveredInterrupts?: number;
  /** What the planner needs to judge the milestone: the answer and the observations that back it. */
  evidence: string;
}

/** The model gave its final answer. */
export interface ExecutorAnswered extends ExecutorRunRecord {
  ok: true;
  answer: string;
}

/**
 * The run ended without an answer: `partial` says why it stopped and the last thing it achieved. `answer` stays in
 * the JSON as `null` (scripts read `result.answer`); the `budget` variant names the budget that ran out.
 */
export type ExecutorStopped = ExecutorRunRecord & { ok: false; answer: null; partial: string } & (
    { reason: 'budget'; budget: BudgetKind } | { reason: Exclude<ExecutorEndReason, 'budget'> }
  );

/**
 * How an executor run ended, as a union on `ok` (then `reason`), as openai-agents-js's `runner/steps.ts` gives each
 * turn's next step: a reader narrows on `ok` and never guesses which optional field is set. The JSON is the one
 * docs/endings.md names: `{ok: true, answer, ...}` or `{ok: false, reason, budget?, partial, answer: null, ...}`.
 */
export type ExecutorResult = ExecutorAnswered | ExecutorStopped;

/** What a result has to show for itself: the answer, or the partial of a run that stopped. */
export function outcomeText(result: ExecutorResult): string {
  return result.ok ? result.answer : result.partial;
}

/** Why a run stopped, in a few words: `budget: steps`, `escalated`, `cancelled`, ... */
export function stopReason(result: ExecutorStopped): string {
  return result.reason === 'budget' ? `budget: ${result.budget}` : result.reason;
}

/** A budget and what is left of it; `null` means unlimited. */
export interface BudgetLeft {
  maxSteps: number;
  maxTokens: number | null;
  maxSeconds: number | null;
  stepsLeft: number;
  tokensLeft: number | null;
  secondsLeft: number | null;
}

export interface ExecutorProgress {
  subtaskId: string;
  status: ExecutorStatus;
  step: number;
  phase: ExecutorPhase;
  paused: boolean;
  /** The tool calls of the latest step that made any. */
  lastToolCalls: ToolCallRecord[];
  usage: TokenUsage;
  budget: BudgetLeft;
  /** Interrupt messages received and not yet shown to the model, each cut to 200 characters (the model gets them whole). */
  pendingInterrupts: string[];
  /** Content-store reference of the conversation so far (`tandem transcript` reads it); null before the first call. */
  transcript: string | null;
  /** Tool calls waiting for a decision (`decideApproval`). */
  pendingApprovals: PendingApproval[];
  /** MCP tools this run offers, as discovery recorded them (name and server; absent before discovery). */
  mcpTools?: Array<{ name: string; server: string; tool: string; sideEffects: boolean }>;
}

// ---------------------------------------------------------------------------------------------------------------------
// Planner

/** Default of {@link GoalInput.maxParallel}: the CLI passes `TANDEM_MAX_PARALLEL` instead (workflows cannot read env). */
export const DEFAULT_MAX_PARALLEL = 2;
/** Default of {@link GoalInput.maxReplans}: automatic replans allowed before the goal ends with `replans_exhausted`. */
export const DEFAULT_MAX_REPLANS = 3;

export const goalInputSchema = z
  .object({
    goal: z
      .string()
      .trim()
      .min(1, 'the goal is empty: pass what you want done, e.g. tandem start "Compute 2+2 and save it to answer.txt"')
      .refine(
        (goal) => utf8Bytes(goal) <= GOAL_INLINE_BYTES,
        `a goal over ${GOAL_INLINE_BYTES} bytes travels by reference: start it with tandem start --goal-file`,
      ),
    /** The full goal in the content store when it is too large to travel inline; `goal` is then its preview. */
    goalRef: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'goalRef is a content-store reference, sha256:<64 hex>')
      .optional(),
    /** Step budget of every subtask, as the user set it: a plan's `budget.maxSteps` does not change it. */
    maxStepsPerSubtask: z.number().int().positive().optional(),
    /** Child executors running at once. */
    maxParallel: z.number().int().positive().optional(),
    /** Automatic replans (missed milestone, failed child) before the goal gives up; requested replans do not count. */
    maxReplans: z.number().int().min(0).optional(),
    /** Goal budget: tokens of every LLM call (planner, judge, executors, report). */
    maxTokens: z.number().int().positive().optional(),
    /** Goal budget: executor steps over all subtasks. */
    maxSteps: z.number().int().positive().optional(),
    /** Goal budget: US dollars of every LLM call, by the goal's price table (docs/cost.md). */
    maxCostUsd: z.number().finite().positive().optional(),
    /** Goal budget: ISO date-time after which no work starts and running children are cancelled. */
    deadline: z.iso.datetime({ offset: true }).optional(),
    /** Tools whose calls wait for a person (`decideApproval`): names, or `side-effects`. */
    approveTools: z.array(z.string().trim().min(1)).optional(),
    /** Milliseconds an undecided call waits before it is denied; no limit when absent. */
    approvalTimeoutMs: z.number().int().positive().optional(),
    /** The model of every executor step instead of the configured one (`tandem fork --model`). */
    model: z.string().trim().min(1).optional(),
  })
  .strict();
export type GoalInput = z.infer<typeof goalInputSchema>;

export type GoalStatus = 'planning' | 'running' | 'paused' | 'reporting' | 'completed' | 'failed' | 'cancelled';
export type SubtaskStatus = 'pending' | 'running' | 'done' | 'failed' | 'cancelled' | 'skipped';

/** Amounts of the goal budget; absent fields are unlimited (in `left`) or not tracked. */
export interface BudgetAmounts {
  tokens: number;
  steps: number;
  seconds: number;
  /** Dollars, when the goal prices its calls; `null` in `used` once a call's model had no price. */
  costUsd?: number | null;
}

export interface GoalBudgetProgress {
  used: BudgetAmounts;
  /** What is left of each cap the goal set; a cap it did not set is absent. */
  left: Partial<BudgetAmounts>;
}

export interface SubtaskProgress {
  id: string;
  title: string;
  status: SubtaskStatus;
  steps: number;
  /** The child executor's id: `<goal id>.v<plan version it started in>.<subtask id>`. */
  workflowId: string;
  usage: TokenUsage;
  /** Prompt plus completion tokens, for the CLI and the Web UI. */
  tokens: number;
  /** The judge's verdict on the milestone, once the child has returned. */
  verdict?: Verdict;
}

export interface GoalProgress {
  status: GoalStatus;
  goal: string;
  planVersion: number;
  planReason: string;
  plan: Subtask[];
  subtasks: SubtaskProgress[];
  usage: TokenUsage;
  budget: GoalBudgetProgress;
  replans: number;
  /** Every plan version so far, oldest first. */
  versions: PlanVersion[];
  /** Every draft validation refused, oldest first (a fallback plan or a `plan_invalid` end says why). */
  rejectedDrafts: RejectedDraft[];
  /** Whether a `pause` holds the goal (also while it is planning or reporting, when `status` says so). */
  paused?: boolean;
  /** The absolute path of the goal's workspace on the workers (absent for goals started before it was recorded). */
  workspace?: string;
  /** Interrupts waiting for a subtask that has not started yet (or for the next executor, when none runs). */
  queuedInterrupts?: number;
  /** Interrupts that arrived for a subtask after it had returned or was dropped from the plan: not delivered. */
  undeliveredInterrupts?: number;
  /** Tool calls of running executors that wait for a decision (`tandem approve` / `tandem deny`). */
  pendingApprovals?: PendingApproval[];
  /** Calls refused without asking a person: an identical call was denied earlier in this goal (docs/approvals.md). */
  refusedRepeatCalls?: number;
  /** Set on a fork (`tandem fork`): the goal and the step, or the plan version, it started from. */
  forkedFrom?: ForkedFrom;
}

/**
 * Why a goal ended with `ok: false` (goal-level outcomes are results, not workflow failures). `plan_invalid`: a replan
 * could not produce a valid plan in its attempts (a first plan that cannot falls back to a one-subtask plan instead).
 */
export type GoalFailureReason = 'replans_exhausted' | 'budget_exhausted' | 'plan_invalid' | 'cancelled';

/** A subtask of the final plan in the goal's result, with its last result (a subtask that never ran has none). */
export interface GoalResultSubtask {
  id: string;
  title: string;
  status: SubtaskStatus;
  verdict?: Verdict;
  result?: ExecutorResult;
}

/** What every goal result carries, however the goal ended. */
interface GoalRecord {
  report: string;
  planVersion: number;
  /** The subtasks of the final plan, each with its last result (a subtask that never ran has none). */
  subtasks: GoalResultSubtask[];
  usage: TokenUsage;
  /** Every plan version after the first, with the evidence that caused it: the history of what was tried. */
  replans: PlanVersion[];
  /** The absolute path of the goal's workspace on the workers. */
  workspace?: string;
  /** Interrupts that reached no model (their subtask had ended, or ended before it looked); absent when none. */
  undeliveredInterrupts?: number;
  /** Calls refused without asking: an identical call was denied earlier in the goal; absent when none. */
  refusedRepeatCalls?: number;
}

/**
 * How a goal ended, as a union on `ok` (then `reason`): every subtask done, or a {@link GoalFailureReason}, and only
 * `plan_invalid` carries the drafts the replan refused. The JSON is the one `tandem result --json` has always printed
 * (docs/endings.md).
 */
export type GoalResult = GoalRecord & GoalEnding;

/** How a goal ended, without the record of its work: the part of {@link GoalResult} the union is on. */
export type GoalEnding =
  | { ok: true }
  | { ok: false; reason: Exclude<GoalFailureReason, 'plan_invalid' | 'budget_exhausted'> }
  /** `budget`: which of the goal's budgets ran out (absent in results recorded before it was named). */
  | { ok: false; reason: 'budget_exhausted'; budget?: GoalBudgetKind }
  | { ok: false; reason: 'plan_invalid'; rejectedDrafts: RejectedDraft[] };
