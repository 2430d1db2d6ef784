/**
 * The tandem worker: the workflows and activities on one task queue. Tests, `tandem worker` and `tandem dev` all build
 * it here, so they run the same registration.
 */
import {
  DefaultLogger,
  type InjectedSinks,
  type LogLevel,
  NativeConnection,
  Runtime,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import { createActivities } from '../activities';
import { contentStore } from '../activities/content-store';
import { McpPool } from '../activities/mcp/pool';
import { loadTracing, type Tracing } from '../activities/tracing';
import type { TraceSinks } from '../common/tracing';
import { loadConfig, type TandemConfig } from '../node/config';
import { temporalSettings, type TemporalSettings } from '../node/connection';
import { TemporalUnreachableError } from '../node/errors';
import { openObjectStore } from '../node/object-store';
import { goalRunLookup, startStreamRetention } from './stream-retention';

/** The bundler's entry point: workflow code is bundled from here into the deterministic sandbox. */
export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * Sets the SDK's log level for this process (`TANDEM_LOG_LEVEL`, default WARN): the worker logs every state change at
 * INFO, which drowns a CLI's output. Must run before the first worker or connection is created.
 */
export function installLogger(level: LogLevel = loadConfig().logLevel): void {
  Runtime.install({ logger: new DefaultLogger(level) });
}

export interface TandemWorkerOptions {
  settings?: TemporalSettings;
  /** The activities' settings; {@link loadConfig} (the environment) when absent. */
  config?: TandemConfig;
  /** A pre-built bundle (tests build one per run); bundled from {@link WORKFLOWS_PATH} when absent. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra worker options, e.g. `shutdownGraceTime` or concurrency limits. */
  options?: Partial<WorkerOptions>;
}

export interface TandemWorker {
  worker: Worker;
  connection: NativeConnection;
  settings: TemporalSettings;
  /** The worker's MCP connections; close it after the worker stops, so no stdio server outlives it. */
  mcp: McpPool;
  /** The trace exporter when tracing is on; shut it down after the worker stops, so the last spans are sent. */
  tracing?: Tracing;
  /**
   * Starts removing expired live event streams (worker/stream-retention.ts), hourly until the returned `stop()`.
   * Not started by {@link createTandemWorker}: tests build many workers and sweep when they choose.
   */
  startStreamRetention(): { stop(): void };
}

/**
 * The trace sink (common/tracing.ts), injected even when tracing is off so workflow calls to it find a handler.
 * `callDuringReplay: false` (the SDK's default, spelt out because replay safety rests on it): a worker that replays a
 * goal's history after a restart or an eviction does not export its spans a second time.
 */
function traceSinks(tracing: Tracing | undefined): InjectedSinks<TraceSinks> {
  return {
    tracing: {
      goalEnded: { fn: (info, ended) => tracing?.goalEnded(info, ended), callDuringReplay: false },
      subtaskEnded: { fn: (info, ended) => tracing?.subtaskEnded(info, ended), callDuringReplay: false },
    },
  };
}

/**
 * Options of a worker that only replays histories (`Worker.runReplayHistories`, the replay tests): tandem's bundle at
 * `codePath`, and the trace sink the workflows call, which exports nothing in a replay.
 */
export function replayWorkerOptions(
  codePath: string,
): { workflowBundle: { codePath: string } } & Pick<WorkerOptions, 'sinks'> {
  return { workflowBundle: { codePath }, sinks: traceSinks(undefined) };
}

export async function createTandemWorker(opts: TandemWorkerOptions = {}): Promise<TandemWorker> {
  const settings = opts.settings ?? temporalSettings();
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(settings.connectionOptions);
  } catch (err) {
    throw new TemporalUnreachableError(settings.connectionOptions.address, err);
  }
  const config = opts.config ?? loadConfig();
  const mcp = new McpPool(() => config.mcp);
  const tracing = await loadTracing(config.tracing);
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    activities: createActivities(config, contentStore(config.store), mcp, tracing),
    sinks: traceSinks(tracing),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    ...opts.options,
  });
  const startRetention = () =>
    startStreamRetention(
      openObjectStore(config.store),
      goalRunLookup(connection.workflowService, settings.namespace),
      config.streamRetentionMs,
    );
  return { worker, connection, settings, mcp, ...(tracing ? { tracing } : {}), startStreamRetention: startRetention };
}

/**
 * Runs a worker until SIGINT or SIGTERM (the SDK's default shutdown signals): in-flight activities get the grace
 * time to finish, then the connection closes. `settings` default to the environment's (the CLI passes its flags').
 */
export async function runWorker(
  log: (line: string) => void = console.log,
  settings: TemporalSettings = temporalSettings(),
): Promise<void> {
  const { worker, connection, mcp, tracing, startStreamRetention } = await createTandemWorker({
    settings,
    options: { shutdownGraceTime: '10 seconds' },
  });
  const retention = startStreamRetention();
  log(
    `tandem worker: task queue "${settings.taskQueue}" on ${settings.connectionOptions.address} ` +
      `(namespace ${settings.namespace}); Ctrl-C to stop`,
  );
  try {
    await worker.run();
  } finally {
    retention.stop();
    await mcp.close();
    await tracing?.shutdown();
    await connection.close();
  }
}
