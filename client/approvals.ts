/**
 * The approval gate from outside: the calls a goal holds (its `progress`), and decisions as the `decideApproval`
 * update, so the caller learns at once whether the goal took it or why not (unknown or already decided call).
 */
import type { Client } from '@temporalio/client';
import {
  type ApprovalDecision,
  approvalDecisionSchema,
  type ApprovalReceipt,
  type PendingApproval,
} from '../common/approvals';
import { priorDenialLine } from '../common/denials';
import { decideApprovalUpdate } from '../common/contract';
import { goalProgress, GoalError } from './goals';
import { updateRunningGoal } from './goal-update';
import { shellArg } from './shell-arg';

/** The tool calls of the goal that wait for a decision. */
export async function pendingApprovals(client: Client, id: string): Promise<PendingApproval[]> {
  return (await goalProgress(client, id)).pendingApprovals ?? [];
}

/**
 * Approves or denies one held call of a running goal; `deadlineMs` is how long a worker may take to answer
 * ({@link updateRunningGoal}).
 */
export async function decideApproval(
  client: Client,
  id: string,
  decision: ApprovalDecision,
  deadlineMs?: number,
): Promise<ApprovalReceipt> {
  const parsed = approvalDecisionSchema.safeParse(decision);
  if (!parsed.success) throw new GoalError(parsed.error.issues.map((issue) => issue.message).join('; '));
  const action = decision.approve ? 'approve' : 'deny';
  return updateRunningGoal(
    client,
    id,
    decideApprovalUpdate,
    parsed.data,
    {
      action,
      what: `the decision on ${decision.callId}`,
      refused: `goal "${id}" refused to ${action} ${decision.callId}`,
      check: `tandem approvals ${shellArg(id)}`,
    },
    deadlineMs,
  );
}

/** The held calls as lines: call id, subtask, tool, arguments and since when. */
export function formatApprovals(id: string, pending: PendingApproval[]): string {
  if (pending.length === 0) return `${id}: no tool call is waiting for approval`;
  return [
    `${id}: ${pending.length} tool call(s) waiting for approval (tandem approve ${shellArg(id)} CALL_ID / tandem deny ${shellArg(id)} CALL_ID)`,
    ...pending.map(
      (approval) =>
        `  ${approval.callId}  ${approval.subtaskId}  ${approval.tool} ${approval.arguments.slice(0, 160)}  ` +
        `since ${approval.requestedAt}${approval.warning ? `\n    warning: ${approval.warning}` : ''}` +
        `${approval.deniedBefore ? `\n    ${priorDenialLine(approval.deniedBefore)}` : ''}`,
    ),
  ].join('\n');
}
