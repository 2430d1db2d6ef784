/**
 * The outer loop: owns the goal, the plan (every version), the global budget and the tree's state. It asks the model
 * for a plan, runs the subtasks whose dependencies are done as concurrent child executors, has a judge check each
 * result against its milestone, replans on evidence (automatically or on request) and ends with a report.
 *
 * This function only wires the message handlers to the goal's state (./goal-state.ts) and runs the loop; the actions
 * live in ./goal-children.ts, ./goal-plans.ts and ./goal-end.ts, every Temporal effect in ./goal-effects.ts. Handlers
 * only record what arrived; the loop acts on it at one defined point per turn (see {@link turn}).
 *
 * Failure semantics: goal-level outcomes (automatic replans exhausted, goal budget exhausted, a replan the model
 * could not make valid, a cancel) end as a *result* with `ok: false` and a `reason`, because they are answers the
 * caller acts on and come with a report of the work done; ../ending.ts then closes the run as Failed (`GoalNotOk`, the
 * result in its details) or Canceled (the result in its memo), so the Web UI's status is the outcome. A first plan the model cannot make valid is replaced by a one-subtask
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
import { endWith, failureMessage, recordFinalProgress } from '../ending';
import { traceGoalEnd } from '../tracing';
import { planRequest } from '../prompts';
import { prepareWorkspace, seedWorkspace } from '../activity-stubs';
import type { ForkOrigin } from '../../common/fork';
import { adoptFork } from './goal-fork';
import { acceptDecision, decisionRefusal, denialEvidence, recordHeld } from './approvals';
import {
  applyCancels,
  dispatchReady,
  forwardDecisions,
  forwardDenials,
  forwardPause,
  recordResult,
  sendCancels,
} from './goal-children';
import { waitUntil } from './goal-effects';
import { deliverInterrupts, interruptArrived } from './interrupts';
import {
  endingReason,
  endPlanInvalid,
  finish,
  finishCancelled,
  finishOverBudget,
  settleReturned,
  withUndelivered,
} from './goal-end';
import { handOverDue, handOverState } from './goal-hand-over';
import { adoptFirstPlan, draft, recordReplan, replan, replanAnswered } from './goal-plans';
import { progressNow, publish, publishProgressDetails, type Goal } from './goal-publish';
import {
  allDone,
  canDispatch,
  type GoalState,
  goalBudget,
  hasPendingWork,
  initialGoalState,
  isFinished,
  pendingWork,
  runOf,
  stepReported,
} from './goal-state';
import { exhaustedCap } from './goal-budget';
import { adoptPrices } from './goal-prices';

/**
 * What a planner run is started with: the goal, after a continue-as-new the previous run's state, and for a fork
 * (`tandem fork`) where it starts from instead of a first plan.
 */
export type PlannerInput = GoalInput & { continued?: GoalState; fork?: ForkOrigin };

/** The goal's own input, without a continuation's state or a fork's origin. */
export const goalFieldsOf = ({ continued: _state, fork: _origin, ...fields }: PlannerInput): GoalInput => fields;

