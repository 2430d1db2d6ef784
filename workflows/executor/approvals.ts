/**
 * The approval gate of the executor: a tool call that needs a person waits here, as a durable `condition` in workflow
 * code, so the wait holds no activity and no worker slot, and queries, interrupts, pause and cancel keep working.
 * A decision arrives as the `decideApproval` update (an executor run alone) or as the `approvalDecision` signal (from
 * the planner, which validated it against its own view); only a call still held accepts one.
 */
import { condition } from '@temporalio/workflow';
import type { ApprovalDecision, ApprovalRelease, PendingApproval } from '../../common/approvals';
import {
  type CallKeys,
  type DeniedCall,
  earlierDenial,
  rememberDenial,
  repeatRefusedObservation,
} from '../../common/denials';
import { deniedObservation } from '../prompts';

/** How a held call ended, and the reason the model is told when it was not approved. */
type Verdict = { approve: true } | { approve: false; reason: string };

/** What the executor does with a call that needed approval: run it, or tell the model why not. */
export type GateOutcome = { run: true } | { run: false; observation: string };

/** A call to put to a person: the request, its fingerprints (common/denials.ts) and how long it may wait. */
export interface ApprovalRequest {
  approval: PendingApproval;
  keys: CallKeys;
  timeoutMs: number | undefined;
  timeoutReason: string;
}

interface Held {
  approval: PendingApproval;
  keys: CallKeys;
  decision?: ApprovalDecision;
  /** Set when an identical call was denied elsewhere in the goal while this one waited: what the model reads. */
  refused?: string;
}

export class ApprovalGate {
  private readonly held = new Map<string, Held>();

  /**
   * `onChange` runs after a call starts or stops waiting (then with how it ended), to tell the parent and refresh the
   * Web UI details.
   */
  constructor(private readonly onChange: (pending: PendingApproval[], released?: ApprovalRelease) => Promise<void>) {}

  /** The calls waiting now, oldest first. */
  pending(): PendingApproval[] {
    return [...this.held.values()].map((entry) => entry.approval);
  }

  /** Why `decision` cannot be taken, or undefined when it can: for the update's validator and the signal handler. */
  refusal(decision: ApprovalDecision): string | undefined {
    const entry = this.held.get(decision.callId);
    if (!entry) {
      return (
        `no tool call "${decision.callId}" is waiting for approval (it was decided, timed out, or never existed); ` +
        'list the waiting ones with: tandem approvals <goal id>'
      );
    }
    if (entry.decision)
      return `tool call "${decision.callId}" was already ${entry.decision.approve ? 'approved' : 'denied'}`;
    return undefined;
  }

  /** Records a decision; the waiting call picks it up. Call only after {@link refusal} said yes. */
  decide(decision: ApprovalDecision): void {
    const entry = this.held.get(decision.callId);
    if (entry && !entry.decision) entry.decision = decision;
  }

  /**
   * Denials learned while calls wait (the planner pushes those made in other subtasks): a held call identical to one
   * is refused at once, as it would have been had the denial come before it was held. A decision already taken wins.
   */
  learn(denials: readonly DeniedCall[]): void {
    for (const entry of this.held.values()) {
      if (entry.decision || entry.refused !== undefined) continue;
      const earlier = earlierDenial(denials, entry.approval.tool, entry.keys);
      if (earlier?.kind === 'identical') entry.refused = repeatRefusedObservation(entry.approval.tool, earlier.denial);
    }
  }

  /**
   * Puts a call to a person, unless an identical one was denied earlier in the goal (in `denials`, which this
   * executor's own denials join): then it is refused without asking, and the model reads the earlier denial. A call
   * that only resembles one denied before is held with that denial in its request.
   */
  async ask(request: ApprovalRequest, denials: DeniedCall[]): Promise<GateOutcome> {
    const { approval, keys } = request;
    const earlier = earlierDenial(denials, approval.tool, keys);
    if (earlier?.kind === 'identical') {
      const observation = repeatRefusedObservation(approval.tool, earlier.denial);
      await this.onChange(this.pending(), { callId: approval.callId, outcome: 'refused', reason: observation });
      return { run: false, observation };
    }
    const held = earlier ? { ...approval, deniedBefore: earlier.prior } : approval;
    const decided = await this.hold(
      held,
      keys,
      request.timeoutMs,
      request.timeoutReason,
      (outcome, decision, reason) => ({
        callId: approval.callId,
        subtaskId: approval.subtaskId,
        tool: approval.tool,
        arguments: approval.arguments,
        ...keys,
        outcome,
        ...(decision?.by ? { by: decision.by } : {}),
        reason,
        at: new Date(Date.now()).toISOString(),
      }),
    );
    if (decided.verdict.approve) return { run: true };
    if (decided.refused) return { run: false, observation: decided.verdict.reason };
    if (decided.denial) rememberDenial(denials, decided.denial);
    return { run: false, observation: deniedObservation(approval.tool, decided.verdict.reason) };
  }

