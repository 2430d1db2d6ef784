/**
 * The live event stream of a goal (docs/stream.md): what the activities append to the object store as they run, and
 * what `tandem watch` and `tandem serve` read back. Sandbox-safe: types, the key layout and the stream id only.
 *
 * Why the object store and not workflow history (Temporal's Workflow Streams): every token in history would cost
 * events and bytes toward the 50 MiB / 51,200-event limits, and `contrib/workflow-streams` is not in SDK 1.24. The
 * store is already shared by every worker and the CLI, and its exclusive create gives one total order per goal.
 */

/** Where the reply's text went: the answer, or the model's reasoning (kept apart, as the model boundary keeps them). */
export type TextKind = 'content' | 'reasoning';

/** Which model call or tool call an event belongs to: the workflow it ran in, the activity and its attempt. */
export interface CallRef {
  /** The workflow the activity ran in: the goal's planner, or an executor `<goal id>.v<n>.<subtask id>`. */
  workflowId: string;
  /** The activity id within that workflow: a retry keeps it, another call has another. */
  activityId: string;
  /** Temporal's attempt number, from 1: a new attempt restarts the call's text (see `model-start`). */
  attempt: number;
  subtaskId?: string;
}

/** Events the activities write, in the order they happened within one call. */
export type LogEvent =
  | (CallRef & { type: 'model-start'; purpose: string })
  | (CallRef & { type: TextKind; text: string })
  | (CallRef & { type: 'model-end'; tokens: number })
  | (CallRef & { type: 'tool-start'; callId: string; name: string; step?: number })
  | (CallRef & { type: 'tool-end'; callId: string; name: string; ok: boolean; step?: number });

/** Events the reader derives from the goal's `progress` query: state notices, each with a `key` unique in the goal. */
export type GoalEvent =
  | { type: 'plan'; key: string; version: number; reason: string; subtasks: string[] }
  | { type: 'verdict'; key: string; subtaskId: string; workflowId: string; verdict: unknown }
  | { type: 'approval-waiting'; key: string; callId: string; subtaskId: string; tool: string }
  | { type: 'end'; key: 'end'; executionStatus: string; status: string; ending: string }
  | ({ type: 'gone'; key: 'gone' } & StreamRemoval);

/**
 * What a worker records when it removes a goal's stream (docs/stream.md, "Retention"): a reader that finds segments
 * missing says they are gone, with these times (ISO 8601), instead of ending the stream as if it were complete.
 */
export interface StreamRemoval {
  /** When the goal's run closed. */
  endedAt: string;
  /** When its segments were removed: `TANDEM_STREAM_RETENTION_HOURS` after {@link StreamRemoval.endedAt}, or later. */
  removedAt: string;
}

/**
 * One event as a client receives it. Log events carry `id`, their offset `<segment>:<index>`: ordered, and what
 * `Last-Event-ID` or `--from` resumes after. Goal events carry no `id`: a reconnecting client gets them again, and
 * tells them apart by `key`.
 */
export type StreamEvent = (LogEvent & { id: string }) | GoalEvent;

/** One object in the store: the events of about 200 ms of one call. */
export interface StreamSegment {
  events: LogEvent[];
}

/** A goal has at most this many segments (about an hour of steady streaming at 5 a second); later ones are dropped. */
export const MAX_SEGMENTS_PER_GOAL = 20_000;

const EXECUTOR_ID_SUFFIX = /\.v\d+\.[a-z0-9][a-z0-9_-]{0,31}$/;

/**
 * The stream a workflow writes to: its goal's. An executor's id is `<goal id>.v<n>.<subtask id>` (subtask ids have no
 * dots), so the goal id is what is left; any other id (a planner, an executor started on its own) is its own stream.
 */
export function streamIdOf(workflowId: string): string {
  return workflowId.replace(EXECUTOR_ID_SUFFIX, '');
}

/** The folder of every stream: one sub-folder per stream, named by its URI-encoded id. */
export const STREAMS_FOLDER = 'streams';
/** The folder of the {@link StreamRemoval} records, one `<URI-encoded id>.json` per removed stream. */
export const REMOVED_STREAMS_FOLDER = 'streams-removed';

/** The folder holding a stream's segments; ids are URI-encoded, so any workflow id is one path element. */
export function streamFolder(streamId: string): string {
  return `${STREAMS_FOLDER}/${encodeURIComponent(streamId)}`;
}

/** The object holding segment `n` of a stream. */
export function segmentKey(streamId: string, n: number): string {
  return `${streamFolder(streamId)}/${String(n).padStart(8, '0')}.json`;
}

/** The object holding the {@link StreamRemoval} of a stream whose segments were removed. */
export function removalKey(streamId: string): string {
  return `${REMOVED_STREAMS_FOLDER}/${encodeURIComponent(streamId)}.json`;
}

/** An offset as `id` carries it. */
export function offsetId(segment: number, index: number): string {
  return `${segment}:${index}`;
}

/** Parses an offset (`Last-Event-ID`, `--from`); undefined when it is not one. */
export function parseOffset(id: string): { segment: number; index: number } | undefined {
  const m = /^(\d+):(\d+)$/.exec(id.trim());
  return m ? { segment: Number(m[1]), index: Number(m[2]) } : undefined;
}
