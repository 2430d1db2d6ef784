/**
 * A goal blocked by a non-determinism error (a worker whose workflow code no longer matches the goal's history) shows
 * in `status` as blocked, with the cause and what to do, never as a crash of the CLI. For real: a goal started by
 * tandem's worker, then picked up by a worker with a changed bundle.
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { pauseSignal } from '../common/contract';
import { snapshot } from '../client/inspect';
import { GoalError } from '../client/goals';
import { temporalSettings } from '../node/connection';
import { createTandemWorker } from '../worker/worker';
import { match, reply } from '../dev/scripted-model';
import { startTandem } from './helpers/tandem';
import { eventually } from './helpers/history';
import { runCli } from './helpers/cli';

describe('a goal blocked by changed workflow code', () => {
  it('shows in status as blocked by a non-determinism error, with what to do', async () => {
    const tandem = await startTandem();
    tandem.model.on(match.any, [reply.hang()]);
    const handle = await tandem.startPlanner('blocked', { goal: 'Plan something' });
    await tandem.model.waitForRequests(1);
    const config = tandem.config;
    const taskQueue = tandem.taskQueue;
    await tandem.stop();

    const bundle = await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'helpers', 'changed-workflows.ts'),
      logger: new DefaultLogger('WARN'),
    });
    const changed = await createTandemWorker({
      settings: { ...temporalSettings(), taskQueue },
      config,
      workflowBundle: { code: bundle.code },
    });
    const running = changed.worker.run();
    const connection = await Connection.connect({ address: temporalSettings().connectionOptions.address });
    const client = new Client({ connection, namespace: temporalSettings().namespace });
    try {
      await client.workflow.getHandle(handle.workflowId).signal(pauseSignal);
      const err = await eventually(
        () =>
          snapshot(client, handle.workflowId).then(
            () => undefined,
            (e: unknown) => e,
          ),
        'status to fail',
      );
      expect(err).toBeInstanceOf(GoalError);
      const said = (err as Error).message;
      expect(said).toMatch(new RegExp(`"${handle.workflowId}" is blocked by a non-determinism error`));
      expect(said).toMatch(/TMPRL1100/);
      expect(said).toMatch(/patched\(\).*Worker Versioning.*temporal workflow reset -w/);

      // The CLI itself: one line on stderr that says so, never "unexpected error" and a stack.
      const status = await runCli(['status', handle.workflowId], { TANDEM_TASK_QUEUE: taskQueue });
      expect(status.code).toBe(1);
      expect(status.stderr).toMatch(/is blocked by a non-determinism error/);
      expect(status.stderr).not.toMatch(/unexpected error|\n\s+at /);
      expect(status.stderr.trim().split('\n')).toHaveLength(1);

      const query = ['--query', `WorkflowId = '${handle.workflowId}'`];
      const listed = await runCli(['list', ...query]);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(new RegExp(`${handle.workflowId}\\s+blocked\\s`));
      const [row] = JSON.parse((await runCli(['list', ...query, '--json'])).stdout) as Array<Record<string, unknown>>;
      expect(row.blocked).toEqual(expect.objectContaining({ nonDeterministic: true }));
    } finally {
      // A blocked goal would stay running in the shared dev server (and in other tests' `list`) for ever.
      await client.workflow.getHandle(handle.workflowId).terminate('test over');
      changed.worker.shutdown();
      await running;
      await changed.connection.close();
      await connection.close();
    }
  }, 120_000);
});
