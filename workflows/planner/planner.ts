/**
 * The outer loop: owns the goal, the plan (every version), the global budget and the tree's state. It asks the model
 * for a plan, runs the subtasks whose dependencies are done as concurrent child executors, has a judge check each
 * result against its milestone, replans on evidence (automatically or on request) and ends with a report.
 *
 * This function only wires the message handlers to the goal's state (./goal-run.ts) and runs the loop. Handlers only
 * record what arrived; the loop acts on it at one defined point per turn, in this order: pause/resume, interrupts,
 * cancellations, finished children (judged), budget, replan, completion, dispatch.
 *
 * Failure semantics: goal-level outcomes (automatic replans exhausted, goal budget exhausted, a replan the model
 * could not make valid) end as a *result* with `ok: false` and a `reason`, because they are answers the caller acts on
 * and come with a report of the work done. A first plan the model cannot make valid is replaced by a one-subtask
 * fallback plan. Input that can never run (`InvalidGoal`) is a *workflow failure*: a non-retryable
 * `ApplicationFailure`, since there is nothing to run or report.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  approvalsChangedSignal,
  decideApprovalUpdate,
  cancelSubtaskPayloadSchema,
  cancelSubtaskSignal,
  interruptPayloadSchema,
  interruptSignal,
  pauseSignal,
  progressQuery,
  replanPayloadSchema,
  replanSignal,
  resumeSignal,
  revisePlanUpdate,
  subtaskProgressSignal,
  subtaskResultSignal,
} from '../../common/contract';
import { contentMarker } from '../../common/limits';
import { FailureType } from '../../common/failures';
import {
  DEFAULT_MAX_PARALLEL,
  DEFAULT_MAX_REPLANS,
  type GoalInput,
  goalInputSchema,
  type GoalResult,
} from '../../common/types';
import { approvalDecisionSchema } from '../../common/approvals';
import { planRequest } from '../prompts';
import { GoalRun, type GoalSnapshot } from './goal-run';

/**
 * The `patched()` id of the planner's behaviour since issue 13 (see `GoalSettings.detached`). Recorded histories of
 * runs started before it replay on the old path; every new run takes the new one.
 */
export const DETACHED_CHILDREN_PATCH = 'tandem-detached-children';

/** What a planner run is started with: the goal, and after a continue-as-new the previous run's state. */
export type PlannerInput = GoalInput & { continued?: GoalSnapshot };

/** Wires the messages to the goal's state: handlers validate and record, nothing else. */
function wireHandlers(goal: GoalRun): void {
  setHandler(progressQuery, () => goal.progress());
  setHandler(replanSignal, (payload) => {
    const checked = replanPayloadSchema.safeParse(payload);
    if (!checked.success) log.warn('replan signal dropped', { error: checked.error.message });
    else if (goal.finished) log.warn('replan signal dropped: the goal is finishing', { status: goal.status });
    else goal.recordReplan(checked.data.evidence, false);
  });
  setHandler(
    revisePlanUpdate,
    async ({ evidence }) => {
      const version = await goal.replanAnswered(goal.recordReplan(evidence.trim(), false));
      if (version === undefined) {
        throw ApplicationFailure.create({
          type: FailureType.GoalFinished,
          message: `the goal ended (${goal.status}) before the replan`,
        });
      }
      return version;
    },
    {
      // Validators run before anything is written to history: a refused request leaves no trace.
      validator: (payload) => {
        const checked = replanPayloadSchema.safeParse(payload);
        if (!checked.success) throw new Error(checked.error.issues.map((issue) => issue.message).join('; '));
        if (goal.finished) throw new Error(`the goal is ${goal.status}; a finished goal cannot be replanned`);
      },
    },
  );
  setHandler(interruptSignal, (payload) => {
    const checked = interruptPayloadSchema.safeParse(payload);
    if (checked.success) goal.recordInterrupt(checked.data);
    else log.warn('interrupt signal dropped', { error: checked.error.message });
  });
  setHandler(cancelSubtaskSignal, (payload) => {
    const checked = cancelSubtaskPayloadSchema.safeParse(payload);
    if (checked.success) goal.recordCancelSubtask(checked.data);
    else log.warn('cancelSubtask signal dropped', { error: checked.error.message });
  });
  setHandler(pauseSignal, () => goal.recordPaused(true));
  setHandler(resumeSignal, () => goal.recordPaused(false));
  setHandler(subtaskProgressSignal, ({ subtaskId, step, usage }) => goal.recordStep(subtaskId, step, usage));
  setHandler(subtaskResultSignal, ({ workflowId, result }) => goal.recordResult(workflowId, result));
  setHandler(approvalsChangedSignal, (report) => goal.approvals.record(report));
  setHandler(decideApprovalUpdate, (decision) => goal.approvals.accept(decision), {
    // An unknown or already decided callId is refused here, so a stale or repeated decision never reaches history.
    validator: (payload) => {
      const checked = approvalDecisionSchema.safeParse(payload);
      if (!checked.success) throw new Error(checked.error.issues.map((issue) => issue.message).join('; '));
      const refusal = goal.approvals.refusal(checked.data);
      if (refusal) throw new Error(refusal);
    },
  });
}

