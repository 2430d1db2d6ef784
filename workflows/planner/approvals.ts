/**
 * The goal's view of the approval gate, over `GoalState.approvals`: which calls its running executors hold (each
 * executor reports its own with `approvalsChanged`), which callIds were already decided, and the decisions accepted but
 * not yet forwarded. The `decideApproval` update validates against this view; the loop forwards accepted decisions to
 * the executor holding the call, which stays the authority (a call it released meanwhile, e.g. on its approval
 * timeout, drops the decision).
 */
import { ApplicationFailure, condition } from '@temporalio/workflow';
import { FailureType } from '../../common/failures';
import type { ApprovalDecision, ApprovalReceipt, ApprovalRelease } from '../../common/approvals';
import type { ApprovalsReport } from '../../common/contract';
import { rememberDenial } from '../../common/denials';
import type { AcceptedDecision, ApprovalsState } from './goal-state';

/**
 * A call a person denied, as evidence for the next replan: the denial and its reason are the person's answer, so the
 * planner plans around it rather than putting the same call to them again. Undefined for any other report.
 */
export function denialEvidence(approvals: ApprovalsState, report: ApprovalsReport): string | undefined {
  if (report.released?.outcome !== 'denied') return undefined;
  const { callId, reason } = report.released;
  const call = approvals.held[report.workflowId]?.find((held) => held.callId === callId);
  const what = call ? `${call.tool} ${call.arguments}` : `tool call ${callId}`;
  return (
    `in subtask ${report.subtaskId} a person denied ${what} (reason: ${reason}); do not plan that call again ` +
    'unless the plan changes it as the reason asks'
  );
}

/** An executor's report of what it holds now (the `approvalsChanged` handler). */
export function recordHeld(approvals: ApprovalsState, report: ApprovalsReport): void {
  approvals.version += 1;
  if (report.released) approvals.released[report.released.callId] = report.released;
  if (report.released?.denial && rememberDenial(approvals.denials, report.released.denial)) approvals.learned += 1;
  if (report.released?.outcome === 'refused') approvals.refusedRepeats += 1;
  if (report.pending.length === 0) delete approvals.held[report.workflowId];
  else approvals.held[report.workflowId] = report.pending;
}

/** An executor run ended: whatever it held is resolved (by its end). */
export function runEndedHolding(approvals: ApprovalsState, workflowId: string): void {
  if (!(workflowId in approvals.held)) return;
  approvals.version += 1;
  delete approvals.held[workflowId];
}

function holderOf(approvals: ApprovalsState, callId: string): string | undefined {
  return Object.keys(approvals.held).find((workflowId) =>
    approvals.held[workflowId].some((call) => call.callId === callId),
  );
}

/** What happened to a released call, in words: approved, denied (with the reason), or denied by its timeout. */
function releasedAs(release: ApprovalRelease): string {
  if (release.outcome === 'approved') return 'it was approved';
  if (release.outcome === 'timed_out') return `it was denied because ${release.reason}`;
  if (release.outcome === 'refused') return `it was refused without asking: ${release.reason}`;
  return `it was denied (${release.reason})`;
}

/** Why the decision cannot be taken, or undefined: the update's validator (nothing reaches history on a refusal). */
export function decisionRefusal(approvals: ApprovalsState, decision: ApprovalDecision): string | undefined {
  const released = approvals.released[decision.callId];
  if (released) return `tool call "${decision.callId}" is no longer waiting: ${releasedAs(released)}`;
  if (approvals.decided.includes(decision.callId)) return `tool call "${decision.callId}" was already decided`;
  if (holderOf(approvals, decision.callId) === undefined) {
    return (
      `no tool call "${decision.callId}" is waiting for approval in this goal (it was resolved, timed out, or ` +
      'never existed); list the waiting ones with: tandem approvals <goal id>'
    );
  }
  return undefined;
}

/**
 * Accepts a decision the validator let through, waits until the executor holding the call says how it ended, and
 * answers with that: a decision that came too late (the call's timeout denied it first) fails the update with what
 * happened, instead of a receipt for a decision nobody applied.
 */
export async function acceptDecision(approvals: ApprovalsState, decision: ApprovalDecision): Promise<ApprovalReceipt> {
  approvals.decided.push(decision.callId);
  const workflowId = holderOf(approvals, decision.callId)!;
  const subtaskId = approvals.held[workflowId].find((call) => call.callId === decision.callId)!.subtaskId;
  const accepted: AcceptedDecision = {
    decision,
    workflowId,
    receipt: { callId: decision.callId, subtaskId, approve: decision.approve },
    forwarded: false,
  };
  approvals.inbox.push(accepted);
  // An executor that ends first (cancelled, goal finishing) resolves its calls itself: the update must not outwait it.
  await condition(
    () => (accepted.forwarded && approvals.released[decision.callId] !== undefined) || !(workflowId in approvals.held),
  );
  const released = approvals.released[decision.callId];
  const applied = released?.outcome === (decision.approve ? 'approved' : 'denied');
  if (!applied) {
    throw ApplicationFailure.create({
      type: FailureType.DecisionNotApplied,
      message:
        `tool call "${decision.callId}" was not ${decision.approve ? 'approved' : 'denied'} by this decision: ` +
        (released ? releasedAs(released) : 'its subtask ended before the decision reached it'),
    });
  }
  return accepted.receipt;
}
