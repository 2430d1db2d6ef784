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

/** Polls `check` every 250 ms until it returns something truthy or 15 s have passed (visibility lags a little). */
export async function eventually<T>(check: () => Promise<T>, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after 15 s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