/** The loop: plan, then one turn per batch of events until the goal ends. */
async function runGoal(goal: GoalRun, input: PlannerInput, promptGoal: string): Promise<GoalResult> {
  if (!input.continued) {
    goal.publish();
    await goal.prepareWorkspace();
    goal.adoptFirstPlan(await goal.draft(planRequest(promptGoal)));
  }
  for (;;) {
    // Continue-as-new when the server suggests it, at a turn boundary with nothing half-done; running children are
    // carried by workflow id (they outlive this run and report to the goal's id).
    if (goal.handOverDue()) {
      await continueAsNew<typeof plannerWorkflow>({ ...input, continued: goal.snapshot() });
    }
    goal.publish();
    await goal.waitForWork();
    // Each step awaits only when it has work: an idle await would let cancellations propagate earlier than recorded
    // histories have them, and the order of commands is part of what replay checks.
    if (goal.pending().pause) await goal.forwardPause();
    if (goal.pending().interrupts) await goal.deliverInterrupts();
    if (goal.pending().decisions) await goal.forwardDecisions();
    goal.applyCancels();
    if (goal.pending().cancels) await goal.sendCancels();
    if (goal.pending().finishedRuns) await goal.settleFinished();
    const ending = goal.endingReason();
    if (ending === 'budget_exhausted' || ending === 'replans_exhausted') return goal.finish(false, ending);
    if (goal.pending().replans) {
      const ended = await goal.replan();
      if (ended) return ended;
      continue;
    }
    if (ending === 'done') return goal.finish(true);
    goal.dispatchReady();
  }
}

/** Runs a goal: plan, concurrent child executors judged against their milestones, replans, final report. */
export async function plannerWorkflow(input: PlannerInput): Promise<GoalResult> {
  const { continued, ...goalFields } = input;
  const parsed = goalInputSchema.safeParse(goalFields);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      parsed.error.issues.map((issue) => issue.message).join('; '),
      FailureType.InvalidGoal,
    );
  }
  const { goal: goalText, goalRef, maxStepsPerSubtask, maxTokens, maxSteps, deadline } = parsed.data;
  const detached = patched(DETACHED_CHILDREN_PATCH);
  // A goal passed by reference reaches the model whole: the model-call activity expands the marker.
  const promptGoal = goalRef === undefined ? goalText : contentMarker(goalRef);
  const goal = new GoalRun({
    goalId: workflowInfo().workflowId,
    goal: goalText,
    maxStepsPerSubtask,
    maxParallel: parsed.data.maxParallel ?? DEFAULT_MAX_PARALLEL,
    maxReplans: parsed.data.maxReplans ?? DEFAULT_MAX_REPLANS,
    limits: { maxTokens, maxSteps, deadlineMs: deadline === undefined ? undefined : Date.parse(deadline) },
    startedMs: continued?.startedMs ?? Date.now(),
    detached,
    promptGoal,
    ...(parsed.data.approveTools?.length
      ? { approval: { tools: parsed.data.approveTools, timeoutMs: parsed.data.approvalTimeoutMs } }
      : {}),
  });
  if (continued) goal.restore(continued);
  wireHandlers(goal);
  try {
    const result = await runGoal(goal, input, promptGoal);
    await condition(allHandlersFinished);
    return result;
  } catch (err) {
    if (isCancellation(err) && detached) {
      // Cancelling a goal is an end it reports: children cancelled by request, their partials, a report.
      return CancellationScope.nonCancellable(async () => {
        const result = await goal.finishCancelled();
        await condition(allHandlersFinished);
        return result;
      });
    }
    if (isCancellation(err)) throw err;
    // The failure handler: whatever ends the goal as a workflow failure (a plan the model cannot make valid, a failed
    // report call), the Web UI details, the search attributes and the progress query still say why, next to every
    // completed subtask, which the query keeps serving after the run has closed.
    goal.status = 'failed';
    goal.publish(err instanceof Error ? err.message : String(err));
    throw err;
  }
}