  /**
   * Holds the call until a decision, or until `timeoutMs` passes (then it is denied with `timeoutReason`). A cancel of
   * the workflow ends the wait by throwing, as any `condition` does; the call is then simply never run. A denial is
   * reported with what `denialOf` makes of it, for the goal's memory.
   */
  private async hold(
    approval: PendingApproval,
    keys: CallKeys,
    timeoutMs: number | undefined,
    timeoutReason: string,
    denialOf: (outcome: DeniedCall['outcome'], decision: ApprovalDecision | undefined, reason: string) => DeniedCall,
  ): Promise<{ verdict: Verdict; denial?: DeniedCall; refused?: true }> {
    const entry: Held = { approval, keys };
    this.held.set(approval.callId, entry);
    let released: ApprovalRelease | undefined;
    try {
      await this.onChange(this.pending());
      const decided = () => entry.decision !== undefined || entry.refused !== undefined;
      const inTime = timeoutMs === undefined ? (await condition(decided), true) : await condition(decided, timeoutMs);
      if (entry.refused !== undefined && !entry.decision) {
        released = { callId: approval.callId, outcome: 'refused', reason: entry.refused };
        return { verdict: { approve: false, reason: entry.refused }, refused: true };
      }
      const verdict: Verdict =
        !inTime || !entry.decision
          ? { approve: false, reason: timeoutReason }
          : entry.decision.approve
            ? { approve: true }
            : { approve: false, reason: entry.decision.reason ?? 'no reason given' };
      if (verdict.approve) {
        released = { callId: approval.callId, outcome: 'approved' };
        return { verdict };
      }
      const outcome = entry.decision ? 'denied' : 'timed_out';
      const denial = denialOf(outcome, entry.decision, verdict.reason);
      released = { callId: approval.callId, outcome, reason: verdict.reason, denial };
      return { verdict, denial };
    } finally {
      this.held.delete(approval.callId);
      // After a cancel (no `released`) the parent learns from the child's result; a signal from a cancelled scope
      // would only fail.
      if (released) await this.onChange(this.pending(), released);
    }
  }
}

function duration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return ms % 1_000 === 0 ? `${ms / 1_000}s` : `${ms}ms`;
}

/**
 * How long a held call may wait, and what the model is told when that runs out: the approval timeout, or the
 * subtask's time budget when that ends first (a wait must not outlive the budget that bounds the whole subtask).
 */
export function approvalWait(
  policyMs: number | undefined,
  budgetMs: number | undefined,
): { timeoutMs: number | undefined; reason: string } {
  if (budgetMs !== undefined && (policyMs === undefined || budgetMs < policyMs)) {
    return {
      timeoutMs: Math.max(1, budgetMs),
      reason: "the subtask's time budget ran out while it waited for approval",
    };
  }
  if (policyMs === undefined) return { timeoutMs: undefined, reason: '' };
  return { timeoutMs: policyMs, reason: `nobody decided within ${duration(policyMs)} (the approval timeout)` };
}

/** The id a held call is known by, unique in the goal: the executor's part of its workflow id, the step, the call. */
export function approvalCallId(workflowId: string, parentId: string | undefined, step: number, callId: string): string {
  const executor =
    parentId && workflowId.startsWith(`${parentId}.`) ? workflowId.slice(parentId.length + 1) : workflowId;
  return `${executor}:${step}:${callId}`;
}

/** The Web UI details of an executor with held calls (the planner shows the goal's in its own details). */
export function approvalsMarkdown(pending: PendingApproval[]): string {
  if (pending.length === 0) return '';
  return [
    `**Waiting for approval** (${pending.length})`,
    '',
    '| call | tool | arguments | since |',
    '| --- | --- | --- | --- |',
    ...pending.map(
      (approval) =>
        `| ${approval.callId} | ${approval.tool} | ${approval.arguments.slice(0, 200).replace(/\|/g, '\\|')} | ` +
        `${approval.requestedAt}${approval.warning ? ` (warning: ${approval.warning.replace(/\|/g, '\\|')})` : ''} |`,
    ),
  ].join('\n');
}
