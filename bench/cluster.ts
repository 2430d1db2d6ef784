/**
 * `npm run bench -- --cluster`: the same demo goals, all started at once, on the dev server (SQLite, one worker, the
 * folder store) and on the PostgreSQL-backed Temporal server of scripts/cluster.sh (the S3 store) with one worker and
 * with three. Every worker is a `tandem worker` process with folders of its own, and the scripted model answers after
 * a fixed latency, so the figures compare the servers and the store, not the model.
 */
import { Client, Connection } from '@temporalio/client';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scriptDemo } from '../dev/demo-model';
import { startDevServer } from '../dev/dev-server';
import { startLocalCluster } from '../dev/local-cluster';
import { startScriptedModel } from '../dev/scripted-model';
import { startWorkerProcess, type WorkerProcess } from '../dev/worker-process';
import { runLevel, type LevelFigures } from './goals';
import { RssSampler } from './stats';

/** Apart from the dev default (20000) and the cluster tests (23000), so a bench can run while either is up. */
const PORT_OFFSET = '25000';

/** One configuration's figures. */
export interface ClusterRow extends LevelFigures {
  server: 'dev server (SQLite)' | 'Temporal 1.32.1 on PostgreSQL';
  store: 'folder' | 'S3 (versitygw)';
  workers: number;
}

/** Runs `goals` demo goals on `workers` fresh worker processes with `env`, then stops them. */
async function measure(
  env: Record<string, string>,
  workers: number,
  goals: number,
  label: string,
): Promise<LevelFigures> {
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
  const taskQueue = `bench-cluster-${label}-${Date.now()}`;
  const started: WorkerProcess[] = [];
  // The workers are other processes: the bench process's RSS says nothing about them, so it is not reported.
  const rss = new RssSampler();
  try {
    for (let i = 0; i < workers; i++) {
      const state = await fs.mkdtemp(path.join(os.tmpdir(), `tandem-bench-${label}-w${i}-`));
      started.push(
        await startWorkerProcess({
          ...env,
          TANDEM_TASK_QUEUE: taskQueue,
          TANDEM_STATE_DIR: state,
          TANDEM_WORKSPACE_ROOT: path.join(state, 'workspaces'),
        }),
      );
    }
    return await runLevel(client, { taskQueue, count: goals, rss });
  } finally {
    rss.stop();
    await Promise.all(started.map((worker) => worker.kill('SIGTERM')));
    await connection.close();
  }
}

/** The three configurations, one after another, with the same goals and model. */
export async function clusterFigures(opts: { goals: number; modelLatencyMs: number }): Promise<ClusterRow[]> {
  const model = await startScriptedModel({ latencyMs: opts.modelLatencyMs });
  scriptDemo(model);
  const rows: ClusterRow[] = [];
  try {
    const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-bench-dev-'));
    const dev = await startDevServer({
      port: 0,
      uiPort: 0,
      dbFile: path.join(stateDir, 'temporal.db'),
      headless: true,
    });
    try {
      // One store folder for the dev server's worker and the bench's client alike, as `tandem dev` has.
      const env = {
        OPENAI_BASE_URL: model.baseURL,
        TEMPORAL_ADDRESS: dev.address,
        TEMPORAL_NAMESPACE: 'default',
        TANDEM_STORE_URL: path.join(stateDir, 'store'),
      };
      const figures = await measure(env, 1, opts.goals, 'dev');
      rows.push({ server: 'dev server (SQLite)', store: 'folder', workers: 1, ...figures });
    } finally {
      await dev.stop();
    }
    const cluster = startLocalCluster(PORT_OFFSET);
    try {
      const env = {
        ...cluster.env,
        OPENAI_BASE_URL: model.baseURL,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      };
      for (const workers of [1, 3]) {
        const figures = await measure(env, workers, opts.goals, `pg${workers}`);
        rows.push({ server: 'Temporal 1.32.1 on PostgreSQL', store: 'S3 (versitygw)', workers, ...figures });
      }
    } finally {
      cluster.down();
    }
  } finally {
    await model.close();
  }
  return rows;
}
