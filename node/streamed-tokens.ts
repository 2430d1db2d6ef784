/**
 * Tokens streamed so far by the model calls running in a goal: workflow code cannot see an activity in flight, so
 * `callModel` heartbeats its progress (`CallModelHeartbeat`: purpose, subtask, streamed tokens) and a client reads it
 * from the pending activities of each running workflow (`temporal workflow describe` shows the same details).
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';

/** One model call in flight and how far its reply has streamed. */
export interface StreamingCall {
  workflowId: string;
  purpose: string;
  subtaskId?: string;
  streamedTokens: number;
}

/** The `callModel` activities running in these workflows, with their latest heartbeat; workflows gone are skipped. */
export async function streamingCalls(client: Client, workflowIds: readonly string[]): Promise<StreamingCall[]> {
  const calls = await Promise.all(
    workflowIds.map(async (workflowId): Promise<StreamingCall[]> => {
      try {
        const { raw } = await client.workflow.getHandle(workflowId).describe();
        return (raw.pendingActivities ?? []).flatMap((activity) => {
          const payload = activity.heartbeatDetails?.payloads?.[0];
          if (activity.activityType?.name !== 'callModel' || !payload) return [];
          const details = defaultPayloadConverter.fromPayload(payload) as Partial<StreamingCall> | undefined;
          if (typeof details?.streamedTokens !== 'number') return [];
          return [
            {
              workflowId,
              purpose: String(details.purpose ?? ''),
              ...(details.subtaskId ? { subtaskId: details.subtaskId } : {}),
              streamedTokens: details.streamedTokens,
            },
          ];
        });
      } catch {
        return [];
      }
    }),
  );
  return calls.flat();
}
