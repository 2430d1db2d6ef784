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
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  getExternalWorkflowHandle,
  log,
  patched,
  ParentClosePolicy,
  setCurrentDetails,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowHandle,
  type ExternalWorkflowHandle,
} from '@temporalio/workflow';
import {
  approvalDecisionSignal,
  interruptSignal,
  interruptsSignal,
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
  RejectedDraft,
  Subtask,
  SubtaskStatus,
  Verdict,
} from '../../common/types';
import { FailureType } from '../../common/failures';
import { addUsage, tokensOf, type TokenUsage, zeroUsage } from '../../common/usage';
import { interruptBatches, PAYLOAD_BUDGET_BYTES, payloadBytes } from '../../common/limits';
import { Patch } from '../patches';
import type { ApprovalPolicy } from '../../common/approvals';
import { GoalApprovals } from './approvals';
import { executorWorkflow } from '../executor/executor';
import { replanRequest, reportFromResults, reportRequest } from '../prompts';
import { compactResult, evidenceOf, fitGoalResult, resultOfFailedRun, type RunSoFar } from './evidence';
import { budgetProgress, capSubtaskBudget, exhaustedCap, type GoalLimits } from './goal-budget';
import { prepareWorkspace } from '../activity-stubs';
import { checkAndJudge, draftPlan, MAX_PLAN_ATTEMPTS, writeReport, type DraftOutcome } from './model-calls';
import { fallbackPlan, readySubtasks } from './plan';
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
  /** Detached runs: the child has started (a cancel can be sent); always true for a run carried over a continue-as-new. */
  started?: boolean;
  result?: ExecutorResult;
}

/** What the planner signals a child through: its child handle, or (detached runs) an external handle by id. */
type SignalTarget = Pick<ExternalWorkflowHandle, 'signal'>;

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
export const FINISHED: readonly GoalStatus[] = ['reporting', 'completed', 'failed', 'cancelled'];

/** How long a cancelled goal waits for its children's partial results before it reports without them. */
const CANCEL_WAIT_MS = 60_000;
/** Key of the queue of interrupts for whichever executors start next (sent to all subtasks while none ran). */
const ANY_SUBTASK = '*';

/**
 * What a planner run hands to its continuation (continue-as-new): the plans, where each subtask stands, the children
 * still running (by workflow id: they outlive the run and report to the goal's id), and what was spent. Finished
 * results travel compacted (see `compactResult`), so the state stays far under the 2 MB payload limit.
 */
export interface GoalSnapshot {
  plans: PlanVersion[];
  entries: Array<Omit<Entry, 'run'> & { runWorkflowId?: string }>;
  running: Array<{ subtaskId: string; workflowId: string; steps: number; usage: TokenUsage; cancelReason?: string }>;
  /** Usage and steps of every run that is not carried (finished, or superseded). */
  spent: { usage: TokenUsage; steps: number };
  ownUsage: TokenUsage;
  automaticReplans: number;
  paused: boolean;
  pausedForwarded: boolean;
  cancelledWork: string[];
  queuedInterrupts: Record<string, string[]>;
  published: string;
  workspace?: string;
  startedMs: number;
  undelivered: number;
}

/** How runs started before the fallback plan and `plan_invalid` ended when no valid plan came: a workflow failure. */
function planInvalidFailure(errors: string[]): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `the model did not produce a valid plan in ${MAX_PLAN_ATTEMPTS} attempts; last errors: ${errors.join('; ')}`,
    FailureType.PlanInvalid,
  );
}

/** What a goal run is started with, once its input is validated and defaults are applied. */
export interface GoalSettings {
  goalId: string;
  goal: string;
  maxStepsPerSubtask: number | undefined;
  maxParallel: number;
  maxReplans: number;
  limits: GoalLimits;
  startedMs: number;
  /**
   * The behaviour of runs started since issue 13 (a `patched()` marker; recorded histories replay without it):
   * children outlive the run and report by signal, are cancelled by request, get interrupts in batches (queued until
   * they start), and a pause holds the planner's own model calls.
   */
  detached: boolean;
  /** The goal as prompts quote it: the text, or a content marker the model-call activity expands (`goalRef`). */
  promptGoal: string;
  /** Tool calls that wait for a person, passed to every executor; none when absent. */
  approval?: ApprovalPolicy;
}

