/**
 * `tandem watch`: polls the snapshot `status` prints (the `progress` query, failing calls, how the run ended) about
 * once a second until the goal or executor ends, and reads the goal's live event stream (docs/stream.md) meanwhile.
 * Polling a query, not the history, because the query already holds the whole tree (the executors report their steps
 * to the planner) and costs no history events.
 */
import type { Client } from '@temporalio/client';
import type { StreamEvent } from '../common/stream-events';
import { loadConfig } from '../node/config';
import { openObjectStore, type ObjectStore } from '../node/object-store';
import { readEventStream } from './event-stream';
import { formatSnapshot } from './format';
import { snapshot, type Snapshot } from './inspect';
import { cutToWidth, terminalWidth } from './terminal-width';

/** Often enough to feel live, rare enough that a hundred watchers cost the worker little. */
export const WATCH_INTERVAL_MS = 1_000;

/** Where a watch draws: a terminal is redrawn in place, anything else gets each changed frame appended. */
export interface WatchOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** How a watched goal ended. */
export interface WatchOutcome {
  /** Temporal's execution status, e.g. COMPLETED, FAILED, CANCELED, TERMINATED. */
  executionStatus: string;
  /** The last progress status (`completed`, `failed`, ... for a goal; `done`, `failed`, ... for an executor). */
  progressStatus: string;
  /** How it ended, in the words of docs/endings.md: `completed`, `failed (replans_exhausted)`, `cancelled`, ... */
  ending: string;
  /** The last snapshot, with how the run ended. */
  last: Snapshot;
}

/**
 * Redraws a frame in a terminal: move the cursor to the start of the previous frame and clear to the end of the
 * screen (CSI n F, CSI J). Lines are cut to the terminal width, since a wrapped line would throw the count off.
 */
class Redrawer {
  private lines = 0;
  private last = '';

  constructor(private readonly out: WatchOutput) {}

  draw(frame: string): void {
    if (frame === this.last) return;
    this.last = frame;
    if (!this.out.isTTY) {
      this.out.write(`${frame}\n\n`);
      return;
    }
    // One column short of the width: a line that fills the last column makes some terminals wrap, and a wrapped line
    // throws off the count of lines to move back over.
    const width = terminalWidth(this.out.columns) - 1;
    const lines = frame.split('\n').map((line) => cutToWidth(line, width));
    this.out.write(`${this.lines > 0 ? `\x1b[${this.lines}F\x1b[J` : ''}${lines.join('\n')}\n`);
    this.lines = lines.length;
  }
}

/** The text of the model calls in flight, by call: what a terminal watch shows under the tree, live. */
class LiveText {
  private readonly calls = new Map<string, { label: string; text: string }>();

  add(event: StreamEvent): void {
    if (!('activityId' in event)) return;
    const key = `${event.workflowId}/${event.activityId}`;
    // A new attempt starts the call's text over: what the failed attempt streamed is not the reply.
    if (event.type === 'model-start') {
      // A step is its subtask's; the judge's call on a subtask and the planner's calls say what they are.
      const label =
        event.purpose === 'step' && event.subtaskId ? event.subtaskId : `${event.subtaskId ?? ''} ${event.purpose}`;
      this.calls.set(key, { label: label.trim(), text: '' });
    } else if (event.type === 'model-end') this.calls.delete(key);
    else if (event.type === 'content' || event.type === 'reasoning') {
      const call = this.calls.get(key);
      if (call) call.text = (call.text + event.text).slice(-LIVE_CHARS_KEPT);
    }
  }

  /** One line per call in flight: its label and the end of its text, on one line. */
  lines(): string[] {
    return [...this.calls.values()].map(({ label, text }) => `  ${label} ▸ ${text.replace(/\s+/g, ' ').slice(-200)}`);
  }
}

/** Enough of a call's text for the widest terminal line. */
const LIVE_CHARS_KEPT = 1_000;

/**
 * Watches the goal or executor `id` until it is no longer running; resolves with how it ended. It reads the goal's
 * live event stream (client/event-stream.ts): with `json`, every event is printed as one JSON line; in a terminal the
 * tree is redrawn with the text of the model calls in flight under it; elsewhere each changed tree is appended.
 */
export async function watchGoal(
  client: Client,
  id: string,
  out: WatchOutput = process.stdout,
  opts: { json?: boolean; intervalMs?: number; objects?: ObjectStore } = {},
): Promise<WatchOutcome> {
  const redrawer = new Redrawer(out);
  const live = new LiveText();
  let last: Snapshot | undefined;
  const draw = () => {
    if (opts.json || !last) return;
    // In a terminal the live lines are the calls in flight: the heartbeat lines ("step reply streaming, N tokens so
    // far") are left out, since a heartbeat comes at most every few seconds and its count lagged the text under it
    // (0 while the answer was half on screen, and still there a second after the call had ended).
    const frame = out.isTTY
      ? [formatSnapshot({ ...last, streamingCalls: [] }), ...live.lines()]
      : [formatSnapshot(last)];
    redrawer.draw(frame.join('\n'));
  };
  const source = {
    objects: opts.objects ?? openObjectStore(loadConfig().store),
    snapshotPollMs: opts.intervalMs ?? WATCH_INTERVAL_MS,
    snapshot: async (watched: string) => {
      last = await snapshot(client, watched);
      draw();
      return last;
    },
  };
  for await (const event of readEventStream(source, id)) {
    if (opts.json) out.write(`${JSON.stringify(event)}\n`);
    else if (out.isTTY) {
      live.add(event);
      draw();
    }
  }
  const snap = last!;
  const ending = snap.ending ?? snap.executionStatus.toLowerCase();
  return { executionStatus: snap.executionStatus, progressStatus: snap.progress.status, ending, last: snap };
}
