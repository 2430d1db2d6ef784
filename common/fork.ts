/**
 * What a fork of a goal carries (`tandem fork`, docs/fork.md): where it was forked from, the plan versions and the
 * finished subtasks it keeps, and the state one subtask's executor resumes from. The CLI builds it from what the
 * original recorded (its history, results and the content store); the planner only seeds its state with it, so no
 * model or tool call of the original is made again. Sandbox-safe: plain types.
 */
import type { ChatMessage, ExecutorResult, PlanVersion, ToolCallRecord, Verdict } from './types';
import type { TokenUsage } from './usage';

/** Where a fork came from: a subtask's step (`--subtask S --step N`), or a plan version (`--plan-version V`). */
export type ForkedFrom = { id: string; subtask: string; step: number } | { id: string; planVersion: number };

/**
 * The state an executor resumes from: the loop as it stood after step `step` (N−1) of the original run `from`. Its
 * next model call is step N, reading `observations` (step N−1's tool results and notes) and then any interrupt.
 */
export interface ExecutorSeed {
  /** The executor workflow whose steps 1..`step` this run continues. */
  from: string;
  /** Steps already taken (N−1): they count against the subtask's step budget. */
  step: number;
  /** Content-store reference of the conversation up to step N−1's reply; null when the fork restarts at step 1. */
  transcript: string | null;
  /** Step N−1's observations, which the original's step N read first. */
  observations: ChatMessage[];
  /** Tokens of steps 1..N−1. */
  usage: TokenUsage;
  /** Wall time the original had spent before step N (ms): the subtask's time budget counts it. */
  elapsedMs: number;
  /** The tool calls of steps 1..N−1 (previews), for the judge's claim checks. */
  toolCalls: ToolCallRecord[];
  /** Evidence lines of steps 1..N−1, as the original's result would have carried them. */
  evidence: string[];
  /** The workspace manifest after step N−1's tool calls, which the fork's workspace starts from (absent: empty). */
  workspaceRef?: string;
}

/** A subtask the fork keeps as finished: its result and verdict, from the original's run, never re-run or re-judged. */
export interface KeptSubtask {
  id: string;
  /** The executor that produced the result (in the original, or in the goal the original was forked from). */
  workflowId: string;
  result: ExecutorResult;
  verdict: Verdict;
}

/** The fork part of a planner's input: its state starts from this instead of a first plan. */
export interface ForkOrigin {
  forkedFrom: ForkedFrom;
  /** The original's plan versions up to the one the fork runs (the last). */
  plans: PlanVersion[];
  kept: KeptSubtask[];
  /** The subtask that resumes mid-run, and from what (absent for a fork at a plan version). */
  resume?: { subtaskId: string; seed: ExecutorSeed };
  /** The workspace manifest the fork's workspace starts from (absent: an empty workspace). */
  workspaceRef?: string;
  /** `--interrupt`: for the resumed subtask, or for the first subtasks a plan-version fork starts. */
  interrupt?: string;
}

/** How an interrupt reads to the model; a fork drops the ones the original showed at step N from what it resumes. */
export const INTERRUPT_LEAD = 'Message from the operator while you work (take it into account): ';

/** How `status`, `history` and the Web UI name a fork's origin. */
export function forkedFromLine(from: ForkedFrom): string {
  return 'subtask' in from
    ? `forked from ${from.id} at ${from.subtask} step ${from.step}`
    : `forked from ${from.id} at plan v${from.planVersion}`;
}
