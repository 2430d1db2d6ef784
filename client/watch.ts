/**
 * `tandem watch`: polls the goal's `progress` query about once a second and redraws its tree in place until the goal
 * ends. Polling a query, not the history, because the query already holds the whole tree (the executors report their
 * steps to the planner) and costs no history events.
 */
import type { Client } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatProgress } from './format';
import { describeGoal, queryProgress } from './goals';
import type { GoalProgress } from '../common/types';
import { streamingCalls } from '../node/streamed-tokens';

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
  /** Temporal's execution status, e.g. COMPLETED, FAILED, CANCELLED, TERMINATED. */
  executionStatus: string;
  /** The planner's last progress status (`completed`, `failed`, ...). */
  progressStatus: string;
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
    const width = this.out.columns ?? 120;
    const lines = frame.split('\n').map((line) => (line.length > width ? line.slice(0, width - 1) : line));
    this.out.write(`${this.lines > 0 ? `\x1b[${this.lines}F\x1b[J` : ''}${lines.join('\n')}\n`);
    this.lines = lines.length;
  }
}

/** Tokens streamed by the model calls in flight: the planner's own (key `''`) and each running subtask's. */
async function streamedTokens(client: Client, id: string, progress: GoalProgress): Promise<Map<string, number>> {
  const running = progress.subtasks.filter((subtask) => subtask.status === 'running');
  const calls = await streamingCalls(client, [id, ...running.map((subtask) => subtask.workflowId)]);
  return new Map(
    calls.map((call) => [
      call.workflowId === id ? '' : (running.find((s) => s.workflowId === call.workflowId)?.id ?? ''),
      call.streamedTokens,
    ]),
  );
}

/** Watches goal `id` until it is no longer running; resolves with how it ended. */
export async function watchGoal(
  client: Client,
  id: string,
  out: WatchOutput = process.stdout,
  intervalMs = WATCH_INTERVAL_MS,
): Promise<WatchOutcome> {
  const redrawer = new Redrawer(out);
  for (;;) {
    const { handle, description } = await describeGoal(client, id);
    // Described before the query: a goal seen running may finish in between, and then one more round draws its end.
    const progress = await queryProgress(client, handle);
    redrawer.draw(formatProgress(id, progress));
    if (description.status.name === 'RUNNING') {
      // Drawn after the tree, so reading the activities in flight never delays it.
      const streaming = await streamedTokens(client, id, progress);
      if (streaming.size > 0) redrawer.draw(formatProgress(id, progress, streaming));
    }
    if (description.status.name !== 'RUNNING') {
      return { executionStatus: description.status.name, progressStatus: progress.status };
    }
    await sleep(intervalMs);
  }
}
