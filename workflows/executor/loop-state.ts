/**
 * The executor loop's state, one plain object that continue-as-new carries as it is, and the small reads and waits
 * every phase shares.
 */
import { condition } from '@temporalio/workflow';
import type { ChatMessage, ExecutorInput, ExecutorPhase, ExecutorStatus, ToolCallRecord } from '../../common/types';
import { EVIDENCE_LINE_CHARS, preview } from '../../common/limits';
import { type TokenUsage, zeroUsage } from '../../common/usage';
import type { Spent } from './budget';
import type { ToolSet } from './tool-set';
import type { RepetitionState } from './repetition';
import type { DeniedCall } from '../../common/denials';

/** Everything one executor run knows; handlers fill `interrupts` and `paused`, the loop the rest. */
export interface LoopState {
  transcript: string | null;
  step: number;
  phase: ExecutorPhase;
  status: ExecutorStatus;
  paused: boolean;
  /** Interrupt messages not yet shown to the model (filled by the signal handler only). */
  interrupts: string[];
  /** Interrupt messages shown to the model so far (the result says so, and the planner counts the rest undelivered). */
  interruptsShown?: number;
  /** Observations of the last step, for the next input assembly. */
  observations: ChatMessage[];
  usage: TokenUsage;
  /** The latest `TOOL_CALL_RECORDS` (common/limits.ts) tool calls, arguments as previews (the transcript keeps them whole). */
  toolCalls: ToolCallRecord[];
  /** Tool calls made in all (absent in state carried over by runs started before it was counted). */
  toolCallCount?: number;
  lastToolCalls: ToolCallRecord[];
  /** Workflow time and step of the last progress report to the planner. */
  reportedAt?: number;
  reportedStep?: number;
  /** One line per observation, for the result's evidence. */
  evidence: string[];
  /** The model's latest non-empty text, the best partial answer there is when the loop ends early. */
  lastText: string | null;
  startedAt: number;
  /** The tools this run offers, MCP discovery included; set once per run and carried across continue-as-new. */
  tools?: ToolSet;
  /** The run of identical tool calls the latest calls belong to (./repetition.ts). */
  repetition?: RepetitionState;
  /**
   * Calls denied in this goal (the planner's memory when this executor started, then its own denials): an identical
   * call is refused without asking (common/denials.ts). Set by {@link knownDenials} when first needed.
   */
  denials?: DeniedCall[];
}

/**
 * The state a run starts in at `nowMs` (the workflow clock): step 0, or, for a fork's resumed subtask, the original's
 * loop after step N−1 (`input.seed`): its conversation, the observations its step N read, what it had spent (the time
 * too, so the time budget counts it) and its tool calls and evidence, which the judge reads.
 */
export function initialLoopState(input: ExecutorInput, nowMs: number): LoopState {
  const seed = input.seed;
  const state: LoopState = {
    transcript: seed?.transcript ?? null,
    step: seed?.step ?? 0,
    phase: 'input_assembly',
    status: 'running',
    paused: false,
    interrupts: [...(input.interrupts ?? [])],
    observations: [...(seed?.observations ?? [])],
    // A priced run has spent $0 before its first call (not an unknown cost).
    usage: seed ? { ...seed.usage } : input.prices ? { ...zeroUsage(), costUsd: 0 } : zeroUsage(),
    toolCalls: [...(seed?.toolCalls ?? [])],
    lastToolCalls: [],
    evidence: [],
    lastText: null,
    startedAt: nowMs - (seed?.elapsedMs ?? 0),
  };
  if (seed) state.toolCallCount = seed.toolCalls.length;
  for (const line of seed?.evidence ?? []) addEvidence(state, line);
  return state;
}

/**
 * Evidence lines kept: the latest observations are what a judge needs, and an unbounded list would make a long run's
 * result (and the state carried across continue-as-new) grow without limit.
 */
const EVIDENCE_LINES = 40;

export function addEvidence(state: LoopState, line: string): void {
  state.evidence.push(preview(line, EVIDENCE_LINE_CHARS));
  if (state.evidence.length > EVIDENCE_LINES) state.evidence.splice(0, state.evidence.length - EVIDENCE_LINES);
}

export function spent(state: LoopState): Spent {
  return { steps: state.step, usage: state.usage, startedAt: state.startedAt, now: Date.now() };
}

/**
 * The goal's denials as this run knows them: its input's (the planner's memory when it started), then its own and
 * those the planner pushed since (`deniedCalls`).
 */
export function knownDenials(state: LoopState, input: ExecutorInput): DeniedCall[] {
  return (state.denials ??= [...(input.approval?.denials ?? [])]);
}

/** Before each LLM call: wait while paused (queries still answer). */
export async function waitWhilePaused(state: LoopState): Promise<void> {
  if (!state.paused) return;
  state.phase = 'paused';
  await condition(() => !state.paused);
}
