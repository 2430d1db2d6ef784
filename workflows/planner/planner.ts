/**
 * The outer loop: owns the goal, the plan (every version), the global budget and the tree's state. It asks the model
 * for a plan, runs the subtasks whose dependencies are done as concurrent child executors, has a judge check each
 * result against its milestone, replans on evidence (automatically or on request) and ends with a report.
 *
 * Message handlers only record what arrived; the main loop acts on it at one defined point per turn, in this order:
 * pause/resume, interrupts, cancellations, finished children (judged), budget, replan, completion, dispatch.
 *
 * Failure semantics: goal-level outcomes (automatic replans exhausted, goal budget exhausted) end as a *result* with
 * `ok: false` and a `reason`, because they are answers the caller acts on and come with a partial report. Input that
 * can never run (`InvalidGoal`) and a model that cannot produce a valid plan (`PlanInvalid`) are *workflow failures*:
 * non-retryable `ApplicationFailure`s, since there is no report to write.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { FailureType } from '../../common/failures';
import {
  cancelSubtaskPayloadSchema,
  cancelSubtaskSignal,
  type InterruptPayload,
  interruptPayloadSchema,
  interruptSignal,
  pauseSignal,
  planVersionSearchAttribute,
  progressQuery,
  replanPayloadSchema,
  replanSignal,
  resumeSignal,
  revisePlanUpdate,
  statusSearchAttribute,
  subtaskProgressSignal,
  tokensSearchAttribute,
} from '../../common/contract';
import {
  DEFAULT_MAX_PARALLEL,
  DEFAULT_MAX_REPLANS,
  type ExecutorResult,
  type GoalFailureReason,
  type GoalInput,
  goalInputSchema,
  type GoalProgress,
  type GoalResult,
  type GoalStatus,
  type PlanVersion,
  type Subtask,
  type SubtaskStatus,
  type Verdict,
} from '../../common/types';
import { addUsage, tokensOf, type TokenUsage, zeroUsage } from '../../common/usage';
import { evidenceOf, resultOfFailedRun, type RunSoFar } from './evidence';
import { executorWorkflow } from '../executor/executor';
import { budgetProgress, capSubtaskBudget, exhaustedCap, type GoalLimits } from './goal-budget';
import { readySubtasks } from './plan';
import { draftPlan, judge, writeReport } from './model-calls';
import { planRequest, replanRequest, reportRequest } from '../prompts';
import { progressMarkdown } from './progress-details';
import { reconcile } from './reconcile';

/** Deterministic, readable child ids (goal, plan version, subtask) so a subtask can be found in the Web UI. */
export function childWorkflowId(goalId: string, planVersion: number, subtaskId: string): string {
  return `${goalId}.v${planVersion}.${subtaskId}`;
}

/** One child executor run. A subtask may have several over the goal's life (re-run after a replan). */
interface ChildRun extends RunSoFar {
  subtaskId: string;
  workflowId: string;
  scope: CancellationScope;
  handle?: ChildWorkflowHandle<typeof executorWorkflow>;
  result?: ExecutorResult;
}

/** A subtask of the current plan and where it stands. */
interface Entry {
  subtask: Subtask;
  status: SubtaskStatus;
  workflowId: string;
  run?: ChildRun;
  verdict?: Verdict;
  result?: ExecutorResult;
}

/** A replan waiting for the main loop; `ticket` lets a `revisePlan` update find the version that answered it. */
interface ReplanRequest {
  evidence: string;
  /** Automatic replans (missed milestone, failed child) count against `maxReplans`; requested ones do not. */
  automatic: boolean;
  ticket: number;
}

const FINISHED: GoalStatus[] = ['reporting', 'completed', 'failed'];

