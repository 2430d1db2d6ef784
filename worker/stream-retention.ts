/**
 * Retention of the live event stream (docs/stream.md, "Retention"): a worker removes a goal's stream segments from
 * the store `TANDEM_STREAM_RETENTION_HOURS` after the goal's run closed, and leaves a small {@link StreamRemoval}
 * record so a reader says the events are gone instead of ending as if the stream were complete. The record goes
 * once Temporal has forgotten the goal (the namespace's retention), since no reader can then ask about it.
 *
 * Why a sweep by the worker, and not a timer in the planner or an S3 lifecycle rule: a timer is a new workflow
 * command, which replays of goals already closed would not have; a lifecycle rule counts from each object's creation,
 * so it removes the start of a goal that runs longer than the rule while a watcher may still want it, and a folder
 * store has none. The sweep asks Temporal when each goal closed, which is the time the setting is about.
 */
import type { temporal } from '@temporalio/proto';
import { Runtime } from '@temporalio/worker';
import type { ObjectStore } from '../node/object-store';
import {
  REMOVED_STREAMS_FOLDER,
  removalKey,
  STREAMS_FOLDER,
  type StreamRemoval,
  streamFolder,
} from '../common/stream-events';

/** How a stream's goal stands in Temporal: running, closed at a time, or not known (never was, or forgotten). */
export type GoalRun = { state: 'running' } | { state: 'closed'; closedAt: Date } | { state: 'unknown' };

/** Looks a stream's goal (its workflow id) up in Temporal. */
export type GoalRunLookup = (workflowId: string) => Promise<GoalRun>;

/** gRPC NOT_FOUND: no workflow of that id in the namespace. */
const NOT_FOUND = 5;
const RUNNING = 1;

/** A {@link GoalRunLookup} over Temporal's `DescribeWorkflowExecution` (the latest run of the id). */
export function goalRunLookup(
  service: temporal.api.workflowservice.v1.WorkflowService,
  namespace: string,
): GoalRunLookup {
  return async (workflowId) => {
    try {
      const { workflowExecutionInfo: info } = await service.describeWorkflowExecution({
        namespace,
        execution: { workflowId },
      });
      if (!info || info.status === RUNNING || !info.closeTime) return { state: 'running' };
      const ms = Number(info.closeTime.seconds ?? 0) * 1_000 + Math.floor((info.closeTime.nanos ?? 0) / 1e6);
      return { state: 'closed', closedAt: new Date(ms) };
    } catch (err) {
      if ((err as { code?: number }).code === NOT_FOUND) return { state: 'unknown' };
      throw err;
    }
  };
}

/** What one sweep did: the ids of the streams whose segments it removed, and of the records it removed. */
export interface SweepOutcome {
  removed: string[];
  forgotten: string[];
}

/**
 * One pass over the store: removes the segments of every stream whose goal closed `retentionMs` or more before `now`
 * (writing its {@link StreamRemoval} first, so no reader ever sees a missing segment without one), and of every
 * stream whose goal Temporal does not know; removes the records of goals Temporal no longer knows. Several workers
 * may sweep at once: every step is idempotent.
 */
export async function sweepStreams(
  objects: ObjectStore,
  lookup: GoalRunLookup,
  retentionMs: number,
  now: Date = new Date(),
): Promise<SweepOutcome> {
  const outcome: SweepOutcome = { removed: [], forgotten: [] };
  for (const name of await objects.children(STREAMS_FOLDER)) {
    const streamId = decodeURIComponent(name);
    const run = await lookup(streamId);
    if (run.state === 'running') continue;
    if (run.state === 'closed') {
      if (now.getTime() - run.closedAt.getTime() < retentionMs) continue;
      const removal: StreamRemoval = { endedAt: run.closedAt.toISOString(), removedAt: now.toISOString() };
      await objects.overwrite(removalKey(streamId), { bytes: Buffer.from(JSON.stringify(removal)) });
    }
    await objects.removeFolder(streamFolder(streamId));
    outcome.removed.push(streamId);
  }
  for (const name of await objects.children(REMOVED_STREAMS_FOLDER)) {
    if (!name.endsWith('.json')) continue;
    const streamId = decodeURIComponent(name.slice(0, -'.json'.length));
    if ((await lookup(streamId)).state !== 'unknown') continue;
    await objects.remove(removalKey(streamId));
    outcome.forgotten.push(streamId);
  }
  return outcome;
}

/** How often a worker sweeps: retention is counted in hours, so an hour late is within the setting's grain. */
export const SWEEP_INTERVAL_MS = 3_600_000;

/**
 * Sweeps now and every {@link SWEEP_INTERVAL_MS} until `stop()`; a failed sweep is logged and tried again at the
 * next one (a store or Temporal briefly away must not stop the worker).
 */
export function startStreamRetention(
  objects: ObjectStore,
  lookup: GoalRunLookup,
  retentionMs: number,
): { stop(): void } {
  let sweeping = false;
  const sweep = () => {
    if (sweeping) return;
    sweeping = true;
    sweepStreams(objects, lookup, retentionMs)
      .catch((err: unknown) => {
        Runtime.instance().logger.warn('live event stream: the retention sweep failed', { error: String(err) });
      })
      .finally(() => (sweeping = false));
  };
  sweep();
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
  // A worker that stops must not wait for the next sweep.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
