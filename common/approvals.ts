/**
 * The approval gate's wire shapes: a tool call waiting for a person, and the decision that releases it. Sandbox-safe:
 * the executor and the planner validate decisions with the same schema the CLI checks them with.
 */
import { z } from 'zod';
import type { DeniedCall, PriorDenial } from './denials';
import { isMcpToolName } from './mcp';
import { TOOL_NAMES } from './tools';

/** `--approve side-effects`: every tool whose definition (or MCP annotations) says it changes the world. */
export const APPROVE_SIDE_EFFECTS = 'side-effects';

/** What an approval list (`--approve`, `TANDEM_APPROVE_TOOLS`) may name, for the message that refuses anything else. */
export const APPROVE_EXPECTED = `${APPROVE_SIDE_EFFECTS} or tool names as \`tandem tools\` lists them (built-ins or <server>__<tool>)`;

/** The entries of an approval list that are neither the keyword nor a tool name (built-in, or MCP-shaped). */
export function unknownApproveEntries(entries: readonly string[]): string[] {
  return entries.filter(
    (entry) =>
      entry !== APPROVE_SIDE_EFFECTS && !(TOOL_NAMES as readonly string[]).includes(entry) && !isMcpToolName(entry),
  );
}

/** Which calls wait for a person, and for how long: part of the goal's and each executor's input. */
export interface ApprovalPolicy {
  /** Tool names (built-in or `<server>__<tool>`), and/or {@link APPROVE_SIDE_EFFECTS}. */
  tools: string[];
  /** Undecided calls are denied after this long; they wait indefinitely (until cancel or the time budget) without. */
  timeoutMs?: number;
  /** Calls denied earlier in the goal, which the executor refuses unchanged without asking (set by the planner). */
  denials?: DeniedCall[];
  /** The plan version of the executor's subtask (set by the planner): a denial under it binds every subtask of it. */
  planVersion?: number;
}

/** True when a call of `tool` (whose definition says whether it has `sideEffects`) must wait for a decision. */
export function needsApproval(policy: ApprovalPolicy | undefined, tool: string, sideEffects: boolean): boolean {
  if (!policy) return false;
  return policy.tools.includes(tool) || (sideEffects && policy.tools.includes(APPROVE_SIDE_EFFECTS));
}

/** A tool call the executor holds until someone approves or denies it (or the approval timeout denies it). */
export interface PendingApproval {
  /** Unique within the goal: `<executor>:<step>:<model's call id>`, e.g. `v1.s1:2:call_abc`. */
  callId: string;
  subtaskId: string;
  tool: string;
  /** The arguments as the model sent them (JSON text). */
  arguments: string;
  /** ISO time from the workflow clock. */
  requestedAt: string;
  /**
   * Set when an earlier call of the same tool in this subtask may have run without its outcome reaching tandem (a
   * worker lost mid-call): what the model was told, so the approver checks before letting it run again.
   */
  warning?: string;
  /** When the call is denied if nobody decides (ISO, workflow clock); absent when it waits without a limit. */
  timeoutAt?: string;
  /** A similar call denied earlier in this goal, by whom, why, and what differs now (common/denials.ts). */
  deniedBefore?: PriorDenial;
}

/** The longest reason a decision may carry: it goes back to the model in the observation, and into history. */
const DENIAL_REASON_MAX_CHARS = 2_000;

export const approvalDecisionSchema = z
  .object({
    callId: z.string().trim().min(1, 'name the call to decide: its callId, as `tandem approvals ID` lists it'),
    approve: z.boolean(),
    reason: z
      .string()
      .trim()
      .min(1, 'the reason is blank: give one (tandem deny ID CALL_ID --reason "why"), or leave it out')
      .max(DENIAL_REASON_MAX_CHARS, {
        error: (issue) =>
          `the reason is ${String(issue.input).length} characters, over the ${DENIAL_REASON_MAX_CHARS} the model is ` +
          'shown: shorten it',
      })
      .optional(),
    /** Who decided, as the CLI knows them (the OS user); kept with a denial so a later refusal can say who. */
    by: z.string().trim().min(1).max(200).optional(),
  })
  .strict();
/** The `decideApproval` update's payload (and the `approvalDecision` signal a planner forwards to its executor). */
export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>;

/**
 * How a call that needed approval ended. `refused`: never put to a person, because an identical call was denied
 * earlier in the goal (common/denials.ts).
 */
export type ApprovalOutcome = 'approved' | 'denied' | 'timed_out' | 'refused' | 'cancelled';

/**
 * A call the executor released (or refused without holding), how, and the reason the model was told when it was not
 * approved; a denial carries what the goal remembers of it.
 */
export interface ApprovalRelease {
  callId: string;
  outcome: Exclude<ApprovalOutcome, 'cancelled'>;
  reason?: string;
  denial?: DeniedCall;
}

/** What `decideApproval` answers: the decision as the goal recorded it. */
export interface ApprovalReceipt {
  callId: string;
  subtaskId: string;
  approve: boolean;
}
