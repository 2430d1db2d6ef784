/**
 * tandem's workflows as a careless deployment might change them: the planner starts with a timer where every recorded
 * goal starts with its plan call. A worker running this bundle under a goal in flight fails its workflow tasks with a
 * non-determinism error (test/blocked-goal.test.ts).
 */
import { sleep } from '@temporalio/workflow';

export { executorWorkflow } from '../../workflows/executor/executor';

/** Not tandem's planner: a timer first, which no recorded planner history holds. */
export async function plannerWorkflow(): Promise<void> {
  await sleep('1 hour');
}
