/**
 * `tandem watch`: polls the snapshot `status` prints (the `progress` query, failing calls, how the run ended) about
 * once a second until the goal or executor ends. Polling a query, not the history, because the query already holds
 * the whole tree (the executors report their steps to the planner) and costs no history events.
 */
import type { Client } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatSnapshot, snapshotJson } from './format';
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

/** One JSON object per line, printed only when it differs from the previous one: for `jq`, log shippers, scripts. */
class JsonLines {
  private last = '';

  constructor(private readonly out: WatchOutput) {}

  draw(snap: Snapshot): void {
    const line = JSON.stringify(snapshotJson(snap));
    if (line === this.last) return;
    this.last = line;
    this.out.write(`${line}\n`);
  }
}

/** Watches the goal or executor `id` until it is no longer running; resolves with how it ended. */
export async function watchGoal(
  client: Client,
  id: string,
  out: WatchOutput = process.stdout,
  opts: { json?: boolean; intervalMs?: number } = {},
): Promise<WatchOutcome> {
  const redrawer = new Redrawer(out);
  const json = new JsonLines(out);
  for (;;) {
    const snap = await snapshot(client, id);
    if (opts.json) json.draw(snap);
    else redrawer.draw(formatSnapshot(snap));
    if (snap.executionStatus !== 'RUNNING') {
      const ending = snap.ending ?? snap.executionStatus.toLowerCase();
      return { executionStatus: snap.executionStatus, progressStatus: snap.progress.status, ending, last: snap };
    }
    await sleep(opts.intervalMs ?? WATCH_INTERVAL_MS);
  }
}
