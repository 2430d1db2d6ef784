/**
 * `tandem dev` and `tandem demo`: the embedded default. The local dev server (file-backed, with its Web UI) and a
 * worker in this process; with no OPENAI_BASE_URL, the scripted demo model too; for the demo, one goal run end to end.
 */
import { DEMO_EXPRESSION, type DemoPace, startDemoModel } from '../dev/demo-model';
import {
  type DevServer,
  type DevServerOptions,
  freePort,
  isListening,
  ownServerPorts,
  PortTakenError,
  startDevServer,
} from '../dev/dev-server';
import { SCRIPTED_MODEL_NAME, type ScriptedModel } from '../dev/scripted-model';
import { loadConfig, type TandemConfig } from '../node/config';
import { HTTP_PORT_OFFSET } from '../node/http-api';
import { connectClient, temporalSettings, type TemporalSettings } from '../node/connection';
import { UserError } from '../node/errors';
import { workspaceDir } from '../node/workspace';
import { createTandemWorker, installLogger } from '../worker/worker';
import { formatOutcome } from './format';
import { goalOutcome, startGoal } from './goals';

/** The port a CLI in another terminal connects to when nothing says otherwise (envconfig's default). */
const DEFAULT_PORT = 7233;

/**
 * How long the scripted model takes over s1's answer under `tandem dev`: long enough to run `status`, `watch` and
 * `replan` by hand while the goal is still running (the README walkthrough does exactly that).
 */
export const DEV_FIRST_SUBTASK_DELAY_MS = 15_000;

/** Where `dev` and `demo` run their server; flags first, then TANDEM_DEV_PORT / TANDEM_UI_PORT. */
export interface EmbeddedOptions {
  port?: number;
  uiPort?: number;
  /** The global `--namespace`: created on the dev server if it is new. */
  namespace?: string;
}

interface Embedded {
  server: DevServer;
  settings: TemporalSettings;
  stop(): Promise<void>;
}

/** The dev server refused to start: one line with its reason and its last words, not a stack. */
function devServerFailure(err: unknown, port: number): UserError {
  const [reason, ...rest] = (err instanceof Error ? err.message : String(err)).split('\n').filter(Boolean);
  const last = rest.at(-1);
  return new UserError(
    `the Temporal dev server did not start on port ${port}: ${reason}${last && last !== reason ? ` (server said: ${last.trim()})` : ''}`,
  );
}

/**
 * Starts tandem's own dev server, or reuses one tandem started from this state folder, never a stranger's: a worker
 * on another Temporal server's `tandem` queue would run its goals, and its goals ours. When the port was chosen
 * (`--port`, `TANDEM_DEV_PORT`) and a stranger holds it, that is refused with the flag to use; when it is the
 * default, a running server of ours elsewhere is reused, or free ports are picked, and the log says so.
 */
async function ownDevServer(
  log: (line: string) => void,
  config: TandemConfig,
  opts: EmbeddedOptions,
): Promise<DevServer> {
  const port = opts.port ?? config.devPort;
  const uiPort = opts.uiPort ?? config.uiPort;
  const start = async (server: Pick<DevServerOptions, 'port' | 'uiPort'>) => {
    try {
      return await startDevServer({ ...server, namespace: opts.namespace, reuse: 'own' });
    } catch (err) {
      if (err instanceof PortTakenError) throw err;
      throw devServerFailure(err, server.port!);
    }
  };
  const refusal = (err: PortTakenError) =>
    new UserError(
      `${err.message}: tandem will not add a worker to its task queue; choose a free port with --port N ` +
        '(or TANDEM_DEV_PORT), or stop what listens there',
    );
  try {
    return await start({ port, uiPort });
  } catch (err) {
    if (!(err instanceof PortTakenError)) throw err;
    if (opts.port !== undefined || process.env.TANDEM_DEV_PORT) throw refusal(err);
    const ours = ownServerPorts(config.stateDir)[0];
    const moved = ours ?? (await freePort());
    const movedUi = opts.uiPort === undefined && (await isListening('127.0.0.1', uiPort)) ? await freePort() : uiPort;
    log(`${err.message}; using ${ours ? 'our server on ' : ''}port ${moved} instead (--port N to choose one)`);
    // Taken again between the pick and the start (another process was quicker): refused, never attached.
    return start({ port: moved, uiPort: movedUi }).catch((again: unknown) => {
      throw again instanceof PortTakenError ? refusal(again) : again;
    });
  }
}