/** Wires the messages to the goal's state: handlers validate and record, nothing else. */
function wireHandlers(goal: Goal): void {
  const { state } = goal;
  setHandler(progressQuery, () => progressNow(goal));
  setHandler(replanSignal, (payload) => {
    const checked = replanPayloadSchema.safeParse(payload);
    if (!checked.success) log.warn('replan signal dropped', { error: checked.error.message });
    else if (isFinished(state)) log.warn('replan signal dropped: the goal is finishing', { status: state.status });
    else recordReplan(goal, checked.data.evidence, false);
  });
  setHandler(
    revisePlanUpdate,
    async ({ evidence }) => {
      const version = await replanAnswered(goal, recordReplan(goal, evidence.trim(), false));
      if (version === undefined) {
        throw ApplicationFailure.create({
          type: FailureType.GoalFinished,
          message: `the goal ended (${state.status}) before the replan`,
        });
      }
      return version;
    },
    {
      // Validators run before anything is written to history: a refused request leaves no trace.
      validator: (payload) => {
        const checked = replanPayloadSchema.safeParse(payload);
        if (!checked.success) throw new Error(checked.error.issues.map((issue) => issue.message).join('; '));
        if (isFinished(state)) throw new Error(`the goal is ${state.status}; a finished goal cannot be replanned`);
      },
    },
  );
  setHandler(interruptSignal, (payload) => {
    const checked = interruptPayloadSchema.safeParse(payload);
    if (!checked.success) log.warn('interrupt signal dropped', { error: checked.error.message });
    else if (!interruptArrived(state, checked.data)) log.warn('interrupt not delivered: the goal is finishing');
  });
  setHandler(cancelSubtaskSignal, (payload) => {
    const checked = cancelSubtaskPayloadSchema.safeParse(payload);
    if (checked.success) state.cancelInbox.push(checked.data);
    else log.warn('cancelSubtask signal dropped', { error: checked.error.message });
  });
  setHandler(pauseSignal, () => {
    state.paused = true;
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
  });
  // A step report is progress of a run in flight: the Web UI details follow at once (they are not a history event);
  // the search attributes wait for the loop's next turn, as each upsert is one.
  setHandler(subtaskProgressSignal, ({ subtaskId, step, usage }) => {
    const run = runOf(state, state.entries.find((entry) => entry.subtask.id === subtaskId)?.runWorkflowId);
    if (!run) return;
    stepReported(run, step, usage);
    publishProgressDetails(goal);
  });
  setHandler(subtaskResultSignal, ({ workflowId, result }) => recordResult(goal, workflowId, result));
  setHandler(approvalsChangedSignal, (report) => {
    const denial = denialEvidence(state.approvals, report);
    if (denial !== undefined) state.evidenceForNextReplan.push(denial);
    recordHeld(state.approvals, report);
  });
  setHandler(decideApprovalUpdate, (decision) => acceptDecision(state.approvals, decision), {
    // An unknown or already decided callId is refused here, so a stale or repeated decision never reaches history.
    validator: (payload) => {
      const checked = approvalDecisionSchema.safeParse(payload);
      if (!checked.success) throw new Error(checked.error.issues.map((issue) => issue.message).join('; '));
      const refusal = decisionRefusal(state.approvals, checked.data);
      if (refusal) throw new Error(refusal);
    },
  });
}

/** Waits until pending work, a hand-over, the budget, the end or a dispatch gives the loop something to do. */
function waitForWork(goal: Goal): Promise<void> {
  const { state, settings } = goal;
  const somethingToDo = () =>
    hasPendingWork(pendingWork(state)) ||
    handOverDue(state) ||
    exhaustedCap(goalBudget(state, settings, Date.now())) !== null ||
    allDone(state) ||
    canDispatch(state, settings, Date.now());
  return waitUntil(somethingToDo, settings.limits.deadlineMs, Date.now());
}

/**
 * One turn of the loop, in this order, each step awaiting only when it has work (an idle await would let
 * cancellations propagate at another point of the history, and the order of commands is what replay checks):
 * 1. pause/resume first, so nothing below talks to a child that should be holding, or holds one that was resumed;
 * 2. interrupts, approval decisions and denials next, so they reach an executor before any cancel of this turn ends it;
 * 3. cancellations (requested, then sent), so a cancelled subtask is not judged as if it had finished on its own;
 * 4. returned runs judged, since their verdicts decide the budget, the replan and the end below;
 * 5. the goal's end on a used-up budget or replans, before a replan that could not run anyway;
 * 6. a replan, before completion, since a queued replan means the work is not done;
 * 7. completion, then dispatch of whatever is ready.
 * Returns the goal's result when the turn ended it.
 */
async function turn(goal: Goal): Promise<GoalResult | undefined> {
  const work = pendingWork(goal.state);
  if (work.pause) await forwardPause(goal);
  if (work.interrupts) await deliverInterrupts(goal);
  if (work.decisions) await forwardDecisions(goal);
  if (work.denials) await forwardDenials(goal);
  applyCancels(goal, (evidence, automatic) => recordReplan(goal, evidence, automatic));
  if (pendingWork(goal.state).cancels) await sendCancels(goal);
  if (pendingWork(goal.state).returnedRuns) await settleReturned(goal);
  const ending = endingReason(goal);
  if (ending === 'budget_exhausted') return finishOverBudget(goal);
  if (ending === 'replans_exhausted') return finish(goal, { ok: false, reason: ending });
  if (pendingWork(goal.state).replans) {
    const outcome = await replan(goal);
    if (outcome.kind === 'out_of_time') return finish(goal, { ok: false, reason: 'budget_exhausted', budget: 'time' });
    return outcome.kind === 'invalid' ? endPlanInvalid(goal, outcome.draft, outcome.evidence) : undefined;
  }
  if (ending === 'done') return finish(goal, { ok: true });
  dispatchReady(goal);
  return undefined;
}

