/** The workflows the worker registers (the bundler's entry point). */
export { executorWorkflow } from './executor';
export { plannerWorkflow } from './planner';
