/**
 * tandem's wire contract: the task queue, the workflow type names, the messages (signals, queries, updates) with their
 * payload schemas, and the custom search attributes. Imported by workflows, activities and the client alike, so it may
 * import only `@temporalio/workflow`, `@temporalio/common` and pure libraries (zod).
 *
 * Names here travel over the wire and are scripted against with the `temporal` CLI: renaming one strands runs in flight.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { INTERRUPT_MESSAGE_CHARS } from './limits';
import { PROGRESS_QUERY_NAME, SEARCH_ATTRIBUTE_NAMES } from './names';
import type { ExecutorProgress, ExecutorResult, GoalProgress, PlanVersion } from './types';
import type { ApprovalDecision, ApprovalReceipt, ApprovalRelease, PendingApproval } from './approvals';
import type { TokenUsage } from './usage';
import type { DeniedCall } from './denials';

/** Default task queue; `TANDEM_TASK_QUEUE` overrides it (node/config.ts). */
export const DEFAULT_TASK_QUEUE = 'tandem';

export { EXECUTOR_WORKFLOW_TYPE, PLANNER_WORKFLOW_TYPE } from './names';
/** What a schedule with `--key` starts at each firing: it starts the key's goal unless one runs (common/goal-start.ts). */
export const KEYED_GOAL_LAUNCHER_WORKFLOW_TYPE = 'keyedGoalLauncherWorkflow';

// ---------------------------------------------------------------------------------------------------------------------
// Messages: the interrupt/replan channel (the only way in from outside) and the queries that read the tree.
//
// Signals only record what arrived; the loops act on it at defined points (see the README). Payloads are validated by
// the zod schemas below: a malformed signal is logged and dropped without touching the loop's state.

export const interruptPayloadSchema = z
  .object({
    message: z
      .string()
      .trim()
      .min(1, 'an interrupt needs a non-empty message')
      // Not "put it in a file": a person cannot reach the workspace (it lives in the store), and no verb takes one.
      .max(INTERRUPT_MESSAGE_CHARS, {
        error: (issue) =>
          `an interrupt is at most ${INTERRUPT_MESSAGE_CHARS} characters and this one has ` +
          `${String(issue.input).length}: shorten it`,
      }),
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

/**
 * Executor → the goal's planner: how far it is, so the planner's `progress` covers the whole tree in one query. Sent at
 * most once per {@link PROGRESS_REPORT_INTERVAL_MS} of workflow time and {@link PROGRESS_REPORT_MIN_STEPS} steps (executors started before that rule sent one per
 * step, which grew the planner's history with every executor step).
 */
export interface SubtaskStepReport {
  subtaskId: string;
  step: number;
  usage: TokenUsage;
}
export const subtaskProgressSignal = defineSignal<[SubtaskStepReport]>('subtaskProgress');
/** The least time between two progress reports of one executor (after its first step's report)... */
export const PROGRESS_REPORT_INTERVAL_MS = 5_000;
/** ...and the fewest steps: at most one report (a signal and a workflow task, ~4 planner events) per 10 steps. */
export const PROGRESS_REPORT_MIN_STEPS = 10;

/**
 * Planner → executor: every interrupt pending for it, in one signal (one history event however many there are). The
 * single-message `interrupt` signal stays for the CLI and for runs started before.
 */
export const interruptsSignal = defineSignal<[{ messages: string[] }]>('interrupts');

/**
 * Executor → the goal's workflow id: its result, just before it returns. Children outlive a planner run (they are
 * started with `ParentClosePolicy.ABANDON`), so a planner that continued as new learns their results this way; the run
 * that started a child also sees its completion, and whichever arrives first counts.
 */
export interface SubtaskResultReport {
  workflowId: string;
  result: ExecutorResult;
}
export const subtaskResultSignal = defineSignal<[SubtaskResultReport]>('subtaskResult');

// ---------------------------------------------------------------------------------------------------------------------
// The approval gate. A decision is an update, not a signal, so that the caller learns at once whether it took: the
// validator refuses an unknown or already decided callId before anything reaches history.

/** Planner and executor: approve or deny a held tool call; answers with the decision as recorded. */
export const decideApprovalUpdate = defineUpdate<ApprovalReceipt, [ApprovalDecision]>('decideApproval');

/**
 * Planner → executor: a decision the planner's `decideApproval` accepted. A signal, because a workflow cannot call an
 * update on another; the executor drops one whose call is no longer held (decided, timed out).
 */
export const approvalDecisionSignal = defineSignal<[ApprovalDecision]>('approvalDecision');

/**
 * Planner → its running executors: calls denied in this goal that an executor did not know when it started, so an
 * identical call is refused there without asking too (common/denials.ts). The planner pushes them as they come rather
 * than each executor asking before it holds a call: a workflow cannot call an update on another, an activity per held
 * call to ask would add a round trip to every one, and a push is one signal per denial and running executor, sent at
 * the planner's next turn. A call an executor already holds when the denial comes is released as refused.
 */
export const deniedCallsSignal = defineSignal<[{ denials: DeniedCall[] }]>('deniedCalls');

/** Executor → its parent planner whenever its held calls change, so the goal's `progress` lists them all. */
export interface ApprovalsReport {
  subtaskId: string;
  /** The reporting executor's workflow id: a subtask re-run after a replan is another executor. */
  workflowId: string;
  pending: PendingApproval[];
  /** The call whose release caused this report, and how it ended (absent when a call started waiting). */
  released?: ApprovalRelease;
}
export const approvalsChangedSignal = defineSignal<[ApprovalsReport]>('approvalsChanged');

/** Planner and executor both answer `progress`; each returns its own shape. */
export const progressQuery = defineQuery<GoalProgress>(PROGRESS_QUERY_NAME);
export const executorProgressQuery = defineQuery<ExecutorProgress>(PROGRESS_QUERY_NAME);

// ---------------------------------------------------------------------------------------------------------------------
// Search attributes, registered on the dev server at start so the Web UI and `tandem list` can filter by them.

export const goalSearchAttribute = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.goal, SearchAttributeType.TEXT);
export const statusSearchAttribute = defineSearchAttributeKey(
  SEARCH_ATTRIBUTE_NAMES.status,
  SearchAttributeType.KEYWORD,
);
export const planVersionSearchAttribute = defineSearchAttributeKey(
  SEARCH_ATTRIBUTE_NAMES.planVersion,
  SearchAttributeType.INT,
);
export const tokensSearchAttribute = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.tokens, SearchAttributeType.INT);
export const keySearchAttribute = defineSearchAttributeKey(SEARCH_ATTRIBUTE_NAMES.key, SearchAttributeType.KEYWORD);

export const TANDEM_SEARCH_ATTRIBUTES = [
  goalSearchAttribute,
  statusSearchAttribute,
  planVersionSearchAttribute,
  tokensSearchAttribute,
  keySearchAttribute,
] as const;
