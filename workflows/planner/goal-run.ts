/**
 * The planner's state and actions, as samples-typescript's `ClusterManager` keeps a long-running workflow's state in
 * a class: the goal, every plan version, the subtasks of the current plan and the child runs, the inboxes message
 * handlers fill, and the actions the main loop takes on them. plannerWorkflow (./planner.ts) only wires the handlers
 * and runs the loop.
 *
 * Handlers only record what arrived (the `record*` methods); every other method is called by the loop, at one defined
 * point per turn, so the order of decisions is the same on replay.
 */
import {
  CancellationScope,
  condition,
  log,
  setCurrentDetails,
  startChild,
  upsertSearchAttributes,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import {
  approvalDecisionSignal,
  interruptSignal,
  pauseSignal,
  planVersionSearchAttribute,
  resumeSignal,
  statusSearchAttribute,
  tokensSearchAttribute,
  type CancelSubtaskPayload,
  type InterruptPayload,
} from '../../common/contract';
import type {
  ExecutorResult,
  GoalFailureReason,
  GoalProgress,
  GoalResult,
  GoalStatus,
  PlanVersion,
  Subtask,
  SubtaskStatus,
  Verdict,
} from '../../common/types';
import { addUsage, tokensOf, type TokenUsage, zeroUsage } from '../../common/usage';
import type { ApprovalPolicy } from '../../common/approvals';
import { GoalApprovals } from './approvals';
import { executorWorkflow } from '../executor/executor';
import { replanRequest, reportRequest } from '../prompts';
import { evidenceOf, resultOfFailedRun, type RunSoFar } from './evidence';
import { budgetProgress, capSubtaskBudget, exhaustedCap, type GoalLimits } from './goal-budget';
import { draftPlan, judge, writeReport } from './model-calls';
import { readySubtasks } from './plan';
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

/** Statuses after which no replan, interrupt or decision is taken any more. */
export const FINISHED: readonly GoalStatus[] = ['reporting', 'completed', 'failed'];

/** What a goal run is started with, once its input is validated and defaults are applied. */
export interface GoalSettings {
  goalId: string;
  goal: string;
  maxStepsPerSubtask: number | undefined;
  maxParallel: number;
  maxReplans: number;
  limits: GoalLimits;
  startedMs: number;
  /** Tool calls that wait for a person, passed to every executor; none when absent. */
  approval?: ApprovalPolicy;
}

export class GoalRun {
  status: GoalStatus = 'planning';
  readonly plans: PlanVersion[] = [];
  private entries: Entry[] = [];
  /** Every run ever started, so usage counts cancelled and superseded work too. */
  private readonly runs: ChildRun[] = [];
  private readonly finishedRuns: ChildRun[] = [];
  /** The planner's own LLM calls: plans, judges, report. */
  private readonly ownUsage: TokenUsage = zeroUsage();
  private automaticReplans = 0;
  private paused = false;
  private pausedForwarded = false;
  private readonly replanInbox: ReplanRequest[] = [];
  /** Partial results of runs a new plan cancelled: evidence for the next replan, not a reason for one. */
  private readonly cancelledWork: string[] = [];
  private readonly interruptInbox: InterruptPayload[] = [];
  private readonly cancelInbox: CancelSubtaskPayload[] = [];
  private nextTicket = 1;
  private readonly versionOfTicket = new Map<number, number>();
  /** The search attributes last upserted, so an unchanged state writes no event. */
  private published = '';
  /** Held tool calls of the running executors, and decisions on their way to them. */
  readonly approvals = new GoalApprovals();
  /** `approvals.version` as last published. */
  private publishedApprovals = 0;

  constructor(private readonly settings: GoalSettings) {}

  // ---- reads (queries and the loop) ----

  private currentPlan(): PlanVersion {
    return this.plans[this.plans.length - 1];
  }

  private entryOf(id: string): Entry | undefined {
    return this.entries.find((entry) => entry.subtask.id === id);
  }

  private running(): Entry[] {
    return this.entries.filter((entry) => entry.status === 'running');
  }

  get finished(): boolean {
    return FINISHED.includes(this.status);
  }

  usage(): TokenUsage {
    const total = { ...this.ownUsage };
    for (const run of this.runs) addUsage(total, run.usage);
    return total;
  }

  private budget() {
    const steps = this.runs.reduce((sum, run) => sum + run.steps, 0);
    return budgetProgress(
      this.settings.limits,
      { tokens: tokensOf(this.usage()), steps },
      this.settings.startedMs,
      Date.now(),
    );
  }

  /** The `progress` query's answer. */
  progress(): GoalProgress {
    const plan = this.currentPlan();
    return {
      status: this.paused && this.status === 'running' ? 'paused' : this.status,
      goal: this.settings.goal,
      planVersion: this.plans.length,
      planReason: plan?.reason ?? '',
      plan: plan?.subtasks ?? [],
      subtasks: this.entries.map((entry) => {
        const usage = entry.run?.usage ?? zeroUsage();
        return {
          id: entry.subtask.id,
          title: entry.subtask.title,
          status: entry.status,
          workflowId: entry.workflowId,
          steps: entry.run?.steps ?? 0,
          usage: { ...usage },
          tokens: tokensOf(usage),
          ...(entry.verdict ? { verdict: entry.verdict } : {}),
        };
      }),
      usage: this.usage(),
      budget: this.budget(),
      replans: this.plans.length - 1,
      versions: this.plans,
      pendingApprovals: this.approvals.all(),
    };
  }

  // ---- what handlers record ----

  /** Queues a replan for the loop; returns the ticket a `revisePlan` update waits on. */
  recordReplan(evidence: string, automatic: boolean): number {
    const ticket = this.nextTicket++;
    this.replanInbox.push({ evidence, automatic, ticket });
    return ticket;
  }

  /** Waits until the replan of `ticket` is adopted (its version) or the goal finishes first (undefined). */
  async replanAnswered(ticket: number): Promise<PlanVersion | undefined> {
    await condition(() => this.versionOfTicket.has(ticket) || this.finished);
    const version = this.versionOfTicket.get(ticket);
    return version === undefined ? undefined : this.plans[version - 1];
  }

  recordInterrupt(payload: InterruptPayload): void {
    this.interruptInbox.push(payload);
  }

  recordCancelSubtask(payload: CancelSubtaskPayload): void {
    this.cancelInbox.push(payload);
  }

  recordPaused(paused: boolean): void {
    this.paused = paused;
  }

  /** An executor's step report: progress of a run still in flight. */
  recordStep(subtaskId: string, step: number, usage: TokenUsage): void {
    const run = this.entryOf(subtaskId)?.run;
    if (run && !run.result) {
      run.steps = step;
      run.usage = { ...usage };
    }
  }

  // ---- the loop's actions ----

  /** What the Web UI and list filters show: search attributes on change, current details every turn. */
  publish(failure?: string): void {
    const progress = this.progress();
    const tokens = tokensOf(progress.usage);
    // Upsert only on change: each upsert is a history event.
    const shown = `${progress.status}|${this.plans.length}|${tokens}`;
    if (shown !== this.published) {
      this.published = shown;
      upsertSearchAttributes([
        { key: statusSearchAttribute, value: progress.status },
        { key: planVersionSearchAttribute, value: this.plans.length },
        { key: tokensSearchAttribute, value: tokens },
      ]);
    }
    this.publishedApprovals = this.approvals.version;
    const details = progressMarkdown(progress);
    setCurrentDetails(failure === undefined ? details : `${details}\n\n**Failed:** ${failure}`);
  }

  /** Drafts a plan version with the model (`request` is the plan or replan prompt). */
  draft(request: string): Promise<Subtask[]> {
    return draftPlan(request, this.plans.length + 1, this.ownUsage);
  }

  /** Makes `subtasks` the current plan and reconciles the work in flight with it; returns its version. */
  adoptPlan(subtasks: Subtask[], reason: string): number {
    const version = this.plans.length + 1;
    this.plans.push({ version, reason, createdAt: new Date(Date.now()).toISOString(), subtasks });
    const decisions = reconcile(this.entries, subtasks);
    for (const id of decisions.cancel)
      this.cancelRun(this.entryOf(id)!.run!, `plan v${version} dropped or changed ${id}`);
    const kept = new Set([...decisions.keepDone, ...decisions.keepRunning]);
    this.entries = subtasks.map((subtask) => {
      const old = kept.has(subtask.id) ? this.entryOf(subtask.id)! : undefined;
      return old
        ? { ...old, subtask }
        : { subtask, status: 'pending', workflowId: childWorkflowId(this.settings.goalId, version, subtask.id) };
    });
    this.status = 'running';
    return version;
  }

  private cancelRun(run: ChildRun, reason: string): void {
    if (run.result || run.cancelReason !== undefined) return;
    run.cancelReason = reason;
    run.scope.cancel();
  }

  private canDispatch(): boolean {
    return (
      !this.paused &&
      this.running().length < this.settings.maxParallel &&
      exhaustedCap(this.budget()) === null &&
      readySubtasks(this.currentPlan().subtasks, (id) => this.entryOf(id)?.status).length > 0
    );
  }

  private allDone(): boolean {
    return this.entries.every((entry) => entry.status === 'done');
  }

  /** Waits until a message, a finished child, the budget or the deadline gives the loop something to do. */
  async waitForWork(): Promise<void> {
    const somethingToDo = () =>
      this.paused !== this.pausedForwarded ||
      this.interruptInbox.length > 0 ||
      this.cancelInbox.length > 0 ||
      this.finishedRuns.length > 0 ||
      this.replanInbox.length > 0 ||
      this.approvals.hasInbox() ||
      this.approvals.version !== this.publishedApprovals ||
      exhaustedCap(this.budget()) !== null ||
      this.allDone() ||
      this.canDispatch();
    const { deadlineMs } = this.settings.limits;
    // The deadline wakes the loop by itself: nothing else may happen when it passes.
    if (deadlineMs === undefined) await condition(somethingToDo);
    else await condition(somethingToDo, Math.max(1, deadlineMs - Date.now()));
  }

  /** Whether the loop has a pause or resume to forward, interrupts to deliver, finished runs to judge, replans to make. */
  pending(): { pause: boolean; interrupts: boolean; decisions: boolean; finishedRuns: boolean; replans: boolean } {
    return {
      pause: this.paused !== this.pausedForwarded,
      interrupts: this.interruptInbox.length > 0,
      decisions: this.approvals.hasInbox(),
      finishedRuns: this.finishedRuns.length > 0,
      replans: this.replanInbox.length > 0,
    };
  }

  /** Forwards a pause or resume to the running children. */
  async forwardPause(): Promise<void> {
    this.pausedForwarded = this.paused;
    for (const entry of this.running()) {
      await this.forward(entry.run!, (handle) => handle.signal(this.paused ? pauseSignal : resumeSignal));
    }
  }

  /** Hands each queued interrupt to its running executor(s). */
  async deliverInterrupts(): Promise<void> {
    for (const interrupt of this.interruptInbox.splice(0)) {
      const targets = this.running().filter(
        (entry) => !interrupt.subtaskId || entry.subtask.id === interrupt.subtaskId,
      );
      if (targets.length === 0) log.warn('interrupt dropped: no such running subtask', { ...interrupt });
      for (const entry of targets) {
        await this.forward(entry.run!, (handle) => handle.signal(interruptSignal, { message: interrupt.message }));
      }
    }
  }

  /** Hands each accepted approval decision to the executor that holds the call. */
  async forwardDecisions(): Promise<void> {
    await this.approvals.forward(async (workflowId, decision) => {
      const run = this.runs.find((candidate) => candidate.workflowId === workflowId);
      if (run) await this.forward(run, (handle) => handle.signal(approvalDecisionSignal, decision));
    });
  }

  /** Cancels the subtasks someone asked to cancel: a running one's child, a pending one before it starts. */
  applyCancels(): void {
    for (const { subtaskId, reason } of this.cancelInbox.splice(0)) {
      const entry = this.entryOf(subtaskId);
      if (entry?.status === 'running') this.cancelRun(entry.run!, reason);
      else if (entry?.status === 'pending') {
        entry.status = 'cancelled';
        this.recordReplan(`subtask ${subtaskId} was cancelled before it started: ${reason}`, false);
      } else
        log.warn('cancelSubtask dropped: the subtask is not pending or running', { subtaskId, status: entry?.status });
    }
  }

  /** Judges every run that finished since the last turn; a shortfall queues a replan. */
  async settleFinished(): Promise<void> {
    for (const run of this.finishedRuns.splice(0)) {
      const shortfall = await this.settle(run);
      if (shortfall) this.recordReplan(shortfall.evidence, shortfall.automatic);
    }
  }

  /** Judges a finished run and updates its subtask; returns evidence for a replan when it fell short. */
  private async settle(run: ChildRun): Promise<{ evidence: string; automatic: boolean } | null> {
    const entry = this.entries.find((candidate) => candidate.run === run);
    const result = run.result!;
    if (!entry) {
      // Cancelled by reconciliation: the new plan is already in place; its partial result is kept as evidence.
      const partial = result.partial ?? result.answer ?? result.evidence;
      this.cancelledWork.push(
        `subtask ${run.subtaskId} was cancelled (${run.cancelReason}); partial result: ${partial}`,
      );
      return null;
    }
    entry.result = result;
    if (result.ok) entry.verdict = await judge(entry.subtask, result, this.ownUsage);
    entry.status = result.ok && entry.verdict?.met ? 'done' : result.reason === 'cancelled' ? 'cancelled' : 'failed';
    const evidence = evidenceOf(entry.subtask, result, entry.verdict);
    if (evidence === null) return null;
    // A subtask someone cancelled is their decision, not the plan's failure: that replan does not count.
    return {
      evidence: run.cancelReason ? `${evidence} (cancelled: ${run.cancelReason})` : evidence,
      automatic: !run.cancelReason,
    };
  }

  /** Why the goal must end now instead of going on, if it must. */
  endingReason(): GoalFailureReason | 'done' | null {
    if (exhaustedCap(this.budget()) !== null) return 'budget_exhausted';
    if (this.replanInbox.some((request) => request.automatic) && this.automaticReplans + 1 > this.settings.maxReplans) {
      return 'replans_exhausted';
    }
    if (this.replanInbox.length === 0 && this.allDone()) return 'done';
    return null;
  }

  /** Replans on every queued request at once. */
  async replan(): Promise<void> {
    const requests = this.replanInbox.splice(0);
    if (requests.some((request) => request.automatic)) this.automaticReplans += 1;
    const evidence = [...requests.map((request) => request.evidence), ...this.cancelledWork.splice(0)];
    const completed = this.entries
      .filter((entry) => entry.status === 'done')
      .map((entry) => ({ subtask: entry.subtask, answer: entry.result?.answer ?? '' }));
    const draft = await this.draft(replanRequest(this.settings.goal, evidence, this.currentPlan(), completed));
    const version = this.adoptPlan(draft, requests.map((request) => request.evidence).join('\n'));
    for (const request of requests) this.versionOfTicket.set(request.ticket, version);
    // Published in the same turn as the adoption, before the cancellations it caused propagate, as recorded histories
    // have it (the order of commands is part of what replay checks).
    this.publish();
  }

  /** Starts the ready subtasks, up to `maxParallel` running at once and while the budget lasts. */
  dispatchReady(): void {
    if (this.paused) return;
    for (const subtask of readySubtasks(this.currentPlan().subtasks, (id) => this.entryOf(id)?.status)) {
      if (this.running().length >= this.settings.maxParallel || exhaustedCap(this.budget()) !== null) break;
      this.dispatch(this.entryOf(subtask.id)!);
    }
  }

  private dispatch(entry: Entry): void {
    const run: ChildRun = {
      subtaskId: entry.subtask.id,
      workflowId: entry.workflowId,
      scope: new CancellationScope(),
      steps: 0,
      usage: zeroUsage(),
    };
    this.runs.push(run);
    entry.run = run;
    entry.status = 'running';
    const context = Object.fromEntries(
      entry.subtask.dependsOn.map((id) => [id, this.entryOf(id)?.result?.answer ?? '']),
    );
    const budget = capSubtaskBudget(entry.subtask.budget, this.settings.maxStepsPerSubtask, this.budget());
    const input = {
      subtask: entry.subtask,
      workspace: this.settings.goalId,
      context,
      tools: entry.subtask.tools,
      budget,
      ...(this.settings.approval ? { approval: this.settings.approval } : {}),
    };
    void run.scope
      .run(async () => {
        run.handle = await startChild(executorWorkflow, {
          workflowId: run.workflowId,
          staticSummary: `${entry.subtask.id} · ${entry.subtask.title}`,
          args: [input],
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
        this.approvals.runEnded(run.workflowId);
        this.finishedRuns.push(run);
      });
  }

  private async forward(
    run: ChildRun,
    send: (handle: ChildWorkflowHandle<typeof executorWorkflow>) => Promise<void>,
  ): Promise<void> {
    if (!run.handle || run.result) return;
    try {
      await send(run.handle);
    } catch (err) {
      // The child may have just finished: a message it can no longer act on is not the planner's failure.
      log.warn('could not signal a child executor', { workflowId: run.workflowId, error: String(err) });
    }
  }

  /** Ends the goal: cancels what still runs, waits for it, writes the report and returns the result. */
  async finish(ok: boolean, reason?: GoalFailureReason): Promise<GoalResult> {
    for (const entry of this.running()) this.cancelRun(entry.run!, `the goal is ending (${reason ?? 'done'})`);
    await condition(() => this.runs.every((run) => run.result !== undefined));
    for (const entry of this.entries) {
      if (entry.status === 'running') {
        entry.result = entry.run!.result!;
        entry.status = entry.result.reason === 'cancelled' ? 'cancelled' : entry.result.ok ? 'done' : 'failed';
      } else if (entry.status === 'pending') entry.status = 'skipped';
    }
    this.status = 'reporting';
    this.publish();
    const sections = this.entries.map(({ subtask, status, result }) => ({ subtask, status, result }));
    const replans = this.plans.slice(1);
    const report = await writeReport(
      reportRequest(this.settings.goal, sections, reason ? { reason, replans } : undefined),
      this.ownUsage,
    );
    this.status = ok ? 'completed' : 'failed';
    this.publish();
    return {
      ok,
      report,
      ...(reason ? { reason } : {}),
      planVersion: this.plans.length,
      subtasks: this.entries.map(({ subtask, status, verdict, result }) => ({
        id: subtask.id,
        title: subtask.title,
        status,
        ...(verdict ? { verdict } : {}),
        ...(result ? { result } : {}),
      })),
      usage: this.usage(),
      replans,
    };
  }
}
