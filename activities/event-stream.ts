/**
 * The writing side of a goal's live event stream (common/stream-events.ts, docs/stream.md). Each flush is one segment
 * object, created at the next free number with the store's exclusive create: workers on different machines sharing
 * only the store still write one gap-free, totally ordered sequence, and a reader finds the end by the first missing
 * number. Writing is best effort: a store that fails a segment loses that segment's events for watchers, never the
 * goal (the reply and the tool outcome still reach the workflow).
 */
import { Context } from '@temporalio/activity';
import type { ObjectStore } from '../node/object-store';
import {
  type CallRef,
  type LogEvent,
  MAX_SEGMENTS_PER_GOAL,
  segmentKey,
  streamIdOf,
  type TextKind,
} from '../common/stream-events';

/** How long text deltas gather before they are written: live enough for a person, few enough objects for a store. */
export const FLUSH_INTERVAL_MS = 200;

/** The next free segment number this worker last saw per stream, so a busy goal costs one create per flush. */
const nextFree = new Map<string, number>();
const HINTS_KEPT = 1_000;

async function exists(objects: ObjectStore, streamId: string, n: number): Promise<boolean> {
  return (await objects.read(segmentKey(streamId, n))) !== undefined;
}

/** The first missing segment at or after `from` (which exists unless it is 0): galloping, then bisecting. */
async function firstFree(objects: ObjectStore, streamId: string, from: number): Promise<number> {
  if (!(await exists(objects, streamId, from))) return from;
  let present = from;
  let step = 1;
  while (await exists(objects, streamId, present + step)) {
    present += step;
    step *= 2;
  }
  let missing = present + step;
  while (missing - present > 1) {
    const mid = Math.floor((present + missing) / 2);
    if (await exists(objects, streamId, mid)) present = mid;
    else missing = mid;
  }
  return missing;
}

/**
 * What this process still has to write to one stream: the batches of its calls, written together as one segment. A
 * step of 300 parallel tool calls would otherwise race 300 writers for each next number, and every loser re-probes:
 * O(n²) store requests, enough to time the calls out. Within a process there is one writer per stream; only writers
 * on other workers still race, and they are few.
 */
interface StreamQueue {
  batches: Array<{ events: LogEvent[]; written: () => void; failed: (err: unknown) => void }>;
}

const queues = new Map<string, StreamQueue>();

/**
 * Appends `events` to the stream, in one segment with whatever other calls of this process have waiting for the same
 * stream (each call's events keep their order: a call writes its batches one after another). Resolves once written.
 */
export function appendSegment(objects: ObjectStore, streamId: string, events: LogEvent[]): Promise<void> {
  return new Promise((written, failed) => {
    const queued = queues.get(streamId);
    if (queued) {
      queued.batches.push({ events, written, failed });
      return;
    }
    const queue: StreamQueue = { batches: [{ events, written, failed }] };
    queues.set(streamId, queue);
    void (async () => {
      while (queue.batches.length) {
        const batches = queue.batches.splice(0);
        try {
          await createSegment(
            objects,
            streamId,
            batches.flatMap((batch) => batch.events),
          );
          for (const batch of batches) batch.written();
        } catch (err) {
          for (const batch of batches) batch.failed(err);
        }
      }
      queues.delete(streamId);
    })();
  });
}

/** Writes one segment at the next free number; gives up silently past {@link MAX_SEGMENTS_PER_GOAL} (the bound). */
async function createSegment(objects: ObjectStore, streamId: string, events: LogEvent[]): Promise<void> {
  const body = { bytes: Buffer.from(JSON.stringify({ events })) };
  let n = nextFree.get(streamId) ?? (await firstFree(objects, streamId, 0));
  while (n < MAX_SEGMENTS_PER_GOAL) {
    if ((await objects.create(segmentKey(streamId, n), body)) === 'created') {
      nextFree.delete(streamId);
      nextFree.set(streamId, n + 1);
      if (nextFree.size > HINTS_KEPT) nextFree.delete(nextFree.keys().next().value!);
      return;
    }
    // Another writer took `n`: it exists, so the free one is after it.
    n = await firstFree(objects, streamId, n + 1);
  }
}

/**
 * The events of one activity attempt: batches them, writes batches one after another (so a call's events keep their
 * order), and never lets a store failure reach the activity. Without a store (`TANDEM_LIVE_STREAM=false`) it keeps
 * and writes nothing.
 */
export class CallStream {
  private readonly streamId: string;
  private pending: LogEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly log = Context.current().log;
  readonly ref: CallRef;

  constructor(
    private readonly objects: ObjectStore | undefined,
    subtaskId?: string,
  ) {
    const { workflowExecution, activityId, attempt } = Context.current().info;
    // An activity started on its own (no workflow) streams under its own id.
    const workflowId = workflowExecution?.workflowId ?? activityId;
    this.streamId = streamIdOf(workflowId);
    this.ref = { workflowId, activityId, attempt, ...(subtaskId ? { subtaskId } : {}) };
  }

  /** Adds an event to the next batch. */
  push(event: LogEvent): void {
    if (!this.objects) return;
    this.pending.push(event);
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
  }

  /** Adds a text delta, merged into the previous one of its kind when that one is still waiting. */
  text(type: TextKind, text: string): void {
    const last = this.pending.at(-1);
    if (last?.type === type) last.text += text;
    else this.push({ ...this.ref, type, text });
  }

  /** Writes what is waiting now; resolves once every batch so far is written (or given up on). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const events = this.pending;
    this.pending = [];
    const { objects } = this;
    if (objects && events.length) {
      this.writing = this.writing.then(() =>
        appendSegment(objects, this.streamId, events).catch((err: unknown) => {
          this.log.warn('live event stream: a segment was not written', { error: String(err) });
        }),
      );
    }
    return this.writing;
  }
}
