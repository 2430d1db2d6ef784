/** Reads what reached a workflow from its history, for asserting that a CLI verb's signal or cancel arrived. */
import type { Client } from '@temporalio/client';

/** A signal as recorded in history: its name and its JSON-decoded arguments. */
export interface RecordedSignal {
  name: string;
  args: unknown[];
}

/** The signals in the workflow's history, in arrival order. */
export async function signalsOf(client: Client, workflowId: string): Promise<RecordedSignal[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const signaled = event.workflowExecutionSignaledEventAttributes;
    if (!signaled) return [];
    const args = (signaled.input?.payloads ?? []).map((payload) =>
      JSON.parse(Buffer.from(payload.data ?? new Uint8Array()).toString('utf8')),
    );
    return [{ name: signaled.signalName ?? '', args }];
  });
}

/** True once a cancellation was requested for the workflow. */
export async function cancelRequested(client: Client, workflowId: string): Promise<boolean> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).some((event) => Boolean(event.workflowExecutionCancelRequestedEventAttributes));
}

/**
 * Polls `check` every 250 ms until it returns something truthy or `timeoutMs` (15 s: visibility lags a little) have
 * passed.
 */
export async function eventually<T>(
  check: () => Promise<T>,
  what: string,
  timeoutMs = 15_000,
): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, undefined | null | false>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Fires schedule `id` now (as its cron would) and resolves with the id of the workflow that firing started. */
export async function fireSchedule(client: Client, id: string): Promise<string> {
  const handle = client.schedule.getHandle(id);
  const before = (await handle.describe()).info.recentActions.length;
  await handle.trigger();
  return eventually(async () => {
    const actions = (await handle.describe()).info.recentActions;
    return actions.length > before ? actions[actions.length - 1].action.workflow.workflowId : undefined;
  }, `schedule ${id} to fire`);
}

/**
 * Everything a workflow's history holds, as text: every payload (inputs, results, signals, summaries) decoded from its
 * bytes, for asserting that a secret never reached it.
 */
export async function historyText(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const parts: string[] = [];
  const walk = (value: unknown): void => {
    if (value instanceof Uint8Array) parts.push(Buffer.from(value).toString('utf8'));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
    else if (typeof value === 'string') parts.push(value);
  };
  walk(history);
  return parts.join('\n');
}

/** The Web UI summaries of the activities a workflow scheduled, in order, with each activity's type. */
export async function activitySummaries(client: Client, workflowId: string): Promise<Array<[string, string]>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((event): Array<[string, string]> => {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (!scheduled) return [];
    const data = event.userMetadata?.summary?.data;
    const summary = data ? (JSON.parse(Buffer.from(data).toString('utf8')) as string) : '';
    return [[scheduled.activityType?.name ?? '', summary]];
  });
}
