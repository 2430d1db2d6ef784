/**
 * How a goal starts, shared by the client (`tandem start`, `schedule create`) and the keyed-goal launcher workflow, so
 * the two cannot drift: the workflow id of a concurrency key, the Web UI summary and the search attributes a goal
 * starts with. Sandbox-safe: it imports only common modules.
 */
import { goalSearchAttribute, keySearchAttribute, statusSearchAttribute } from './contract';
import { cutToBytes, GOAL_ATTRIBUTE_BYTES, GOAL_SUMMARY_BYTES } from './limits';
import type { GoalInput } from './types';

/** The workflow id every goal of concurrency key `key` runs under: one id per key is what makes the key exclusive. */
export function keyWorkflowId(key: string): string {
  return `goal-key-${key}`;
}

/** A goal's Web UI summary: its start, cut to the server's 400-byte cap ({@link GOAL_SUMMARY_BYTES}). */
export function goalSummary(goal: string): string {
  return cutToBytes(goal, GOAL_SUMMARY_BYTES);
}

/** Search attributes a goal starts with; the planner keeps status, plan version and tokens current from there. */
export function goalSearchAttributes(goal: string, key?: string) {
  return [
    // Cut to fit the server's search attribute size limit (2 KB by default): a longer goal would refuse to start.
    { key: goalSearchAttribute, value: cutToBytes(goal, GOAL_ATTRIBUTE_BYTES) },
    { key: statusSearchAttribute, value: 'planning' },
    ...(key === undefined ? [] : [{ key: keySearchAttribute, value: key }]),
  ];
}

/** What a keyed schedule's firing starts: the goal and its concurrency key. */
export interface KeyedGoalLaunch {
  key: string;
  input: GoalInput;
}

/**
 * How a keyed schedule's firing ended: it started the key's goal, or found a goal of the key already running and
 * started nothing (as a second `tandem start --key K` does).
 */
export type KeyedGoalLaunchResult =
  { outcome: 'started'; goalId: string; runId: string } | { outcome: 'key_busy'; goalId: string; message: string };
