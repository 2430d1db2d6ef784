/**
 * Every failure `type` tandem raises, in one place. Across the activity and child-workflow boundary a failure is
 * recognised by this name, never by `instanceof`; the CLI and retry policies match on them too. Renaming one changes
 * what `temporal workflow describe` shows for runs already in flight, so add, never rename.
 */
export const FailureType = {
  /** The goal input can never run (empty goal, bad budget): the planner fails at once, without retries. */
  InvalidGoal: 'InvalidGoal',
  /**
   * A goal that ended with `ok: false` (`replans_exhausted`, `budget_exhausted`, `plan_invalid`): the planner fails its
   * workflow with this non-retryable type, the whole `GoalResult` as the failure's first detail, so the Web UI shows
   * the run as Failed (common/endings.ts reads the result back). A cancelled goal ends as Canceled instead.
   */
  GoalNotOk: 'GoalNotOk',
  /** A subtask that ended without its answer (budget, escalated, model error): as `GoalNotOk`, with its result. */
  SubtaskNotOk: 'SubtaskNotOk',
  /** A `revisePlan` update whose goal ended before the replan was made. */
  GoalFinished: 'GoalFinished',
  /**
   * A `decideApproval` update whose decision the executor could not apply: the call had been released first (denied by
   * its approval timeout, say) or its subtask ended. The message says what happened to the call.
   */
  DecisionNotApplied: 'DecisionNotApplied',
  /** 429 from the model endpoint: retried after its Retry-After. */
  ModelRateLimited: 'ModelRateLimited',
  /** 5xx, connection errors, timeouts: retried with backoff. */
  ModelUnavailable: 'ModelUnavailable',
  /** 400/401/403/404/422: retrying cannot help; the subtask ends with this reason. */
  ModelRequestRejected: 'ModelRequestRejected',
  /** A reply that is not valid chat-completions JSON: retried, the endpoint may have hiccupped. */
  ModelMalformedReply: 'ModelMalformedReply',
  /** A streaming reply that stopped sending tokens for `TANDEM_MODEL_STALL_MS`: retried like an outage. */
  ModelStalled: 'ModelStalled',
  /**
   * A reply that ended without saying it was complete: a stream cut off before its finish reason or `[DONE]`, or a
   * finish reason that means the server broke the generation off (vLLM's `abort`, DeepSeek's
   * `insufficient_system_resource`). Retried: it is never taken as an answer, a plan, a verdict or a report.
   */
  ModelIncompleteReply: 'ModelIncompleteReply',
  /** A reply still over the history payload limit once trimmed (huge tool-call arguments). */
  ModelReplyTooLarge: 'ModelReplyTooLarge',
  /**
   * An MCP server that could not be started or reached, or lost the connection during a read-only call: retried by
   * the `runTool` policy; when the retries run out the executor tells the model the tool is unavailable.
   */
  McpServerUnavailable: 'McpServerUnavailable',
} as const;
export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];
