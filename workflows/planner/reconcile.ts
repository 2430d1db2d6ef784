/**
 * Reconciliation: how a new plan version is applied to the work in flight. Pure, so the decisions are the same on
 * replay and can be read (and tested) apart from the loop that carries them out.
 *
 * Rules (also in the README):
 * - a subtask the new plan keeps (same id) that is done keeps its result and is not re-run;
 * - a running subtask the new plan keeps unchanged keeps running;
 * - a running subtask the new plan drops or changes is cancelled (its partial result becomes evidence);
 * - every other subtask of the new plan is pending and starts when its dependencies are done.
 */
import type { Subtask, SubtaskStatus } from '../../common/types';

/** What reconciliation needs to know of a subtask of the current plan. */
export interface CurrentSubtask {
  subtask: Subtask;
  status: SubtaskStatus;
}

export interface Reconciliation {
  /** Done subtasks whose results carry over. */
  keepDone: string[];
  /** Running children that carry over unchanged. */
  keepRunning: string[];
  /** Running children to cancel: dropped or changed by the new plan. */
  cancel: string[];
  /** Subtasks of the new plan that start (again) from pending. */
  pending: string[];
}

/** Same work: what the executor is given, ignoring the title (a renamed subtask is still the same work). */
function sameWork(a: Subtask, b: Subtask): boolean {
  const work = (subtask: Subtask) =>
    JSON.stringify([
      subtask.instructions,
      subtask.milestone,
      [...subtask.dependsOn].sort(),
      subtask.tools,
      subtask.budget,
    ]);
  return work(a) === work(b);
}

/** Decides, per subtask id, what happens to the current work when `next` replaces the current plan. */
export function reconcile(current: CurrentSubtask[], next: Subtask[]): Reconciliation {
  const byId = new Map(current.map((entry) => [entry.subtask.id, entry]));
  const nextIds = new Set(next.map((subtask) => subtask.id));
  const result: Reconciliation = { keepDone: [], keepRunning: [], cancel: [], pending: [] };
  for (const subtask of next) {
    const existing = byId.get(subtask.id);
    if (existing?.status === 'done') result.keepDone.push(subtask.id);
    else if (existing?.status === 'running' && sameWork(existing.subtask, subtask)) result.keepRunning.push(subtask.id);
    else {
      if (existing?.status === 'running') result.cancel.push(subtask.id);
      result.pending.push(subtask.id);
    }
  }
  for (const entry of current) {
    if (entry.status === 'running' && !nextIds.has(entry.subtask.id)) result.cancel.push(entry.subtask.id);
  }
  return result;
}
