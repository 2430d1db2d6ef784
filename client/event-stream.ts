/**
 * The reading side of a goal's live event stream (docs/stream.md): the segments the activities wrote
 * (activities/event-stream.ts), in segment order, merged with goal-level notices derived from the `progress` query
 * (plan versions, verdicts, approvals waiting) and the end. `tandem watch` and `tandem serve` both read it here.
 *
 * Holds no events in memory beyond one segment: a client that falls behind reads from the store, not from a buffer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectStore } from '../node/object-store';
import {
  type GoalEvent,
  type LogEvent,
  offsetId,
  removalKey,
  segmentKey,
  type StreamEvent,
  type StreamRemoval,
  type StreamSegment,
  streamIdOf,
} from '../common/stream-events';
import type { Snapshot } from './inspect';

/** How often the store is looked at for new segments: the writers flush every 200 ms. */
export const SEGMENT_POLL_MS = 150;
/** How often the `progress` query is asked for goal-level notices and the end: each asks a worker. */
export const SNAPSHOT_POLL_MS = 1_000;

export interface StreamSource {
  objects: ObjectStore;
  /** The snapshot `status` prints (client/inspect.ts), of the goal or executor watched. */
  snapshot(id: string): Promise<Snapshot>;
  /** Ends the stream early (a client that went away). */
  signal?: AbortSignal;
  segmentPollMs?: number;
  snapshotPollMs?: number;
}

/** The goal-level notices a snapshot holds, in a fixed order: plan versions, verdicts, approvals waiting. */
export function goalNotices(snap: Snapshot): GoalEvent[] {
  if (snap.kind !== 'goal') return [];
  const { versions, subtasks, pendingApprovals = [] } = snap.progress;
  return [
    ...versions.map((v): GoalEvent => ({
      type: 'plan',
      key: `plan:${v.version}`,
      version: v.version,
      reason: v.reason,
      subtasks: v.subtasks.map((s) => s.id),
    })),
    ...subtasks.flatMap((s): GoalEvent[] =>
      s.verdict === undefined
        ? []
        : [
            {
              type: 'verdict',
              key: `verdict:${s.workflowId}`,
              subtaskId: s.id,
              workflowId: s.workflowId,
              verdict: s.verdict,
            },
          ],
    ),
    ...pendingApprovals.map((a): GoalEvent => ({
      type: 'approval-waiting',
      key: `approval:${a.callId}`,
      callId: a.callId,
      subtaskId: a.subtaskId,
      tool: a.tool,
    })),
  ];
}

/**
 * The events of goal (or executor) `id`, after offset `after` (`Last-Event-ID`) when given, until its end event.
 * Log events come in the order of their offsets, each once; goal notices come once per reader, so a client that
 * reconnects gets them again (their `key` says which it has). When the goal closed long enough ago that a worker
 * removed its segments (worker/stream-retention.ts), a `gone` event says so before the goal notices and the end.
 */
export async function* readEventStream(
  source: StreamSource,
  id: string,
  after?: { segment: number; index: number },
): AsyncGenerator<StreamEvent> {
  const streamId = streamIdOf(id);
  // An executor's events are in its goal's stream; watching one executor shows only the events it wrote.
  const ours = (event: LogEvent) => streamId === id || event.workflowId === id;
  const segmentPollMs = source.segmentPollMs ?? SEGMENT_POLL_MS;
  const snapshotPollMs = source.snapshotPollMs ?? SNAPSHOT_POLL_MS;
  let segment = after?.segment ?? 0;
  let skip = after ? after.index + 1 : 0;
  const sent = new Set<string>();
  let lastSnapshot = 0;
  const aborted = () => source.signal?.aborted === true;

  /** Every segment written so far, from the cursor on. */
  async function* drain(): AsyncGenerator<StreamEvent> {
    for (;;) {
      const bytes = await source.objects.read(segmentKey(streamId, segment));
      if (bytes === undefined) return;
      const { events } = JSON.parse(bytes.toString('utf8')) as StreamSegment;
      for (let index = skip; index < events.length; index++) {
        if (ours(events[index])) yield { ...events[index], id: offsetId(segment, index) };
      }
      segment++;
      skip = 0;
    }
  }

  while (!aborted()) {
    yield* drain();
    if (Date.now() - lastSnapshot < snapshotPollMs) {
      await sleep(segmentPollMs, undefined, { signal: source.signal }).catch(() => undefined);
      continue;
    }
    lastSnapshot = Date.now();
    const snap = await source.snapshot(id);
    // Activities flush before they complete, so once the run has closed, one more drain reads everything it wrote.
    const closed = snap.executionStatus !== 'RUNNING';
    if (closed) {
      yield* drain();
      // A removed stream ends where its segments went missing: said, never passed off as the stream's end.
      const removal = await source.objects.read(removalKey(streamId));
      if (removal) yield { type: 'gone', key: 'gone', ...(JSON.parse(removal.toString('utf8')) as StreamRemoval) };
    }
    for (const notice of goalNotices(snap)) {
      if (sent.has(notice.key)) continue;
      sent.add(notice.key);
      yield notice;
    }
    if (closed) {
      const ending = snap.ending ?? snap.executionStatus.toLowerCase();
      yield { type: 'end', key: 'end', executionStatus: snap.executionStatus, status: snap.progress.status, ending };
      return;
    }
  }
}
