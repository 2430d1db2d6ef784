/**
 * The calls in flight that `status` and `watch` show (a call Temporal is retrying, a model reply streaming), and their
 * one-line renderings. Apart from client/inspect.ts, which reads them from the server, so the formatting loads no
 * Temporal client.
 */

/** An activity Temporal is retrying: the call, its attempt and what the last attempt failed with. */
export interface FailingCall {
  /** The workflow that made the call: the goal, or one of its executors. */
  workflowId: string;
  /** The executor's subtask, when the call is an executor's. */
  subtaskId: string | null;
  /** `callModel`, `runTool`, ... */
  activity: string;
  attempt: number;
  /** 0 means unlimited. */
  maximumAttempts: number;
  lastError: string;
  /** The failure type, e.g. `ModelUnavailable` (common/failures.ts). */
  errorType: string | null;
  /** When Temporal tries again, if it has scheduled that. */
  nextAttemptTime: string | null;
}

/**
 * A model call in flight and how far its reply has streamed. Workflow code cannot see an activity in flight, so
 * `callModel` heartbeats `{purpose, subtaskId, streamedTokens}` and the client reads it from the pending activity
 * (`temporal workflow describe` shows the same heartbeat details).
 */
export interface StreamingCall {
  workflowId: string;
  subtaskId: string | null;
  /** What the call is for: plan, judge, report or step. */
  purpose: string;
  streamedTokens: number;
}

/** One line for a model call streaming its reply: where, what for, and the tokens so far. */
export function describeStreamingCall(call: StreamingCall): string {
  const where = call.subtaskId ? `subtask ${call.subtaskId}: ` : '';
  return `${where}${call.purpose || 'model'} reply streaming, ${call.streamedTokens} tokens so far`;
}

/** One line for a failing call: where, what, which attempt, and the last error. */
export function describeFailingCall(call: FailingCall): string {
  const where = call.subtaskId ? `subtask ${call.subtaskId}: ` : '';
  const of = call.maximumAttempts > 0 ? ` of ${call.maximumAttempts}` : '';
  const type = call.errorType ? ` [${call.errorType}]` : '';
  return `${where}${call.activity} failing, attempt ${call.attempt}${of}: ${call.lastError}${type}`;
}
