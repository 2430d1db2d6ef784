/**
 * The goal's state as one plain, serialisable object, as samples-typescript's safe-message-handlers keeps its
 * `ClusterManagerState`: the plans, where each subtask stands, every child run, the inboxes message handlers fill and
 * what was spent. Continue-as-new carries it as it is (./goal-hand-over.ts only folds finished runs into `spent`).
 *
 * Everything here is pure: the lifecycle of a child run (one transition per event), the reads the loop and the queries
 * share, and {@link pendingWork}, the one answer to "is there work?" that the wait, the turn and the hand-over read.
 * None of it touches Temporal, so the planner's decisions are tested without a server (test/goal-state.test.ts).
 */
import type { ApprovalDecision, ApprovalReceipt, ApprovalRelease, PendingApproval } from '../../common/approvals';
import type { CancelSubtaskPayload, InterruptPayload } from '../../common/contract';
import type {
  ExecutorResult,
  GoalStatus,
  PlanVersion,
  RejectedDraft,
  Subtask,
  SubtaskStatus,
  Verdict,
} from '../../common/types';
import { addUsage, tokensOf, type TokenUsage, zeroUsage } from '../../common/usage';
import type { ApprovalPolicy } from '../../common/approvals';
import type { DeniedCall } from '../../common/denials';
import type { ExecutorSeed, ForkedFrom } from '../../common/fork';
import type { PriceTable, UsageMeter } from '../../common/cost';
import { budgetProgress, exhaustedCap, type GoalLimits } from './goal-budget';
import { readySubtasks } from './plan';

/** What a goal run is started with, once its input is validated and defaults are applied; never changes. */
export interface GoalSettings {
  goalId: string;
  goal: string;
  maxStepsPerSubtask: number | undefined;
  maxParallel: number;
  maxReplans: number;
  limits: GoalLimits;
  /** The goal as prompts quote it: the text, or a content marker the model-call activity expands (`goalRef`). */
  promptGoal: string;
  /** Tool calls that wait for a person, passed to every executor; none when absent. */
  approval?: ApprovalPolicy;
  /** The model of every executor step, instead of the configured one (`tandem fork --model`). */
  model?: string;
}

/**
 * One child executor run, by phase. A subtask may have several over the goal's life (re-run after a replan). Each
 * event moves a run one way only: `starting` → `running` (the child started) → `returned` (its result came, by
 * signal or by its completion) → `settled` (the loop judged it, or filed it as cancelled work).
 */
export type ChildRun = RunSoFar &
  ({ phase: 'starting' } | { phase: 'running' } | { phase: 'returned' | 'settled'; result: ExecutorResult });

/** What every phase of a run knows: which child, what it spent so far, and whether the planner cancelled it. */
export interface RunSoFar {
  subtaskId: string;
  workflowId: string;
  steps: number;
  usage: TokenUsage;
  /** Set when the planner decided to cancel the run, with why. */
  cancelReason?: string;
  /** Whether that cancel request was sent (it can be only once the child has started). */
  cancelSent?: boolean;
  /** Interrupts that came while the child was starting: back to the inbox once it has started. */
  heldInterrupts?: string[];
  /** Interrupt messages handed to the child (in its input, or by a signal it took). */
  interruptsSent?: number;
  /** How many of the goal's denials (`approvals.learned`) the child knows: its input's, then those pushed to it. */
  denialsKnown?: number;
}

/** A subtask of the current plan and where it stands; `runWorkflowId` names its latest run. */
export interface Entry {
  subtask: Subtask;
  status: SubtaskStatus;
  workflowId: string;
  runWorkflowId?: string;
  verdict?: Verdict;
  result?: ExecutorResult;
}

/** A replan waiting for the loop; `ticket` lets a `revisePlan` update find the version that answered it. */
export interface ReplanRequest {
  evidence: string;
  /** Automatic replans (missed milestone, failed child) count against `maxReplans`; requested ones do not. */
  automatic: boolean;
  ticket: number;
}

