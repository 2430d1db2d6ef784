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
export function sameWork(a: Subtask, b: Subtask): boolean {
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

/**
 * Whether `next` repeats the work of `current` that is not done: the same subtasks (by id) with the same work, so
 * running it would retry what just failed, under the same budget.
 */
export function repeatsUnfinished(current: CurrentSubtask[], next: Subtask[]): boolean {
  const unfinished = current.filter((entry) => entry.status !== 'done');
  const doneIds = new Set(current.filter((entry) => entry.status === 'done').map((entry) => entry.subtask.id));
  const fresh = next.filter((subtask) => !doneIds.has(subtask.id));
  return (
    fresh.length === unfinished.length &&
    fresh.every((subtask) => {
      const old = unfinished.find((entry) => entry.subtask.id === subtask.id);
      return old !== undefined && sameWork(old.subtask, subtask);
    })
  );
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
