/**
 * The trace sink's messages: how workflow code tells the worker that a goal or a subtask ended, so the worker exports
 * its span (activities/tracing.ts). Workflow code cannot export anything itself (no I/O in the sandbox), and a sink is
 * the SDK's one way out that is not written to history: the worker calls it after the workflow task, and never while
 * it replays history, so a restarted worker or a cache eviction exports no span twice (docs/tracing.md).
 */
import type { Sinks } from '@temporalio/workflow';

/** A plan version as its span shows it: when it was adopted (the next version's adoption, or the goal's end, ends it). */
export interface TracedPlanVersion {
  version: number;
  /** Epoch milliseconds, from the plan's `createdAt` (the workflow clock). */
  createdMs: number;
  reason: string;
  subtasks: number;
}

/** A goal's end: its span, and one span per plan version, ended at `endedMs` (the workflow clock). */
export interface GoalEnded {
  endedMs: number;
  /** `completed`, `cancelled` or `failed (<reason>)` (common/ending-words.ts). */
  ending: string;
  ok: boolean;
  plans: TracedPlanVersion[];
  /** The goal's cost in USD (`usage.costUsd` of its result): null when a model had no price, absent when uncounted. */
  costUsd?: number | null;
}

/** A subtask's end (one executor run chain): its span, ended at `endedMs`. */
export interface SubtaskEnded {
  endedMs: number;
  subtaskId: string;
  title: string;
  ending: string;
  ok: boolean;
  steps: number;
  /** The run chain's cost in USD (`usage.costUsd` of its result), as {@link GoalEnded.costUsd}. */
  costUsd?: number | null;
}

/** The sinks the worker injects (worker/worker.ts); the workflow side is workflows/tracing.ts. */
export interface TraceSinks extends Sinks {
  tracing: {
    goalEnded(ended: GoalEnded): void;
    subtaskEnded(ended: SubtaskEnded): void;
  };
}