/** A decision the `decideApproval` update accepted, until the loop has forwarded it to the holding executor. */
export interface AcceptedDecision {
  decision: ApprovalDecision;
  workflowId: string;
  receipt: ApprovalReceipt;
  forwarded: boolean;
}

/** The goal's view of the approval gate (./approvals.ts reads and changes it). */
export interface ApprovalsState {
  /** Held calls by the executor workflow id holding them. */
  held: Record<string, PendingApproval[]>;
  /** CallIds already decided in this goal. */
  decided: string[];
  /** How each released call ended, as the executor that held it reported (the truth a later decision is told). */
  released: Record<string, ApprovalRelease>;
  inbox: AcceptedDecision[];
  /** Calls denied in this goal (common/denials.ts), handed to every executor started; bounded by `MAX_DENIALS`. */
  denials: DeniedCall[];
  /** Denials remembered so far: only grows (the list drops its oldest), so a child knows how many it is behind. */
  learned: number;
  /** Calls refused without asking because an identical call was denied earlier in the goal. */
  refusedRepeats: number;
  /** Counts changes of the held calls, so the loop wakes to refresh the Web UI details when one arrives. */
  version: number;
}

/** The whole state of a goal (see the module comment); every field is plain data. */
export interface GoalState {
  status: GoalStatus;
  /** Epoch milliseconds the goal started (its first run's start; kept over continue-as-new). */
  startedMs: number;
  plans: PlanVersion[];
  /** Drafts plan validation refused, for `history`; bounded by the attempts per version. */
  rejectedDrafts: RejectedDraft[];
  entries: Entry[];
  /** Every run this workflow run knows of: cancelled and superseded ones too, so usage counts all the work. */
  runs: ChildRun[];
  /** Usage and steps of settled runs an earlier run handed over without their records. */
  spent: { usage: TokenUsage; steps: number };
  /** The planner's own LLM calls: plans, judges, report. */
  ownUsage: TokenUsage;
  /** The slowest model call of this goal so far (ms, as `callModel` measured it): what a subtask's time must allow. */
  slowestModelCallMs: number;
  /** Tools the goal's subtasks claimed effects of that no available tool has; the report names them. */
  missingTools: string[];
  automaticReplans: number;
  paused: boolean;
  /** The pause state the running children were last told. */
  pausedForwarded: boolean;
  /** Set once the goal is being cancelled: nothing waits on a pause any more. */
  cancelling: boolean;
  replanInbox: ReplanRequest[];
  /**
   * Evidence for the next replan that is not a reason for one: partial results of runs a new plan cancelled, and the
   * calls a person denied, with their reasons.
   */
  evidenceForNextReplan: string[];
  interruptInbox: InterruptPayload[];
  /** Interrupts for subtasks not started yet, by subtask id ({@link ANY_SUBTASK}: the next to start). */
  queuedInterrupts: Record<string, string[]>;
  cancelInbox: CancelSubtaskPayload[];
  /** Interrupts that came for a subtask after it had returned (nothing left to hand them to); shown in `progress`. */
  undelivered: number;
  /** The goal's workspace on the workers (absolute path), once known. */
  workspace?: string;
  nextTicket: number;
  /** Plan version that answered each replan ticket. */
  versionOfTicket: Record<number, number>;
  /** The search attributes last upserted, so an unchanged state writes no event. */
  published: string;
  /** `approvals.version` as last published. */
  publishedApprovals: number;
  approvals: ApprovalsState;
  /** A fork's origin (common/fork.ts), shown by `progress` and the Web UI. */
  forkedFrom?: ForkedFrom;
  /** A fork's resumed subtask: the state its next run starts from, by subtask id (taken once, at its dispatch). */
  seeds?: Record<string, ExecutorSeed>;
  /**
   * The price table read at the goal's start (`loadPrices`), which every call of the goal is priced by, its
   * executors' too; absent in goals started before prices existed, whose costs are then not counted (docs/cost.md).
   */
  prices?: PriceTable;
}

/** Key of the queue of interrupts for whichever executors start next (sent to all subtasks while none ran). */
export const ANY_SUBTASK = '*';