/** Starts (or reuses) the dev server and runs a worker against it until stop(). */
async function startEmbedded(
  log: (line: string) => void,
  config: TandemConfig,
  opts: EmbeddedOptions,
): Promise<Embedded> {
  const server = await ownDevServer(log, config, opts);
  const port = Number(server.address.split(':').at(-1));
  log(`Temporal dev server ${server.reused ? 'already running' : 'started'} at ${server.address}`);
  if (server.uiUrl) log(`Web UI: ${server.uiUrl}`);
  if (port !== DEFAULT_PORT)
    log(`in another terminal, point tandem at it with: export TEMPORAL_ADDRESS=${server.address}`);
  // Next to the gRPC port the CLI finds it unasked; elsewhere (that port was taken) only this line can tell another
  // terminal where it is (docs/cli.md, "Speed").
  const [host] = server.address.split(':');
  if (server.httpAddress && server.httpAddress !== `${host}:${port + HTTP_PORT_OFFSET}`) {
    log(`status and list answer faster over its HTTP API: export TEMPORAL_HTTP_ADDRESS=${server.httpAddress}`);
  }
  // The worker talks to this server whatever TEMPORAL_ADDRESS says: that is what `dev` is for.
  const settings: TemporalSettings = {
    ...temporalSettings({ address: server.address, namespace: opts.namespace }),
    taskQueue: config.taskQueue,
  };
  installLogger(config.logLevel);
  const { worker, connection, mcp, tracing, startStreamRetention } = await createTandemWorker({ settings, config });
  const running = worker.run();
  const retention = startStreamRetention();
  return {
    server,
    settings,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      retention.stop();
      await mcp.close();
      await tracing?.shutdown();
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

/** With no OPENAI_BASE_URL, starts the scripted demo model and points `config` at it; returns its closer. */
async function modelFor(config: TandemConfig, pace: DemoPace): Promise<ScriptedModel | null> {
  if (config.model.baseURL) return null;
  const model = await startDemoModel(pace);
  config.model.baseURL = model.baseURL;
  // Asked for by its own name, so that the demo's calls are priced at the $0 of prices.json rather than as the
  // default TANDEM_MODEL (a paid model the demo never calls), and status and traces name what answered.
  config.model.model = SCRIPTED_MODEL_NAME;
  for (const role of Object.values(config.model.roles)) if (!role.baseURL) delete role.model;
  return model;
}

/** `tandem dev`: server, worker and (without a model endpoint) the scripted demo model, until Ctrl-C. */
export async function runDev(opts: EmbeddedOptions = {}, log: (line: string) => void = console.log): Promise<void> {
  const config = loadConfig();
  const model = await modelFor(config, { firstSubtaskDelayMs: DEV_FIRST_SUBTASK_DELAY_MS });
  try {
    const embedded = await startEmbedded(log, config, opts);
    if (model) {
      log(
        'No OPENAI_BASE_URL set: the worker uses the scripted demo model. Whatever the goal, it plans the demo ' +
          `(s1 computes ${DEMO_EXPRESSION}, s2 saves it to answer.txt), and s1 streams its answer over ` +
          `${DEV_FIRST_SUBTASK_DELAY_MS / 1000} s so there is time to watch it (tandem watch ID shows the tokens). Set OPENAI_BASE_URL, OPENAI_API_KEY ` +
          'and TANDEM_MODEL for a real model.',
      );
    }
    log(`worker running; start a goal in another terminal with: tandem start "<goal>". Ctrl-C stops everything.`);
    await untilInterrupted();
    await embedded.stop();
  } finally {
    await model?.close();
  }
}

/**
 * `tandem demo`: `dev` plus one goal run end to end; resolves with the goal's outcome so the CLI can exit 2 when it
 * was not ok.
 */
export async function runDemo(
  opts: EmbeddedOptions & { goal: string; exit?: boolean },
  log: (line: string) => void = console.log,
): Promise<{ ok: boolean }> {
  const config = loadConfig();
  const model = await modelFor(config, {});
  if (model) {
    log('No OPENAI_BASE_URL set: using the scripted demo model (canned replies, real loops and tools).');
    log('Set OPENAI_BASE_URL, OPENAI_API_KEY and TANDEM_MODEL to run the demo on a real model.');
  }
  try {
    const embedded = await startEmbedded(log, config, opts);
    try {
      const client = await connectClient(embedded.settings);
      const handle = await startGoal(client, { goal: opts.goal, taskQueue: embedded.settings.taskQueue });
      const id = handle.workflowId;
      log(`goal ${id} started: ${opts.goal}`);
      if (embedded.server.uiUrl) {
        log(`watch it: ${embedded.server.uiUrl}/namespaces/${embedded.settings.namespace}/workflows/${id}`);
      }
      const outcome = await goalOutcome(client, id);
      log(formatOutcome(id, outcome, workspaceDir(config.workspaceRoot, id)));
      await client.connection.close();
      if (!opts.exit && process.stdout.isTTY) {
        log('The Web UI stays up to browse the histories; Ctrl-C to stop.');
        await untilInterrupted();
      }
      return { ok: outcome.ok };
    } finally {
      await embedded.stop();
    }
  } finally {
    await model?.close();
  }
}