/** The loop: plan, then one turn per batch of events until the goal ends. */
async function runGoal(goal: Goal, input: PlannerInput): Promise<GoalResult> {
  if (!input.continued) await adoptPrices(goal);
  if (!input.continued && input.fork) {
    const { fork } = input;
    goal.state.workspace = fork.workspaceRef
      ? await seedWorkspace({ workspace: goal.settings.goalId, manifestRef: fork.workspaceRef })
      : await prepareWorkspace(goal.settings.goalId);
    adoptFork(goal, fork);
  } else if (!input.continued) {
    publish(goal);
    goal.state.workspace = await prepareWorkspace(goal.settings.goalId);
    adoptFirstPlan(goal, await draft(goal, planRequest(goal.settings.promptGoal)));
  }
  for (;;) {
    // Continue-as-new when the server suggests it, at a turn boundary with nothing half-done.
    if (handOverDue(goal.state)) {
      // The fork's origin is in the state by now: the continuation does not carry it twice.
      await continueAsNew<typeof plannerWorkflow>({ ...goalFieldsOf(input), continued: handOverState(goal.state) });
    }
    publish(goal);
    await waitForWork(goal);
    const result = await turn(goal);
    if (result) return result;
  }
}

/** Runs a goal: plan, concurrent child executors judged against their milestones, replans, final report. */
export async function plannerWorkflow(input: PlannerInput): Promise<GoalResult> {
  const { continued } = input;
  const parsed = goalInputSchema.safeParse(goalFieldsOf(input));
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      parsed.error.issues.map((issue) => issue.message).join('; '),
      FailureType.InvalidGoal,
    );
  }
  const { goal: goalText, goalRef, maxStepsPerSubtask, maxTokens, maxSteps, maxCostUsd, deadline } = parsed.data;
  const goal: Goal = {
    // Carried as it is: a continuation resumes the goal where its previous run handed over.
    state: continued ?? initialGoalState(Date.now()),
    settings: {
      goalId: workflowInfo().workflowId,
      goal: goalText,
      maxStepsPerSubtask,
      maxParallel: parsed.data.maxParallel ?? DEFAULT_MAX_PARALLEL,
      maxReplans: parsed.data.maxReplans ?? DEFAULT_MAX_REPLANS,
      limits: {
        maxTokens,
        maxSteps,
        maxCostUsd,
        deadlineMs: deadline === undefined ? undefined : Date.parse(deadline),
      },
      // A goal passed by reference reaches the model whole: the model-call activity expands the marker.
      promptGoal: goalRef === undefined ? goalText : contentMarker(goalRef),
      ...(parsed.data.approveTools?.length
        ? { approval: { tools: parsed.data.approveTools, timeoutMs: parsed.data.approvalTimeoutMs } }
        : {}),
      ...(parsed.data.model ? { model: parsed.data.model } : {}),
    },
  };
  wireHandlers(goal);
  const result = await resultOf(goal, input);
  traceGoalEnd(goal.state.plans, result);
  return endWith(result, 'goal', progressNow(goal));
}

/** Runs the goal to its result, a cancelled goal's too; a goal that cannot report fails here as a workflow. */
async function resultOf(goal: Goal, input: PlannerInput): Promise<GoalResult> {
  try {
    const result = await runGoal(goal, input);
    await condition(allHandlersFinished);
    return withUndelivered(goal, result);
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelling a goal is an end it reports: children cancelled by request, their partials, a report.
      return CancellationScope.nonCancellable(async () => {
        const result = await finishCancelled(goal);
        await condition(allHandlersFinished);
        return withUndelivered(goal, result);
      });
    }
    // The failure handler: whatever ends the goal as a workflow failure (a failed report call, say), the Web UI
    // details, the search attributes and the progress query still say why, next to every completed subtask, which
    // the query keeps serving after the run has closed.
    goal.state.status = 'failed';
    publish(goal, `**Ended:** failed: ${failureMessage(err)}`);
    recordFinalProgress(progressNow(goal));
    throw err;
  }
}
