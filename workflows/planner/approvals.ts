/**
 * The goal's view of the approval gate: which calls its running executors hold (each executor reports its own with
 * `approvalsChanged`), which callIds were already decided, and the decisions accepted but not yet forwarded. The
 * `decideApproval` update validates against this view; the loop forwards accepted decisions to the executor holding
 * the call, which stays the authority (a call it released meanwhile, e.g. on its approval timeout, drops the decision).
 */
import { condition } from '@temporalio/workflow';
import type { ApprovalDecision, ApprovalReceipt, PendingApproval } from '../../common/approvals';
import type { ApprovalsReport } from '../../common/contract';

interface Accepted {
  decision: ApprovalDecision;
  workflowId: string;
  receipt: ApprovalReceipt;
  forwarded: boolean;
}

export class GoalApprovals {
  /** Held calls by the executor workflow id holding them. */
  private readonly held = new Map<string, PendingApproval[]>();
  private readonly decided = new Set<string>();
  private readonly inbox: Accepted[] = [];
  /** Counts changes of the held calls, so the loop wakes to refresh the Web UI details when one arrives. */
  version = 0;

  /** Every held call of the goal, oldest first. */
  all(): PendingApproval[] {
    return [...this.held.values()].flat().sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  }

  /** An executor's report of what it holds now (the `approvalsChanged` handler). */
  record(report: ApprovalsReport): void {
    this.version += 1;
    if (report.pending.length === 0) this.held.delete(report.workflowId);
    else this.held.set(report.workflowId, report.pending);
  }

  /** An executor run ended: whatever it held is resolved (by its end). */
  runEnded(workflowId: string): void {
    this.held.delete(workflowId);
  }

  /** Why the decision cannot be taken, or undefined: the update's validator (nothing reaches history on a refusal). */
  refusal(decision: ApprovalDecision): string | undefined {
    if (this.decided.has(decision.callId)) return `tool call "${decision.callId}" was already decided`;
    if (!this.all().some((approval) => approval.callId === decision.callId)) {
      return (
        `no tool call "${decision.callId}" is waiting for approval in this goal (it was resolved, timed out, or ` +
        'never existed); list the waiting ones with: tandem approvals <goal id>'
      );
    }
    return undefined;
  }

  /** Accepts a decision the validator let through and waits until the loop has forwarded it. */
  async accept(decision: ApprovalDecision): Promise<ApprovalReceipt> {
    this.decided.add(decision.callId);
    const [workflowId, pending] = [...this.held].find(([, calls]) => calls.some((c) => c.callId === decision.callId))!;
    const subtaskId = pending.find((call) => call.callId === decision.callId)!.subtaskId;
    const accepted: Accepted = {
      decision,
      workflowId,
      receipt: { callId: decision.callId, subtaskId, approve: decision.approve },
      forwarded: false,
    };
    this.inbox.push(accepted);
    // An executor that ends first (cancelled, goal finishing) resolves its calls itself: the update must not outwait it.
    await condition(() => accepted.forwarded || !this.held.has(workflowId));
    return accepted.receipt;
  }

  /** True when accepted decisions wait for the loop. */
  hasInbox(): boolean {
    return this.inbox.length > 0;
  }

  /** The loop's part: hands each accepted decision to `send` (a signal to the holding executor). */
  async forward(send: (workflowId: string, decision: ApprovalDecision) => Promise<void>): Promise<void> {
    for (const accepted of this.inbox.splice(0)) {
      await send(accepted.workflowId, accepted.decision);
      accepted.forwarded = true;
    }
  }
}