/** Statuses after which no replan, interrupt or decision is taken any more. */
export const FINISHED: readonly GoalStatus[] = ['reporting', 'completed', 'failed', 'cancelled'];

/** The state of a goal that has not planned yet. */
export function initialGoalState(startedMs: number): GoalState {
  return {
    status: 'planning',
    startedMs,
    plans: [],
    rejectedDrafts: [],
    entries: [],
    runs: [],
    spent: { usage: zeroUsage(), steps: 0 },
    ownUsage: zeroUsage(),
    slowestModelCallMs: 0,
    missingTools: [],
    automaticReplans: 0,
    paused: false,
    pausedForwarded: false,
    cancelling: false,
    replanInbox: [],
    evidenceForNextReplan: [],
    interruptInbox: [],
    queuedInterrupts: {},
    cancelInbox: [],
    undelivered: 0,
    nextTicket: 1,
    versionOfTicket: {},
    published: '',
    publishedApprovals: 0,
    approvals: {
      held: {},
      decided: [],
      released: {},
      inbox: [],
      denials: [],
      learned: 0,
      refusedRepeats: 0,
      version: 0,
    },
  };
}

// ---- a child run's lifecycle: one transition per event ----

/** The loop decided to start `entry`: a new run in phase `starting`, linked from its entry. */
export function runDispatched(state: GoalState, entry: Entry): ChildRun {
  const run: ChildRun = {
    phase: 'starting',
    subtaskId: entry.subtask.id,
    workflowId: entry.workflowId,
    steps: 0,
    usage: zeroUsage(),
  };
  state.runs.push(run);
  entry.runWorkflowId = run.workflowId;
  entry.status = 'running';
  return run;
}

/** The child started: it can take signals and cancel requests from now on. */
export function runStarted(run: ChildRun): void {
  if (run.phase === 'starting') Object.assign(run, { phase: 'running' });
}

/** An executor's step report; a run that already returned keeps its result's numbers. */
export function stepReported(run: ChildRun, step: number, usage: TokenUsage): void {
  if (run.phase !== 'starting' && run.phase !== 'running') return;
  run.steps = step;
  run.usage = { ...usage };
}

/**
 * A child's result, by signal or by its completion, whichever comes first; later copies change nothing. Returns how
 * many interrupts the planner handed the run that its model was never shown (they came after its last look, e.g.
 * between its final answer and its close), with any still held for a start that never came: the goal counts them
 * undelivered. A result the planner made for a run that returned none shows no interrupt to anyone.
 */
export function runReturned(run: ChildRun, result: ExecutorResult): number {
  if (run.phase === 'returned' || run.phase === 'settled') return 0;
  const held = run.heldInterrupts?.splice(0).length ?? 0;
  Object.assign(run, { phase: 'returned', result, steps: result.steps, usage: result.usage });
  return held + Math.max(0, (run.interruptsSent ?? 0) - (result.interruptsShown ?? 0));
}

/** The planner decides to cancel a run; the request goes out once the child has started (see `cancelsToSend`). */
export function cancelDecided(run: ChildRun, reason: string): void {
  if (run.phase === 'returned' || run.phase === 'settled' || run.cancelReason !== undefined) return;
  run.cancelReason = reason;
}

/** The loop judged the run (or filed it as cancelled work). */
export function runSettled(run: ChildRun): void {
  if (run.phase === 'returned') Object.assign(run, { phase: 'settled' });
}

// ---- reads ----

/** The answer of a subtask whose latest run answered; '' when it has none (it never ran, or its run stopped). */
export function answerOf(entry: Entry | undefined): string {
  return entry?.result?.ok ? entry.result.answer : '';
}

export function currentPlan(state: GoalState): PlanVersion {
  return state.plans[state.plans.length - 1];
}

export function entryOf(state: GoalState, subtaskId: string): Entry | undefined {
  return state.entries.find((entry) => entry.subtask.id === subtaskId);
}

export function runOf(state: GoalState, workflowId: string | undefined): ChildRun | undefined {
  return workflowId === undefined ? undefined : state.runs.find((run) => run.workflowId === workflowId);
}