/** Runs a goal: plan, concurrent child executors judged against their milestones, replans, final report. */
export async function plannerWorkflow(input: GoalInput): Promise<GoalResult> {
  const parsed = goalInputSchema.safeParse(input);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      parsed.error.issues.map((issue) => issue.message).join('; '),
      FailureType.InvalidGoal,
    );
  }
  const { goal, maxStepsPerSubtask } = parsed.data;
  const maxParallel = parsed.data.maxParallel ?? DEFAULT_MAX_PARALLEL;
  const maxReplans = parsed.data.maxReplans ?? DEFAULT_MAX_REPLANS;
  const limits: GoalLimits = {
    maxTokens: parsed.data.maxTokens,
    maxSteps: parsed.data.maxSteps,
    deadlineMs: parsed.data.deadline === undefined ? undefined : Date.parse(parsed.data.deadline),
  };
  const goalId = workflowInfo().workflowId;
  const startedMs = Date.now();

  // ---- state (the only state; queries read it, handlers append to the inboxes) ----
  let status: GoalStatus = 'planning';
  const plans: PlanVersion[] = [];
  let entries: Entry[] = [];
  /** Every run ever started, so usage counts cancelled and superseded work too. */
  const runs: ChildRun[] = [];
  const finishedRuns: ChildRun[] = [];
  /** The planner's own LLM calls: plans, judges, report. */
  const ownUsage: TokenUsage = zeroUsage();
  let automaticReplans = 0;
  let paused = false;
  let pausedForwarded = false;
  const replanInbox: ReplanRequest[] = [];
  /** Partial results of runs a new plan cancelled: evidence for the next replan, not a reason for one. */
  const cancelledWork: string[] = [];
  const interruptInbox: InterruptPayload[] = [];
  const cancelInbox: Array<{ subtaskId: string; reason: string }> = [];
  let nextTicket = 1;
  const versionOfTicket = new Map<number, number>();

  const currentPlan = (): PlanVersion => plans[plans.length - 1];
  const entryOf = (id: string) => entries.find((entry) => entry.subtask.id === id);
  const running = () => entries.filter((entry) => entry.status === 'running');
  const usage = (): TokenUsage => {
    const total = { ...ownUsage };
    for (const run of runs) addUsage(total, run.usage);
    return total;
  };
  const budget = () =>
    budgetProgress(
      limits,
      { tokens: tokensOf(usage()), steps: runs.reduce((sum, run) => sum + run.steps, 0) },
      startedMs,
      Date.now(),
    );

  const progress = (): GoalProgress => ({
    status: paused && status === 'running' ? 'paused' : status,
    goal,
    planVersion: plans.length,
    planReason: currentPlan()?.reason ?? '',
    plan: currentPlan()?.subtasks ?? [],
    subtasks: entries.map((entry) => ({
      id: entry.subtask.id,
      title: entry.subtask.title,
      status: entry.status,
      workflowId: entry.workflowId,
      steps: entry.run?.steps ?? 0,
      usage: { ...(entry.run?.usage ?? zeroUsage()) },
      tokens: tokensOf(entry.run?.usage ?? zeroUsage()),
      ...(entry.verdict ? { verdict: entry.verdict } : {}),
    })),
    usage: usage(),
    budget: budget(),
    replans: plans.length - 1,
    versions: plans,
  });

  // ---- messages: record only ----
  setHandler(progressQuery, progress);
  const requestReplan = (evidence: string, automatic: boolean): number => {
    const ticket = nextTicket++;
    replanInbox.push({ evidence, automatic, ticket });
    return ticket;
  };
  setHandler(replanSignal, (payload) => {
    const checked = replanPayloadSchema.safeParse(payload);
    if (!checked.success) log.warn('replan signal dropped', { error: checked.error.message });
    else if (FINISHED.includes(status)) log.warn('replan signal dropped: the goal is finishing', { status });
    else requestReplan(checked.data.evidence, false);
  });
  setHandler(
    revisePlanUpdate,
    async ({ evidence }) => {
      const ticket = requestReplan(evidence.trim(), false);
      await condition(() => versionOfTicket.has(ticket) || FINISHED.includes(status));
      const version = versionOfTicket.get(ticket);
      if (version === undefined) {
        throw ApplicationFailure.create({
          type: FailureType.GoalFinished,
          message: `the goal ended (${status}) before the replan`,
        });
      }
      return plans[version - 1];
    },
    {
      // Validators run before anything is written to history: a refused request leaves no trace.
      validator: (payload) => {
        const checked = replanPayloadSchema.safeParse(payload);
        if (!checked.success) throw new Error(checked.error.issues.map((issue) => issue.message).join('; '));
        if (FINISHED.includes(status)) throw new Error(`the goal is ${status}; a finished goal cannot be replanned`);
      },
    },
  );
  setHandler(interruptSignal, (payload) => {
    const checked = interruptPayloadSchema.safeParse(payload);
    if (checked.success) interruptInbox.push(checked.data);
    else log.warn('interrupt signal dropped', { error: checked.error.message });
  });
  setHandler(cancelSubtaskSignal, (payload) => {
    const checked = cancelSubtaskPayloadSchema.safeParse(payload);
    if (checked.success) cancelInbox.push(checked.data);
    else log.warn('cancelSubtask signal dropped', { error: checked.error.message });
  });
  setHandler(pauseSignal, () => {
    paused = true;
  });
  setHandler(resumeSignal, () => {
    paused = false;
  });
  setHandler(subtaskProgressSignal, ({ subtaskId, step, usage: stepUsage }) => {
    const run = entryOf(subtaskId)?.run;
    if (run && !run.result) {
      run.steps = step;
      run.usage = { ...stepUsage };
    }
  });

  // ---- what the Web UI and list filters show ----
  let published = '';
  const publish = () => {
    const tokens = tokensOf(usage());
    const shownStatus = progress().status;
    // Upsert only on change: each upsert is a history event.
    const shown = `${shownStatus}|${plans.length}|${tokens}`;
    if (shown !== published) {
      published = shown;
      upsertSearchAttributes([
        { key: statusSearchAttribute, value: shownStatus },
        { key: planVersionSearchAttribute, value: plans.length },
        { key: tokensSearchAttribute, value: tokens },
      ]);
    }
    setCurrentDetails(progressMarkdown(progress()));
  };

  // ---- actions of the main loop ----
  const adoptPlan = (subtasks: Subtask[], reason: string) => {
    const version = plans.length + 1;
    plans.push({ version, reason, createdAt: new Date(Date.now()).toISOString(), subtasks });
    const decisions = reconcile(entries, subtasks);
    for (const id of decisions.cancel) cancelRun(entryOf(id)!.run!, `plan v${version} dropped or changed ${id}`);
    const kept = new Set([...decisions.keepDone, ...decisions.keepRunning]);
    entries = subtasks.map((subtask) => {
      const old = kept.has(subtask.id) ? entryOf(subtask.id)! : undefined;
      return old
        ? { ...old, subtask }
        : { subtask, status: 'pending', workflowId: childWorkflowId(goalId, version, subtask.id) };
    });
    return version;
  };

  const cancelRun = (run: ChildRun, reason: string) => {
    if (run.result || run.cancelReason !== undefined) return;
    run.cancelReason = reason;
    run.scope.cancel();
  };

  const dispatch = (entry: Entry) => {
    const run: ChildRun = {
      subtaskId: entry.subtask.id,
      workflowId: entry.workflowId,
      scope: new CancellationScope(),
      steps: 0,
      usage: zeroUsage(),
    };
    runs.push(run);
    entry.run = run;
    entry.status = 'running';
    const context = Object.fromEntries(entry.subtask.dependsOn.map((id) => [id, entryOf(id)?.result?.answer ?? '']));
    const childBudget = capSubtaskBudget(entry.subtask.budget, maxStepsPerSubtask, budget());
    void run.scope
      .run(async () => {
        run.handle = await startChild(executorWorkflow, {
          workflowId: run.workflowId,
          staticSummary: `${entry.subtask.id} · ${entry.subtask.title}`,
          args: [
            { subtask: entry.subtask, workspace: goalId, context, tools: entry.subtask.tools, budget: childBudget },
          ],
        });
        return run.handle.result();
      })
      .then(
        (result) => result,
        (err: unknown) => resultOfFailedRun(run, err),
      )
      .then((result) => {
        run.result = result;
        run.steps = result.steps;
        run.usage = result.usage;
        finishedRuns.push(run);
      });
  };

  const forward = async (
    run: ChildRun,
    send: (handle: ChildWorkflowHandle<typeof executorWorkflow>) => Promise<void>,
  ) => {
    if (!run.handle || run.result) return;
    try {
      await send(run.handle);
    } catch (err) {
      // The child may have just finished: a message it can no longer act on is not the planner's failure.
      log.warn('could not signal a child executor', { workflowId: run.workflowId, error: String(err) });
    }
  };

  /** Judges a finished run and updates its subtask; returns evidence for a replan when it fell short. */
  const settle = async (run: ChildRun): Promise<{ evidence: string; automatic: boolean } | null> => {
    const entry = entries.find((candidate) => candidate.run === run);
    const result = run.result!;
    if (!entry) {
      // Cancelled by reconciliation: the new plan is already in place; its partial result is kept as evidence.
      const partial = result.partial ?? result.answer ?? result.evidence;
      cancelledWork.push(`subtask ${run.subtaskId} was cancelled (${run.cancelReason}); partial result: ${partial}`);
      return null;
    }
    entry.result = result;
    if (result.ok) entry.verdict = await judge(entry.subtask, result, ownUsage);
    entry.status = result.ok && entry.verdict?.met ? 'done' : result.reason === 'cancelled' ? 'cancelled' : 'failed';
    const evidence = evidenceOf(entry.subtask, result, entry.verdict);
    if (evidence === null) return null;
    // A subtask someone cancelled is their decision, not the plan's failure: that replan does not count.
    return {
      evidence: run.cancelReason ? `${evidence} (cancelled: ${run.cancelReason})` : evidence,
      automatic: !run.cancelReason,
    };
  };

  const finish = async (ok: boolean, reason?: GoalFailureReason): Promise<GoalResult> => {
    for (const entry of running()) cancelRun(entry.run!, `the goal is ending (${reason ?? 'done'})`);
    await condition(() => runs.every((run) => run.result !== undefined));
    for (const entry of entries) {
      if (entry.status === 'running') {
        entry.result = entry.run!.result!;
        entry.status = entry.result.reason === 'cancelled' ? 'cancelled' : entry.result.ok ? 'done' : 'failed';
      } else if (entry.status === 'pending') entry.status = 'skipped';
    }
    status = 'reporting';
    publish();
    const sections = entries.map(({ subtask, status: state, result }) => ({ subtask, status: state, result }));
    const report = await writeReport(
      reportRequest(goal, sections, reason ? { reason, replans: plans.slice(1) } : undefined),
      ownUsage,
    );
    status = ok ? 'completed' : 'failed';
    publish();
    await condition(allHandlersFinished);
    return {
      ok,
      report,
      ...(reason ? { reason } : {}),
      planVersion: plans.length,
      subtasks: entries.map(({ subtask, status: state, verdict, result }) => ({
        id: subtask.id,
        title: subtask.title,
        status: state,
        ...(verdict ? { verdict } : {}),
        ...(result ? { result } : {}),
      })),
      usage: usage(),
      replans: plans.slice(1),
    };
  };

  // ---- the loop ----
  try {
    publish();
    adoptPlan(await draftPlan(planRequest(goal), 1, ownUsage), 'initial plan');
    status = 'running';

    for (;;) {
      publish();
      const canDispatch = () =>
        !paused &&
        running().length < maxParallel &&
        exhaustedCap(budget()) === null &&
        readySubtasks(currentPlan().subtasks, (id) => entryOf(id)?.status).length > 0;
      const deadlineIn = limits.deadlineMs === undefined ? undefined : Math.max(1, limits.deadlineMs - Date.now());
      const somethingToDo = () =>
        paused !== pausedForwarded ||
        interruptInbox.length > 0 ||
        cancelInbox.length > 0 ||
        finishedRuns.length > 0 ||
        replanInbox.length > 0 ||
        exhaustedCap(budget()) !== null ||
        entries.every((entry) => entry.status === 'done') ||
        canDispatch();
      // The deadline wakes the loop by itself: nothing else may happen when it passes.
      if (deadlineIn === undefined) await condition(somethingToDo);
      else await condition(somethingToDo, deadlineIn);

      if (paused !== pausedForwarded) {
        pausedForwarded = paused;
        for (const entry of running()) {
          await forward(entry.run!, (handle) => handle.signal(paused ? pauseSignal : resumeSignal));
        }
      }
      for (const interrupt of interruptInbox.splice(0)) {
        const targets = running().filter((entry) => !interrupt.subtaskId || entry.subtask.id === interrupt.subtaskId);
        if (targets.length === 0) log.warn('interrupt dropped: no such running subtask', { ...interrupt });
        for (const entry of targets) {
          await forward(entry.run!, (handle) => handle.signal(interruptSignal, { message: interrupt.message }));
        }
      }
      for (const { subtaskId, reason } of cancelInbox.splice(0)) {
        const entry = entryOf(subtaskId);
        if (entry?.status === 'running') cancelRun(entry.run!, reason);
        else if (entry?.status === 'pending') {
          entry.status = 'cancelled';
          requestReplan(`subtask ${subtaskId} was cancelled before it started: ${reason}`, false);
        } else
          log.warn('cancelSubtask dropped: the subtask is not pending or running', {
            subtaskId,
            status: entry?.status,
          });
      }
      for (const run of finishedRuns.splice(0)) {
        const shortfall = await settle(run);
        if (shortfall) requestReplan(shortfall.evidence, shortfall.automatic);
      }

      if (exhaustedCap(budget()) !== null) return finish(false, 'budget_exhausted');

      if (replanInbox.length > 0) {
        const requests = replanInbox.splice(0);
        if (requests.some((request) => request.automatic)) automaticReplans += 1;
        if (automaticReplans > maxReplans) return finish(false, 'replans_exhausted');
        const evidence = [...requests.map((request) => request.evidence), ...cancelledWork.splice(0)];
        const completed = entries
          .filter((entry) => entry.status === 'done')
          .map((entry) => ({ subtask: entry.subtask, answer: entry.result?.answer ?? '' }));
        const draft = await draftPlan(
          replanRequest(goal, evidence, currentPlan(), completed),
          plans.length + 1,
          ownUsage,
        );
        const version = adoptPlan(draft, requests.map((request) => request.evidence).join('\n'));
        for (const request of requests) versionOfTicket.set(request.ticket, version);
        continue;
      }

      if (entries.every((entry) => entry.status === 'done')) return finish(true);

      if (!paused) {
        for (const subtask of readySubtasks(currentPlan().subtasks, (id) => entryOf(id)?.status)) {
          if (running().length >= maxParallel || exhaustedCap(budget()) !== null) break;
          dispatch(entryOf(subtask.id)!);
        }
      }
    }
  } catch (err) {
    if (isCancellation(err)) throw err;
    // The failure handler: whatever ends the goal as a workflow failure (a plan the model cannot make valid, a failed
    // report call), the Web UI details, the search attributes and the progress query still say why, next to every
    // completed subtask, which the query keeps serving after the run has closed.
    status = 'failed';
    publish();
    setCurrentDetails(
      `${progressMarkdown(progress())}\n\n**Failed:** ${err instanceof Error ? err.message : String(err)}`,
    );
    throw err;
  }
}
