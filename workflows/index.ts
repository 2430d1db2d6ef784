/** The workflows the worker registers (the bundler's entry point). */
export { executorWorkflow } from './executor/executor';
export { plannerWorkflow } from './planner/planner';
export { keyedGoalLauncherWorkflow } from './keyed-goal-launcher';
