/**
 * How often a tool call may run when its activity is retried (docs/delivery.md). Temporal is the journal: the
 * activity's attempt number says whether an earlier attempt of this very call began, and the heartbeat details an
 * attempt leaves behind say whether it stopped before sending anything. Both live on the server, so the worker that
 * retries needs no disk shared with the worker that died.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';

/**
 * - `repeatable`: read-only, or idempotent by the tool's own word (MCP `idempotentHint`, tandem's `write_file`):
 *   a retry runs the call again (at least once).
 * - `at_most_once`: anything else with side effects: only an attempt that knows no earlier attempt sent the call
 *   runs it; otherwise the model is told the call may already have run.
 */
export type Delivery = 'repeatable' | 'at_most_once';

/** The delivery of a tool with these properties (MCP annotations or a built-in definition). */
export function deliveryOf(tool: { sideEffects: boolean; idempotent?: boolean }): Delivery {
  return !tool.sideEffects || tool.idempotent === true ? 'repeatable' : 'at_most_once';
}

/**
 * The heartbeat detail an attempt records when it ends before sending the call (the MCP server could not be started
 * or reached), so the next attempt knows it may run the call. The call key guards against a stray detail.
 */
interface NotSentDetail {
  callKey: string;
  sent: false;
  /**
   * The attempt that sent nothing. Only the attempt right after it may trust the detail: if that one is lost in turn
   * before its own heartbeat replaced the detail, the detail still reads "not sent", though that attempt may have sent.
   */
  attempt: number;
}

function isNotSent(detail: unknown, callKey: string, attempt: number): boolean {
  const candidate = detail as Partial<NotSentDetail> | undefined;
  return candidate?.callKey === callKey && candidate.sent === false && candidate.attempt === attempt - 1;
}

/**
 * Whether this attempt may run an `at_most_once` call: the first attempt may; a later one only when the previous
 * attempt recorded that it never sent the call. A previous attempt that left no such record (its worker was killed,
 * it timed out, its heartbeat was lost) may have run the call, so it is not run again.
 */
export function mayRunAtMostOnceCall(callKey: string): boolean {
  const { attempt, heartbeatDetails } = Context.current().info;
  return attempt <= 1 || isNotSent(heartbeatDetails, callKey, attempt);
}

/**
 * Records, before this attempt fails retryably, that it sent nothing: Temporal keeps the last heartbeat details for
 * the next attempt (the SDK flushes them with the failure). Should the detail be lost, the next attempt reports the
 * call as possibly run, which is the safe side.
 */
export function recordNotSent(callKey: string): void {
  const detail: NotSentDetail = { callKey, sent: false, attempt: Context.current().info.attempt };
  Context.current().heartbeat(detail);
}

/**
 * What the model sees for a call that may have run without its outcome reaching tandem: the one sentence every such
 * case ends with, so a model (and a person reading the transcript) recognises it.
 */
export function mayHaveRunObservation(tool: string, why: string): string {
  return `${tool}: ${why}, so this call may already have run; check before repeating it`;
}

/** A tool call's outcome before it is sized for the model (activities/observations.ts). */
export interface ToolOutcome {
  ok: boolean;
  output: string;
  /** The call may have run, but tandem does not know: `output` says so (see {@link mayHaveRunObservation}). */
  outcomeUnknown?: true;
}

/** The first detail of a failure that sent nothing (see {@link notSentFailure}). */
const NOT_SENT = 'not_sent';

/**
 * A retryable failure of an attempt that sent nothing (the server could not be started or reached): `runTool` records
 * that for the next attempt, which may then make an at-most-once call.
 */
export function notSentFailure(message: string, type: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type, details: [NOT_SENT] });
}

/** True for a failure made by {@link notSentFailure}. */
export function isNotSentFailure(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.details?.[0] === NOT_SENT;
}
