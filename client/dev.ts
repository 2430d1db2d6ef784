/**
 * `tandem dev` and `tandem demo`: the embedded default. The local dev server (file-backed, with its Web UI) and a
 * worker in this process, plus, for the demo, one goal run end to end.
 */
import { createTandemWorker } from '../worker/worker';
import { loadConfig, type TandemConfig } from '../node/config';
import { connectClient, temporalSettings } from '../node/connection';
import { startDemoModel } from '../dev/demo-model';
import { startDevServer, type DevServer } from '../dev/dev-server';
import { formatResult } from './format';
import { goalResult, startGoal } from './goals';

interface Embedded {
  server: DevServer;
  stop(): Promise<void>;
}

/** Starts (or reuses) the dev server and runs a worker against it until stop(). */
async function startEmbedded(log: (line: string) => void, config: TandemConfig): Promise<Embedded> {
  const server = await startDevServer();
  process.env.TEMPORAL_ADDRESS ??= server.address;
  log(`Temporal dev server ${server.reused ? 'already running' : 'started'} at ${server.address}`);
  if (server.uiUrl) log(`Web UI: ${server.uiUrl}`);
  const { worker, connection, mcp } = await createTandemWorker({ config });
  const running = worker.run();
  return {
    server,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await mcp.close();
      await connection.close();
      await server.stop();
    },
  };
}

function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export async function runDev(log: (line: string) => void = console.log): Promise<void> {
  const embedded = await startEmbedded(log, loadConfig());
  log('worker running; start a goal in another terminal with: tandem start "<goal>". Ctrl-C stops both.');
  await untilInterrupted();
  await embedded.stop();
}

export async function runDemo(
  opts: { goal: string; exit?: boolean },
  log: (line: string) => void = console.log,
): Promise<void> {
  let closeModel = async () => {};
  const config = loadConfig();
  if (!config.model.baseURL) {
    const model = await startDemoModel();
    config.model.baseURL = model.baseURL;
    closeModel = () => model.close();
    log('No OPENAI_BASE_URL set: using the scripted demo model (canned replies, real loops and tools).');
    log('Set OPENAI_BASE_URL, OPENAI_API_KEY and TANDEM_MODEL to run the demo on a real model.');
  }
  const embedded = await startEmbedded(log, config);
  try {
    const settings = temporalSettings();
    const client = await connectClient(settings);
    const handle = await startGoal(client, { goal: opts.goal, taskQueue: settings.taskQueue });
    log(`goal ${handle.workflowId} started: ${opts.goal}`);
    if (embedded.server.uiUrl)
      log(`watch it: ${embedded.server.uiUrl}/namespaces/${settings.namespace}/workflows/${handle.workflowId}`);
    log(formatResult(handle.workflowId, await goalResult(client, handle.workflowId)));
    await client.connection.close();
    if (!opts.exit && process.stdout.isTTY) {
      log('The Web UI stays up to browse the histories; Ctrl-C to stop.');
      await untilInterrupted();
    }
  } finally {
    await embedded.stop();
    await closeModel();
  }
}
