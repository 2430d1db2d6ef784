/**
 * How the worker and the CLI reach Temporal. Settings come from `@temporalio/envconfig` (a TOML profile and the
 * TEMPORAL_* env vars), so the same code runs against the local dev server, a self-hosted cluster or Temporal Cloud.
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { loadConfig } from './config';
import { TemporalUnreachableError } from './errors';

export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';

export interface TemporalSettings {
  connectionOptions: NativeConnectionOptions & { address: string };
  namespace: string;
  taskQueue: string;
}

/** Resolved connection settings: envconfig profile and env, then tandem's defaults; `TANDEM_TASK_QUEUE` for the queue. */
export function temporalSettings(): TemporalSettings {
  const config = loadClientConnectConfig({ profile: process.env.TEMPORAL_PROFILE || undefined });
  return {
    connectionOptions: { ...config.connectionOptions, address: config.connectionOptions.address ?? DEFAULT_ADDRESS },
    namespace: config.namespace ?? DEFAULT_NAMESPACE,
    taskQueue: loadConfig().taskQueue,
  };
}

/** A client connected with {@link temporalSettings}; fails fast with an actionable message when nothing answers. */
export async function connectClient(settings: TemporalSettings = temporalSettings()): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...settings.connectionOptions, connectTimeout: '5 seconds' });
  } catch (err) {
    throw new TemporalUnreachableError(settings.connectionOptions.address, err);
  }
  return new Client({ connection, namespace: settings.namespace });
}
