/**
 * The approval gate from outside: the calls a goal holds (its `progress`), and decisions as the `decideApproval`
 * update, so the caller learns at once whether the goal took it or why not (unknown or already decided call).
 */
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  type ApprovalDecision,
  approvalDecisionSchema,
  type ApprovalReceipt,
  type PendingApproval,
} from '../common/approvals';
import { priorDenialLine } from '../common/denials';
import { decideApprovalUpdate } from '../common/contract';
import { goalProgress, GoalError, isDeadlineExceeded, sendToRunningGoal } from './goals';
import { shellArg } from './shell-arg';

/** An update waits for a worker to run its handler; past this the CLI says that none is running. */
const UPDATE_DEADLINE_MS = 30_000;

/** The tool calls of the goal that wait for a decision. */
export async function pendingApprovals(client: Client, id: string): Promise<PendingApproval[]> {
  return (await goalProgress(client, id)).pendingApprovals ?? [];
}

/** Approves or denies one held call of a running goal. */
export async function decideApproval(client: Client, id: string, decision: ApprovalDecision): Promise<ApprovalReceipt> {
  const parsed = approvalDecisionSchema.safeParse(decision);
  if (!parsed.success) throw new GoalError(parsed.error.issues.map((issue) => issue.message).join('; '));
  const action = decision.approve ? 'approve' : 'deny';
  return sendToRunningGoal(client, id, action, async (handle) => {
    try {
      return await client.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () =>
        handle.executeUpdate(decideApprovalUpdate, { args: [parsed.data] }),
      );
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        throw new GoalError(
          `goal "${id}" refused to ${action} ${decision.callId}: ${err.cause?.message ?? err.message}`,
        );
      }
      if (isDeadlineExceeded(err)) {
        throw new GoalError(`no worker answered the decision on "${id}" in time; start one with "tandem worker"`);
      }
      throw err;
    }
  });
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
