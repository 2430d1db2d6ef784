/**
 * What an executor tells its goal's planner, by signal to the goal's workflow id (its latest run, after a
 * continue-as-new too): progress, held calls and the result. Each is advisory for the planner's view or has a second
 * path (the child's completion), so a planner that is gone never fails the subtask.
 */
import { getExternalWorkflowHandle, isCancellation, log, workflowInfo } from '@temporalio/workflow';
import {
  approvalsChangedSignal,
  PROGRESS_REPORT_INTERVAL_MS,
  PROGRESS_REPORT_MIN_STEPS,
  subtaskProgressSignal,
  subtaskResultSignal,
} from '../../common/contract';
import type { ApprovalRelease, PendingApproval } from '../../common/approvals';
import type { ExecutorInput, ExecutorResult } from '../../common/types';
import type { LoopState } from './loop-state';

/**
 * Tells the goal's planner how far this subtask is, so its own `progress` covers the whole tree: at most once per
 * {@link PROGRESS_REPORT_INTERVAL_MS} of workflow time, so the planner's history does not grow with executor steps.
 */
export async function reportStep(input: ExecutorInput, state: LoopState): Promise<void> {
  if (input.reportTo === undefined) return;
  // Both bounds: time keeps the planner's history from growing with fast steps, the step count with slow ones.
  const now = Date.now();
  const due =
    state.reportedAt === undefined ||
    (now - state.reportedAt >= PROGRESS_REPORT_INTERVAL_MS &&
      state.step - (state.reportedStep ?? 0) >= PROGRESS_REPORT_MIN_STEPS);
  if (!due) return;
  state.reportedAt = now;
  state.reportedStep = state.step;
  try {
    // By workflow id only: the planner's latest run, even after a continue-as-new.
    await getExternalWorkflowHandle(input.reportTo).signal(subtaskProgressSignal, {
      subtaskId: input.subtask.id,
      step: state.step,
      usage: { ...state.usage },
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    // Progress is advisory: a parent that is gone must not fail the subtask.
    log.warn('could not report the step to the parent planner', { error: String(err) });
  }
}

/** Tells the parent planner which calls wait for approval now, so the goal's `progress` lists them. */
export async function reportApprovals(
  input: ExecutorInput,
  pending: PendingApproval[],
  released?: ApprovalRelease,
): Promise<void> {
  const parent = workflowInfo().parent;
  if (!parent) return;
  try {
    await getExternalWorkflowHandle(parent.workflowId).signal(approvalsChangedSignal, {
      subtaskId: input.subtask.id,
      workflowId: workflowInfo().workflowId,
      pending,
      ...(released ? { released } : {}),
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('could not report held calls to the parent planner', { error: String(err) });
  }
}

/** Sends the result to the goal's workflow id (see `subtaskResultSignal`); a planner that is gone is not a failure. */
export async function reportResult(input: ExecutorInput, result: ExecutorResult): Promise<void> {
  if (input.reportTo === undefined) return;
  try {
    await getExternalWorkflowHandle(input.reportTo).signal(subtaskResultSignal, {
      workflowId: workflowInfo().workflowId,
      result,
    });
  } catch (err) {
    log.warn('could not report the result to the planner', { planner: input.reportTo, error: String(err) });
  }
}
