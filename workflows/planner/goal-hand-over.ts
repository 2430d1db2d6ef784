/**
 * Continue-as-new: the state a run hands its continuation is the goal's state itself (./goal-state.ts), with the runs
 * that are settled folded into `spent` (their results live on in their entries) and finished results compacted, so it
 * stays far under the 2 MB payload limit. Running children are carried by workflow id: they outlive the run and
 * report to the goal's id.
 */
import { allHandlersFinished, workflowInfo } from '@temporalio/workflow';
import { addUsage } from '../../common/usage';
import { PAYLOAD_BUDGET_BYTES, payloadBytes } from '../../common/limits';
import { compactResult } from './evidence';
import { canHandOver, type GoalState } from './goal-state';

/** Whether the server suggests a continue-as-new and this run can hand over now (see `canHandOver`). */
export function handOverDue(state: GoalState): boolean {
  return workflowInfo().continueAsNewSuggested && canHandOver(state, allHandlersFinished());
}

/**
 * The state a continuation starts from, under the payload budget: if the plan versions make it too large, the older
 * versions travel without their subtask lists (their reasons stay). Pure.
 */
export function handOverState(state: GoalState): GoalState {
  const spent = { usage: { ...state.spent.usage }, steps: state.spent.steps };
  for (const run of state.runs) {
    if (run.phase !== 'settled') continue;
    addUsage(spent.usage, run.usage);
    spent.steps += run.steps;
  }
  const full: GoalState = {
    ...state,
    runs: state.runs.filter((run) => run.phase !== 'settled'),
    spent,
    entries: state.entries.map((entry) => (entry.result ? { ...entry, result: compactResult(entry.result) } : entry)),
  };
  if (payloadBytes(full) <= PAYLOAD_BUDGET_BYTES) return full;
  const last = full.plans.length - 1;
  return { ...full, plans: full.plans.map((plan, index) => (index === last ? plan : { ...plan, subtasks: [] })) };
}
