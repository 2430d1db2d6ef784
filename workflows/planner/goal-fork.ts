/**
 * A fork's start (`tandem fork`, docs/fork.md): instead of drafting a first plan, the goal takes the original's plan
 * versions, files the subtasks it keeps as done with their results and verdicts (settled runs of the original's
 * executors, so usage and `status` count them and nothing judges them again), and leaves the seed of the resumed
 * subtask for its dispatch. Pure: it only changes the state.
 */
import type { ForkOrigin } from '../../common/fork';
import { childWorkflowId } from './goal-children';
import type { Goal } from './goal-publish';
import { ANY_SUBTASK, currentPlan, type Entry } from './goal-state';

/** Seeds the goal's state from `fork`; the loop then dispatches what is not kept, the resumed subtask first in line. */
export function adoptFork(goal: Goal, fork: ForkOrigin): void {
  const { state, settings } = goal;
  state.forkedFrom = fork.forkedFrom;
  state.plans = fork.plans.map((plan) => ({ ...plan }));
  const { version, subtasks } = currentPlan(state);
  state.entries = subtasks.map((subtask): Entry => {
    const kept = fork.kept.find((entry) => entry.id === subtask.id);
    if (!kept) return { subtask, status: 'pending', workflowId: childWorkflowId(settings.goalId, version, subtask.id) };
    const { workflowId, result, verdict } = kept;
    state.runs.push({
      phase: 'settled',
      subtaskId: subtask.id,
      workflowId,
      steps: result.steps,
      usage: result.usage,
      result,
    });
    return { subtask, status: 'done', workflowId, runWorkflowId: workflowId, verdict, result };
  });
  if (fork.resume) state.seeds = { [fork.resume.subtaskId]: fork.resume.seed };
  if (fork.interrupt) state.queuedInterrupts[fork.resume?.subtaskId ?? ANY_SUBTASK] = [fork.interrupt];
  state.status = 'running';
}
