/** Small measuring helpers shared by the bench's sections. */
import type { Client } from '@temporalio/client';

/** The p-th percentile (nearest rank) of `values`; NaN for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Events and bytes of a workflow's history, as the server counts them. */
export interface HistoryFigures {
  events: number;
  bytes: number;
}

export async function historyFigures(client: Client, workflowId: string): Promise<HistoryFigures> {
  const description = await client.workflow.getHandle(workflowId).describe();
  return { events: description.historyLength, bytes: Number(description.historySize) };
}

/** Per-step growth between a short and a long run: fixed start and end costs cancel out. */
export function marginal(short: HistoryFigures, long: HistoryFigures, extraSteps: number): HistoryFigures {
  return { events: (long.events - short.events) / extraSteps, bytes: (long.bytes - short.bytes) / extraSteps };
}

/** Workflow ids of the children a workflow started, from its history. */
export async function childIds(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const id = event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    return id ? [id] : [];
  });
}

/** Samples this process's peak RSS until stopped. */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 100) {
    this.timer = setInterval(() => (this.peak = Math.max(this.peak, process.memoryUsage().rss)), intervalMs);
  }

  /** Peak since the last reset, in MiB; resets. */
  takePeakMiB(): number {
    const peak = Math.max(this.peak, process.memoryUsage().rss);
    this.peak = 0;
    return peak / 2 ** 20;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