export class GoalRun {
  status: GoalStatus = 'planning';
  readonly plans: PlanVersion[] = [];
  /** Drafts plan validation refused, for `history`; bounded by the attempts per version. */
  readonly rejectedDrafts: RejectedDraft[] = [];
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
  /** Detached runs: interrupts for subtasks not started yet, by subtask id ({@link ANY_SUBTASK}: the next to start). */
  private queuedInterrupts: Record<string, string[]> = {};
  private readonly cancelInbox: CancelSubtaskPayload[] = [];
  /** Detached runs: children to send a cancel request to (the loop sends them; handlers and decisions only record). */
  private readonly cancelOutbox: ChildRun[] = [];
  /** Usage and steps of runs a continue-as-new did not carry. */
  private spent = { usage: zeroUsage(), steps: 0 };
  /** Set once the goal is being cancelled: nothing waits on a pause any more. */
  private cancelling = false;
  /** Interrupts that came for a subtask after it had returned (nothing left to hand them to); shown in `progress`. */
  private undelivered = 0;
  /** The goal's workspace on the workers (absolute path), once known. */
  workspace?: string;
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
    addUsage(total, this.spent.usage);
    for (const run of this.runs) addUsage(total, run.usage);
    return total;
  }

  get detached(): boolean {
    return this.settings.detached;
  }

  private budget() {
    const steps = this.runs.reduce((sum, run) => sum + run.steps, this.spent.steps);
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
      paused: this.paused,
      ...(this.workspace !== undefined ? { workspace: this.workspace } : {}),
      queuedInterrupts: Object.values(this.queuedInterrupts).reduce((sum, queue) => sum + queue.length, 0),
      undeliveredInterrupts: this.undelivered,
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
      rejectedDrafts: this.rejectedDrafts,
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

  /**
   * An executor's step report: progress of a run still in flight. The Web UI details follow at once (they are not a
   * history event); the search attributes wait for the loop's next turn, as each upsert is one.
   */
  recordStep(subtaskId: string, step: number, usage: TokenUsage): void {
    const run = this.entryOf(subtaskId)?.run;
    if (run && !run.result) {
      run.steps = step;
      run.usage = { ...usage };
      this.publishDetails();
    }
  }

  /** A child's result, by signal or by its completion, whichever comes first; later copies are ignored. */
  recordResult(
    workflowId: string,
    result: ExecutorResult,
    run = this.runs.find((r) => r.workflowId === workflowId),
  ): void {
    if (!run || run.result) return;
    run.result = result;
    run.steps = result.steps;
    run.usage = result.usage;
    this.finishedRuns.push(run);
  }

  /** Waits while a pause holds the goal: the planner's own model calls (plan, judge, replan, report) wait too. */
  private async holdWhilePaused(): Promise<void> {
    if (!this.detached || !this.paused || this.cancelling) return;
    this.publish();
    await condition(() => !this.paused || this.cancelling);
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
    this.publishDetails(progress, failure);
  }

  /** The Web UI's current details: `progress` as markdown, and why the goal failed when it did. */
  private publishDetails(progress = this.progress(), failure?: string): void {
    const details = progressMarkdown(progress);
    setCurrentDetails(failure === undefined ? details : `${details}\n\n**Failed:** ${failure}`);
  }

  /** Drafts a plan version with the model (`request` is the plan or replan prompt); refused drafts are kept. */
  async draft(request: string): Promise<DraftOutcome> {
    await this.holdWhilePaused();
    return draftPlan(request, this.plans.length + 1, this.ownUsage, this.rejectedDrafts);
  }

  /**
   * Adopts the first plan; when the model could not produce a valid one, the fallback plan (the goal as its one
   * subtask) instead of failing: the executor's loop alone is better than nothing.
   */
  adoptFirstPlan(draft: DraftOutcome): void {
    if (draft.ok) {
      this.adoptPlan(draft.subtasks, 'initial plan', draft.repairs);
      return;
    }
    const why = draft.cutOff
      ? 'its last reply was cut off by the length limit'
      : `last errors: ${draft.errors.join('; ')}`;
    if (!patched(Patch.FallbackPlan)) throw planInvalidFailure(draft.errors);
    this.adoptPlan(
      fallbackPlan(this.settings.goal),
      `fallback plan: the model did not produce a valid plan in ${MAX_PLAN_ATTEMPTS} attempts (${why})`,
    );
  }

  /** Detached runs: creates the goal's workspace on a worker and learns its absolute path, for `progress`/results. */
  async prepareWorkspace(): Promise<void> {
    if (this.detached && this.workspace === undefined) this.workspace = await prepareWorkspace(this.settings.goalId);
  }

  /** Makes `subtasks` the current plan and reconciles the work in flight with it; returns its version. */
  adoptPlan(subtasks: Subtask[], reason: string, repairs: string[] = []): number {
    const version = this.plans.length + 1;
    this.plans.push({
      version,
      reason,
      createdAt: new Date(Date.now()).toISOString(),
      subtasks,
      ...(repairs.length ? { repairs } : {}),
    });
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
    // Detached children are cancelled by request (the loop sends it): the child ends its loop and returns its partial.
    if (this.detached) {
      if (run.started) this.cancelOutbox.push(run);
    } else run.scope.cancel();
  }

  /** Detached runs: sends the cancel requests decided since the last turn. */
  async sendCancels(): Promise<void> {
    for (const run of this.cancelOutbox.splice(0)) {
      if (run.result) continue;
      try {
        await getExternalWorkflowHandle(run.workflowId).cancel();
      } catch (err) {
        log.warn('could not cancel a child executor', { workflowId: run.workflowId, error: String(err) });
      }
    }
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
      this.cancelOutbox.length > 0 ||
      this.finishedRuns.length > 0 ||
      this.replanInbox.length > 0 ||
      this.handOverDue() ||
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
  pending(): {
    pause: boolean;
    interrupts: boolean;
    cancels: boolean;
    decisions: boolean;
    finishedRuns: boolean;
    replans: boolean;
  } {
    return {
      pause: this.paused !== this.pausedForwarded,
      interrupts: this.interruptInbox.length > 0,
      cancels: this.cancelOutbox.length > 0,
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
    if (this.detached) return this.deliverInterruptBatches();
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

  /**
   * Detached runs: every interrupt that arrived since the last turn, in one `interrupts` signal per running executor
   * (in batches under the payload limit); one for a subtask that has not started waits in its queue and goes into its
   * input when it starts; one for all subtasks while none runs waits for the next to start. An interrupt for a subtask
   * of no plan, or one that already finished, is logged and dropped (the CLI refuses unknown ids before sending).
   */
  private async deliverInterruptBatches(): Promise<void> {
    const now = new Map<ChildRun, string[]>();
    for (const { message, subtaskId } of this.interruptInbox.splice(0)) {
      const targets = this.running().filter((entry) => !subtaskId || entry.subtask.id === subtaskId);
      for (const entry of targets) now.set(entry.run!, [...(now.get(entry.run!) ?? []), message]);
      if (targets.length > 0) continue;
      const entry = subtaskId === undefined ? undefined : this.entryOf(subtaskId);
      if (subtaskId === undefined || entry?.status === 'pending') {
        const key = subtaskId ?? ANY_SUBTASK;
        (this.queuedInterrupts[key] ??= []).push(message);
      } else {
        this.undelivered += 1;
        log.warn('interrupt not delivered: the subtask is not pending or running', {
          subtaskId,
          status: entry?.status,
        });
      }
    }
    for (const [run, messages] of now) {
      if (run.result) {
        // The executor returned before the planner's turn: there is no next model call of that run to hand them to.
        this.undelivered += messages.length;
        log.warn('interrupts not delivered: the subtask had already returned', { subtask: run.subtaskId });
        continue;
      }
      for (const batch of interruptBatches(messages))
        await this.forward(run, (handle) => handle.signal(interruptsSignal, { messages: batch }));
    }
  }

  /** Hands each accepted approval decision to the executor that holds the call. */
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
    if (result.ok) await this.holdWhilePaused();
    if (result.ok) entry.verdict = await checkAndJudge(entry.subtask, result, this.settings.goalId, this.ownUsage);
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

  /**
   * Replans on every queued request at once. When the model cannot produce a valid plan, the goal ends with
   * `plan_invalid` (returned here): completed work is kept and reported, never thrown away.
   */
  async replan(): Promise<GoalResult | undefined> {
    const requests = this.replanInbox.splice(0);
    if (requests.some((request) => request.automatic)) this.automaticReplans += 1;
    const evidence = [...requests.map((request) => request.evidence), ...this.cancelledWork.splice(0)];
    const completed = this.entries
      .filter((entry) => entry.status === 'done')
      .map((entry) => ({ subtask: entry.subtask, answer: entry.result?.answer ?? '' }));
    const draft = await this.draft(replanRequest(this.settings.promptGoal, evidence, this.currentPlan(), completed));
    if (!draft.ok) return this.endPlanInvalid(draft, evidence);
    const version = this.adoptPlan(
      draft.subtasks,
      requests.map((request) => request.evidence).join('\n'),
      draft.repairs,
    );
    for (const request of requests) this.versionOfTicket.set(request.ticket, version);
    // Published in the same turn as the adoption, before the cancellations it caused propagate, as recorded histories
    // have it (the order of commands is part of what replay checks).
    this.publish();
    return undefined;
  }

  /** Ends the goal on a replan the model could not make valid: `finish`, with the refused drafts in the result. */
  private async endPlanInvalid(draft: DraftOutcome & { ok: false }, evidence: string[]): Promise<GoalResult> {
    if (!patched(Patch.PlanInvalidResult)) throw planInvalidFailure(draft.errors);
    const version = this.plans.length + 1;
    const why = draft.cutOff
      ? 'the last reply was cut off by the length limit'
      : `last errors: ${draft.errors.join('; ')}`;
    const detail =
      `A replan (evidence: ${evidence.join('; ')}) could not produce a valid plan v${version} in ` +
      `${MAX_PLAN_ATTEMPTS} attempts (${why}).`;
    // Children that returned while the replan was drafted are checked and judged first: a result nobody verified is
    // not reported as done.
    await this.settleFinished();
    const result = await this.finish(false, 'plan_invalid', detail);
    return { ...result, rejectedDrafts: this.rejectedDrafts.filter((rejected) => rejected.version === version) };
  }

  /** Starts the ready subtasks, up to `maxParallel` running at once and while the budget lasts. */
  dispatchReady(): void {
    if (this.paused) return;
    let started = false;
    for (const subtask of readySubtasks(this.currentPlan().subtasks, (id) => this.entryOf(id)?.status)) {
      if (this.running().length >= this.settings.maxParallel || exhaustedCap(this.budget()) !== null) break;
      this.dispatch(this.entryOf(subtask.id)!);
      started = true;
    }
    if (started) delete this.queuedInterrupts[ANY_SUBTASK];
  }

  /** Detached runs: the interrupts queued for `subtaskId` that fit its input; the rest follow by signal once it runs. */
  private takeQueuedInterrupts(subtaskId: string): string[] | undefined {
    const queued = [...(this.queuedInterrupts[ANY_SUBTASK] ?? []), ...(this.queuedInterrupts[subtaskId] ?? [])];
    delete this.queuedInterrupts[subtaskId];
    if (queued.length === 0) return undefined;
    const [first, ...rest] = interruptBatches(queued);
    const later = rest.flat();
    if (later.length > 0) this.interruptInbox.push(...later.map((message) => ({ message, subtaskId })));
    return first;
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
    if (this.detached) {
      this.dispatchDetached(run, entry, { ...input, interrupts: this.takeQueuedInterrupts(entry.subtask.id) });
      return;
    }
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

  /**
   * Starts a child that outlives this run (`ParentClosePolicy.ABANDON`), so a continue-as-new does not end it, and
   * that reports its progress and result to the goal's workflow id. Its completion is awaited too while this run
   * lasts (it catches a child that failed instead of returning), in a scope the goal's cancellation does not reach:
   * the goal cancels its children by request (`sendCancels`) and waits for their partial results.
   */
  private dispatchDetached(run: ChildRun, entry: Entry, input: Parameters<typeof executorWorkflow>[0]): void {
    void CancellationScope.nonCancellable(async () => {
      run.handle = await startChild(executorWorkflow, {
        workflowId: run.workflowId,
        staticSummary: `${entry.subtask.id} · ${entry.subtask.title}`,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        cancellationType: ChildWorkflowCancellationType.ABANDON,
        args: [{ ...input, reportTo: this.settings.goalId }],
      });
      run.started = true;
      // A cancel decided before the child started is sent now.
      if (run.cancelReason !== undefined) this.cancelOutbox.push(run);
      return run.handle.result();
    }).then(
      (result) => this.recordResult(run.workflowId, result, run),
      (err: unknown) => this.recordResult(run.workflowId, resultOfFailedRun(run, err), run),
    );
  }

  /**
   * The one place the planner sends a message to a child executor. Detached children are reached by workflow id,
   * which works from any run of the planner (after a continue-as-new too).
   */
  private async forward(run: ChildRun, send: (target: SignalTarget) => Promise<void>): Promise<void> {
    if (run.result) return;
    if (this.detached ? !run.started : !run.handle) return;
    try {
      await send(this.detached ? getExternalWorkflowHandle(run.workflowId) : run.handle!);
    } catch (err) {
      // The child may have just finished: a message it can no longer act on is not the planner's failure.
      log.warn('could not signal a child executor', { workflowId: run.workflowId, error: String(err) });
    }
  }

  /** Ends the goal: cancels what still runs, waits for it, writes the report and returns the result. */
  async finish(ok: boolean, reason?: GoalFailureReason, detail?: string): Promise<GoalResult> {
    for (const entry of this.running()) this.cancelRun(entry.run!, `the goal is ending (${reason ?? 'done'})`);
    if (this.detached) await this.sendCancels();
    const allReturned = () => this.runs.every((run) => run.result !== undefined);
    // A cancelled goal waits a bounded time: a child that never answers must not hold the goal's end forever.
    if (reason === 'cancelled') await condition(allReturned, CANCEL_WAIT_MS);
    else await condition(allReturned);
    for (const run of this.runs) {
      if (!run.result) this.recordResult(run.workflowId, resultOfFailedRun(run, 'no result in time'), run);
    }
    for (const entry of this.entries) {
      if (entry.status === 'running') {
        entry.result = entry.run!.result!;
        entry.status = entry.result.reason === 'cancelled' ? 'cancelled' : entry.result.ok ? 'done' : 'failed';
      } else if (entry.status === 'pending') entry.status = 'skipped';
    }
    this.status = 'reporting';
    this.publish();
    await this.holdWhilePaused();
    const sections = this.entries.map(({ subtask, status, result }) => ({ subtask, status, result }));
    const replans = this.plans.slice(1);
    const report = await writeReport(
      reportRequest(this.settings.promptGoal, sections, reason ? { reason, replans, detail } : undefined),
      this.ownUsage,
      reportFromResults(sections),
    );
    this.status = ok ? 'completed' : reason === 'cancelled' ? 'cancelled' : 'failed';
    this.publish();
    return fitGoalResult({
      ok,
      report,
      ...(reason ? { reason } : {}),
      planVersion: this.plans.length,
      subtasks: this.entries.map(({ subtask, status, verdict, result }) => ({
        id: subtask.id,
        title: subtask.title,
        status,
        ...(verdict ? { verdict } : {}),
        ...(result ? { result: compactResult(result) } : {}),
      })),
      usage: this.usage(),
      replans,
      ...(this.workspace !== undefined ? { workspace: this.workspace } : {}),
    });
  }

  /**
   * The goal was cancelled (detached runs): its children are cancelled by request and each returns its partial result
   * (they are not terminated); the goal waits for them (bounded), reports, and returns `reason: 'cancelled'`. The
   * workflow then *completes* with that result: `TandemStatus` and `progress` say `cancelled`.
   */
  finishCancelled(): Promise<GoalResult> {
    this.cancelling = true;
    return this.finish(false, 'cancelled');
  }

  // ---- continue-as-new ----

  /**
   * Whether this run may hand over now: nothing half-done (results to judge, replans, messages, cancels to send, a
   * child still starting, an update in flight), so the snapshot is the whole state.
   */
  canHandOver(handlersIdle: boolean): boolean {
    return (
      this.detached &&
      handlersIdle &&
      this.finishedRuns.length === 0 &&
      this.replanInbox.length === 0 &&
      this.interruptInbox.length === 0 &&
      this.cancelInbox.length === 0 &&
      this.cancelOutbox.length === 0 &&
      this.paused === this.pausedForwarded &&
      this.runs.every((run) => run.result !== undefined || run.started === true)
    );
  }

  /** Whether the server suggests a continue-as-new and this run can hand over now. */
  handOverDue(): boolean {
    return workflowInfo().continueAsNewSuggested && this.canHandOver(allHandlersFinished());
  }

  /**
   * The state a continuation starts from (see {@link GoalSnapshot}), under the payload budget: if the plan versions
   * make it too large, the older versions travel without their subtask lists (their reasons stay).
   */
  snapshot(): GoalSnapshot {
    const full = this.fullSnapshot();
    if (payloadBytes(full) <= PAYLOAD_BUDGET_BYTES) return full;
    const last = full.plans.length - 1;
    return { ...full, plans: full.plans.map((plan, index) => (index === last ? plan : { ...plan, subtasks: [] })) };
  }

  private fullSnapshot(): GoalSnapshot {
    const carried = this.runs.filter((run) => run.result === undefined);
    const spent = { usage: { ...this.spent.usage }, steps: this.spent.steps };
    for (const run of this.runs) {
      if (run.result === undefined) continue;
      addUsage(spent.usage, run.usage);
      spent.steps += run.steps;
    }
    return {
      plans: this.plans,
      entries: this.entries.map(({ run, result, ...entry }) => ({
        ...entry,
        ...(result ? { result: compactResult(result) } : {}),
        ...(run && run.result === undefined ? { runWorkflowId: run.workflowId } : {}),
      })),
      running: carried.map((run) => ({
        subtaskId: run.subtaskId,
        workflowId: run.workflowId,
        steps: run.steps,
        usage: run.usage,
        ...(run.cancelReason !== undefined ? { cancelReason: run.cancelReason } : {}),
      })),
      spent,
      ownUsage: { ...this.ownUsage },
      automaticReplans: this.automaticReplans,
      paused: this.paused,
      pausedForwarded: this.pausedForwarded,
      cancelledWork: [...this.cancelledWork],
      queuedInterrupts: this.queuedInterrupts,
      published: this.published,
      ...(this.workspace !== undefined ? { workspace: this.workspace } : {}),
      startedMs: this.settings.startedMs,
      undelivered: this.undelivered,
    };
  }

  /** Takes over a previous run's state; its running children are reached by workflow id from now on. */
  restore(snapshot: GoalSnapshot): void {
    this.plans.push(...snapshot.plans);
    for (const carried of snapshot.running) {
      this.runs.push({ ...carried, scope: new CancellationScope(), started: true });
    }
    this.entries = snapshot.entries.map(({ runWorkflowId, ...entry }) => ({
      ...entry,
      ...(runWorkflowId !== undefined ? { run: this.runs.find((run) => run.workflowId === runWorkflowId) } : {}),
    }));
    this.spent = snapshot.spent;
    Object.assign(this.ownUsage, snapshot.ownUsage);
    this.automaticReplans = snapshot.automaticReplans;
    this.paused = snapshot.paused;
    this.pausedForwarded = snapshot.pausedForwarded;
    this.cancelledWork.push(...snapshot.cancelledWork);
    this.queuedInterrupts = snapshot.queuedInterrupts;
    this.published = snapshot.published;
    this.workspace = snapshot.workspace;
    this.undelivered = snapshot.undelivered;
    this.status = 'running';
  }
}
