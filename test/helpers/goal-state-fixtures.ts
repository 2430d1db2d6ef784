/** Builders of plain goal state for the tests that drive the planner's state without a server. */
import type { Subtask } from '../../common/types';
import type { GoalSettings } from '../../workflows/planner/goal-state';

/** A subtask whose every text names `id`. */
export const subtask = (id: string, dependsOn: string[] = []): Subtask => ({
  id,
  title: id,
  instructions: `do ${id}`,
  milestone: `${id} done`,
  dependsOn,
});

/** The settings of goal `goalId`: two subtasks at a time, two replans, no other limit. */
export const goalSettings = (goalId: string): GoalSettings => ({
  goalId,
  goal: 'the goal',
  maxStepsPerSubtask: undefined,
  maxParallel: 2,
  maxReplans: 2,
  limits: {},
  promptGoal: 'the goal',
});
