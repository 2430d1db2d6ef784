/**
 * What a keyed schedule starts at each firing. Temporal appends the firing time to a schedule's workflow id, so a
 * schedule cannot start the planner under the key's one id (`goal-key-K`) itself; this short workflow does, as a
 * child, and the server's one-running-workflow-per-id rule then makes the key exclusive against `tandem start --key K`
 * in either order, with no lock of our own and no window between a check and a start.
 */
import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  goalSearchAttributes,
  goalSummary,
  keyWorkflowId,
  type KeyedGoalLaunch,
  type KeyedGoalLaunchResult,
} from '../common/goal-start';
import { plannerWorkflow } from './planner/planner';

/** Starts the key's goal, or ends `key_busy` naming the goal of that key that is running. */
export async function keyedGoalLauncherWorkflow(launch: KeyedGoalLaunch): Promise<KeyedGoalLaunchResult> {
  const goalId = keyWorkflowId(launch.key);
  try {
    const child = await startChild(plannerWorkflow, {
      workflowId: goalId,
      args: [launch.input],
      staticSummary: goalSummary(launch.input.goal),
      typedSearchAttributes: goalSearchAttributes(launch.input.goal, launch.key),
      // The goal outlives this launcher, which ends as soon as the goal has started.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    return { outcome: 'started', goalId, runId: child.firstExecutionRunId };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { outcome: 'key_busy', goalId, message: `goal already running for key ${launch.key}: ${goalId}` };
  }
}
