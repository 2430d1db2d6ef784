/**
 * Container health check of the worker (`node dist/worker/healthcheck.js`): healthy when Temporal reports a
 * poller on tandem's task queue from this host. The SDK's default worker identity is `<pid>@<hostname>`, and in a
 * container the hostname is the container's, so this checks this container's worker rather than any worker. No HTTP
 * port is needed, and a worker that lost its connection turns unhealthy once Temporal forgets its polls (~1 minute).
 */
import { Client, Connection } from '@temporalio/client';
import * as os from 'node:os';
import { temporalSettings } from '../node/connection';

/** True when a workflow-task poller of the task queue runs on `host`. */
export async function workerIsPolling(host: string = os.hostname()): Promise<boolean> {
  const settings = temporalSettings();
  const connection = await Connection.connect({ ...settings.connectionOptions, connectTimeout: '5 seconds' });
  try {
    const client = new Client({ connection, namespace: settings.namespace });
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: settings.namespace,
      // No taskQueueType: the server then describes the workflow-task pollers, which every tandem worker runs.
      taskQueue: { name: settings.taskQueue },
    });
    return (pollers ?? []).some((poller) => poller.identity?.endsWith(`@${host}`));
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  workerIsPolling().then(
    (healthy) => {
      if (!healthy) console.error(`tandem healthcheck: no worker of this host polls "${temporalSettings().taskQueue}"`);
      process.exit(healthy ? 0 : 1);
    },
    (err: unknown) => {
      console.error(`tandem healthcheck: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
