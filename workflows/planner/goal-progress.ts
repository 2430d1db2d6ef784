/**
 * The `progress` query's answer, read from the goal's state (./goal-state.ts): what `tandem status`, `watch` and the
 * Web UI details show. Pure.
 */
import type { GoalProgress } from '../../common/types';
import { tokensOf, zeroUsage } from '../../common/usage';
import { currentPlan, goalBudget, type GoalSettings, type GoalState, goalUsage, runOf } from './goal-state';

/** The `progress` query's answer. */
export function goalProgress(state: GoalState, settings: GoalSettings, nowMs: number): GoalProgress {
  const plan = currentPlan(state);
  return {
    status: state.paused && state.status === 'running' ? 'paused' : state.status,
    paused: state.paused,
    ...(state.workspace !== undefined ? { workspace: state.workspace } : {}),
    queuedInterrupts: Object.values(state.queuedInterrupts).reduce((sum, queue) => sum + queue.length, 0),
    undeliveredInterrupts: state.undelivered,
    refusedRepeatCalls: state.approvals.refusedRepeats,
    ...(state.forkedFrom ? { forkedFrom: state.forkedFrom } : {}),
    goal: settings.goal,
    planVersion: state.plans.length,
    planReason: plan?.reason ?? '',
    plan: plan?.subtasks ?? [],
    subtasks: state.entries.map((entry) => {
      const usage = runOf(state, entry.runWorkflowId)?.usage ?? zeroUsage();
      return {
        id: entry.subtask.id,
        title: entry.subtask.title,
        status: entry.status,
        workflowId: entry.workflowId,
        steps: runOf(state, entry.runWorkflowId)?.steps ?? 0,
        usage: { ...usage },
        tokens: tokensOf(usage),
        ...(entry.verdict ? { verdict: entry.verdict } : {}),
      };
    }),
    usage: goalUsage(state),
    budget: goalBudget(state, settings, nowMs),
    // A goal that never adopted a plan has made no replan (not -1).
    replans: Math.max(0, state.plans.length - 1),
    versions: state.plans,
    rejectedDrafts: state.rejectedDrafts,
    pendingApprovals: Object.values(state.approvals.held)
      .flat()
      .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt)),
  };
}
