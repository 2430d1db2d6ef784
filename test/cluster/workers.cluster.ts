/**
 * tandem on many machines, as one machine can play them: three `tandem worker` processes, each with its own state and
 * workspace folders and network namespace (test/cluster/machines.ts), sharing only the PostgreSQL-backed Temporal
 * server and the S3 store of scripts/cluster.sh. The CLI that reads results has empty folders of its own too.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { startGoal } from '../../client/goals';
import { DEMO_EXPRESSION, scriptDemo } from '../../dev/demo-model';
import { match, reply } from '../../dev/scripted-model';
import { runCli } from '../helpers/cli';
import { clusterSuite, identityOf, machineFolders } from './machines';

describe('tandem on three workers that share only the server and the store', () => {
  const cluster = clusterSuite('cluster');

  const startWorkers = (count: number, extraEnv: Record<string, string> = {}) =>
    cluster.machines.start(count, {
      TANDEM_TASK_QUEUE: cluster.queue,
      OPENAI_BASE_URL: cluster.model.baseURL,
      ...extraEnv,
    });

  it('runs goals spread over all three with no spurious replan, and a CLI elsewhere reads their results', async () => {
    scriptDemo(cluster.model);
    await startWorkers(3);
    const ids = Array.from({ length: 6 }, (_, i) => `spread-${Date.now()}-${i}`);
    const handles = await Promise.all(
      ids.map((id) =>
        startGoal(cluster.client, { goal: 'Compute 17 * 23 + 4 and save it', id, taskQueue: cluster.queue }),
      ),
    );
    const results = await Promise.all(handles.map((handle) => handle.result()));

    expect(results.map((result) => result.ok)).toEqual(ids.map(() => true));
    // One plan per goal: a milestone check that missed answer.txt (written on another worker) would replan.
    expect(cluster.model.requestsMatching(match.responseFormat('plan'))).toHaveLength(ids.length);
    const children = ids.flatMap((id) => [id, `${id}.v1.s1`, `${id}.v1.s2`]);
    const identities = new Set((await cluster.machines.activityWorkers(children)).map((started) => started.identity));
    expect(identities).toEqual(new Set(cluster.machines.workers.map(identityOf)));
    if (cluster.machines.isolated) {
      // Each worker's network is loopback alone: it reached the server, the store and the model through its relays.
      for (const worker of cluster.machines.workers) {
        const links = execFileSync('nsenter', ['-t', String(worker.child.pid), '-n', 'ip', '-o', 'link'], {
          encoding: 'utf8',
        });
        expect(
          links
            .trim()
            .split('\n')
            .map((line) => line.split(':')[1].trim()),
        ).toEqual(['lo']);
      }
    }

    const cli = await machineFolders('cli');
    const shown = await runCli(['result', ids[0], '--json'], cli);
    expect(shown.stderr).toBe('');
    const outcome = JSON.parse(shown.stdout) as { workspace: string; ok: boolean };
    expect(outcome.ok).toBe(true);
    expect(outcome.workspace.startsWith(cli.TANDEM_WORKSPACE_ROOT)).toBe(true);
    await expect(fs.readFile(path.join(outcome.workspace, 'answer.txt'), 'utf8')).resolves.toBe('395\n');
    const transcript = await runCli(['transcript', ids[0], 's1'], cli);
    expect(transcript.stderr).toBe('');
    expect(transcript.stdout).toContain(DEMO_EXPRESSION);
  });

  it('finishes a goal on another worker when the one running its tool call is SIGKILLed, with every file written', async () => {
    let pageRequests = 0;
    let firstPageRequest: () => void = () => undefined;
    const pageRequested = new Promise<void>((resolve) => (firstPageRequest = resolve));
    const page = http.createServer((_req, res) => {
      pageRequests += 1;
      firstPageRequest();
      setTimeout(() => res.end('the page'), 8_000);
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(page.address() as AddressInfo).port}`;
    cluster.model
      .on(match.purpose('judge'), reply.json({ met: true, reason: 'answer.txt holds 395.' }), { repeatLast: true })
      .on(
        match.purpose('plan'),
        reply.json({
          subtasks: [
            {
              id: 's1',
              title: 'Save and fetch',
              instructions: 'Write 395 to answer.txt, then fetch the page.',
              milestone: 'answer.txt exists in the workspace.',
              dependsOn: [],
              tools: ['write_file', 'http_get'],
            },
          ],
        }),
        { repeatLast: true },
      )
      .on(match.purpose('step', 's1'), [
        reply.toolCall('write_file', { path: 'answer.txt', content: '395\n' }),
        reply.toolCall('http_get', { url: `http://${host}/page` }),
        reply.text('Saved 395 and fetched the page.'),
      ])
      .on(match.purpose('report'), reply.text('Saved.'), { repeatLast: true });
    await startWorkers(3, { TANDEM_HTTP_ALLOW: host });
    const id = `tool-killed-${Date.now()}`;
    const handle = await startGoal(cluster.client, {
      goal: 'Save 395 and fetch the page',
      id,
      taskQueue: cluster.queue,
    });

    const result = await (async () => {
      try {
        // The write_file call has completed and http_get is in flight: the kill lands mid tool call.
        await pageRequested;
        const victim = await cluster.machines.running(`${id}.v1.s1`, 'runTool');
        await victim.kill('SIGKILL');
        return await handle.result();
      } finally {
        page.close();
        page.closeAllConnections();
      }
    })();

    expect(result.ok).toBe(true);
    expect(pageRequests).toBe(2);
    expect(cluster.model.requestsMatching(match.responseFormat('plan'))).toHaveLength(1);
    const shown = await runCli(['result', id, '--json'], await machineFolders('cli'));
    const outcome = JSON.parse(shown.stdout) as { workspace: string };
    await expect(fs.readFile(path.join(outcome.workspace, 'answer.txt'), 'utf8')).resolves.toBe('395\n');
  });

  it('finishes a goal on another worker when the one waiting on its model call is SIGKILLed', async () => {
    const s2Answer = match.and(match.purpose('step', 's2'), match.lastRole('tool'));
    cluster.model.on(s2Answer, [reply.slow(15_000, reply.text('Saved 395 to answer.txt.')), reply.text('Saved 395.')]);
    scriptDemo(cluster.model);
    await startWorkers(3);
    const id = `model-killed-${Date.now()}`;
    const handle = await startGoal(cluster.client, { goal: 'Compute and save', id, taskQueue: cluster.queue });

    await cluster.model.waitForRequests(1, { match: s2Answer, timeoutMs: 120_000 });
    const victim = await cluster.machines.running(`${id}.v1.s2`, 'callModel');
    await victim.kill('SIGKILL');
    const result = await handle.result();

    expect(result.ok).toBe(true);
    expect(cluster.model.requestsMatching(s2Answer)).toHaveLength(2);
    expect(cluster.model.requestsMatching(match.responseFormat('plan'))).toHaveLength(1);
    const shown = await runCli(['result', id, '--json'], await machineFolders('cli'));
    const outcome = JSON.parse(shown.stdout) as { workspace: string };
    // The file the completed write_file call stored before the kill, checked out on a machine that never ran it.
    await expect(fs.readFile(path.join(outcome.workspace, 'answer.txt'), 'utf8')).resolves.toBe('395\n');
  });

  it('finishes a goal when the Temporal server is SIGKILLed and restarted in the middle of it', async () => {
    const s1Answer = match.and(match.purpose('step', 's1'), match.lastRole('tool'));
    cluster.model.on(s1Answer, [
      reply.slow(10_000, reply.text(`${DEMO_EXPRESSION} = 395`)),
      reply.text(`${DEMO_EXPRESSION} = 395`),
    ]);
    scriptDemo(cluster.model);
    await startWorkers(3);
    const id = `server-killed-${Date.now()}`;
    await startGoal(cluster.client, { goal: 'Compute and save', id, taskQueue: cluster.queue });

    await cluster.model.waitForRequests(1, { match: s1Answer, timeoutMs: 120_000 });
    const pidFile = path.join(process.env.TANDEM_CLUSTER_DIR!, 'temporal.pid');
    process.kill(Number(await fs.readFile(pidFile, 'utf8')), 'SIGKILL');
    // `up` again starts only what is down: the server, on the same PostgreSQL database.
    execFileSync('bash', [path.resolve(__dirname, '../../scripts/cluster.sh'), 'up'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    const result = await cluster.client.workflow.getHandle(id).result();

    expect(result.ok).toBe(true);
    expect(cluster.model.requestsMatching(match.responseFormat('plan'))).toHaveLength(1);
    const shown = await runCli(['result', id, '--json'], await machineFolders('cli'));
    const outcome = JSON.parse(shown.stdout) as { workspace: string };
    await expect(fs.readFile(path.join(outcome.workspace, 'answer.txt'), 'utf8')).resolves.toBe('395\n');
  });
});