/** The subtasks of the current plan that run now. */
export function runningEntries(state: GoalState): Entry[] {
  return state.entries.filter((entry) => entry.status === 'running');
}

/** Started runs with a cancel decided and not yet sent. */
export function cancelsToSend(state: GoalState): ChildRun[] {
  return state.runs.filter((run) => run.phase === 'running' && run.cancelReason !== undefined && !run.cancelSent);
}

export function isFinished(state: GoalState): boolean {
  return FINISHED.includes(state.status);
}

export function allDone(state: GoalState): boolean {
  return state.entries.every((entry) => entry.status === 'done');
}

/** Tokens of the whole goal: the planner's own calls and every run's. */
export function goalUsage(state: GoalState): TokenUsage {
  const total = { ...state.ownUsage };
  addUsage(total, state.spent.usage);
  for (const run of state.runs) addUsage(total, run.usage);
  return total;
}

/** Where the planner's own calls (plans, judges, report) are added up and priced. */
export function ownMeter(state: GoalState): UsageMeter {
  return { usage: state.ownUsage, prices: state.prices };
}

/** What the goal has spent and has left at `nowMs` (the workflow clock). */
export function goalBudget(state: GoalState, settings: GoalSettings, nowMs: number) {
  const steps = state.runs.reduce((sum, run) => sum + run.steps, state.spent.steps);
  const usage = goalUsage(state);
  const cost = usage.costUsd === undefined ? {} : { costUsd: usage.costUsd };
  return budgetProgress(settings.limits, { tokens: tokensOf(usage), steps, ...cost }, state.startedMs, nowMs);
}

/** Whether a ready subtask could start now: not paused, below `maxParallel`, budget left. */
export function canDispatch(state: GoalState, settings: GoalSettings, nowMs: number): boolean {
  return (
    !state.paused &&
    runningEntries(state).length < settings.maxParallel &&
    exhaustedCap(goalBudget(state, settings, nowMs)) === null &&
    readySubtasks(currentPlan(state).subtasks, (id) => entryOf(state, id)?.status).length > 0
  );
}

/**
 * What the loop has to act on, by kind: the one predicate the wait wakes on, the turn acts on and the hand-over
 * requires empty. A new inbox or outbox is one field here, and every reader follows.
 */
export interface PendingWork {
  /** A pause or resume not yet forwarded to the running children. */
  pause: boolean;
  interrupts: boolean;
  /** Accepted approval decisions to forward to the executors holding the calls. */
  decisions: boolean;
  /** Denials a running child does not know yet (`deniedCalls`). */
  denials: boolean;
  /** `cancelSubtask` requests not yet applied. */
  cancelRequests: boolean;
  /** Cancel requests decided for started children and not yet sent. */
  cancels: boolean;
  /** Runs that returned and wait to be judged. */
  returnedRuns: boolean;
  replans: boolean;
  /** Held calls changed since the Web UI details were last written. */
  approvalsShown: boolean;
}

export function pendingWork(state: GoalState): PendingWork {
  return {
    pause: state.paused !== state.pausedForwarded,
    interrupts: state.interruptInbox.length > 0,
    decisions: state.approvals.inbox.length > 0,
    denials: state.runs.some((run) => run.phase === 'running' && (run.denialsKnown ?? 0) < state.approvals.learned),
    cancelRequests: state.cancelInbox.length > 0,
    cancels: cancelsToSend(state).length > 0,
    returnedRuns: state.runs.some((run) => run.phase === 'returned'),
    replans: state.replanInbox.length > 0,
    approvalsShown: state.approvals.version !== state.publishedApprovals,
  };
}

export function hasPendingWork(work: PendingWork): boolean {
  return Object.values(work).some(Boolean);
}

/**
 * Whether this run may hand over now: no pending work and no child still starting (its start would be lost), and no
 * update in flight (`handlersIdle`), so the state is the whole truth and nothing half-done is carried.
 */
export function canHandOver(state: GoalState, handlersIdle: boolean): boolean {
  return handlersIdle && !hasPendingWork(pendingWork(state)) && !state.runs.some((run) => run.phase === 'starting');
}
