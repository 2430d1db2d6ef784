/**
 * How the worker and the CLI reach Temporal. Settings come from `@temporalio/envconfig` (a TOML profile and the
 * TEMPORAL_* env vars), so the same code runs against the local dev server, a self-hosted cluster or Temporal Cloud;
 * the CLI's global `--address`, `--namespace` and `--profile` flags override them.
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { loadConfig } from './config';
import { ConnectionSettingsError, TemporalUnreachableError, UserError } from './errors';

export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';

export interface TemporalSettings {
  connectionOptions: NativeConnectionOptions & { address: string };
  namespace: string;
  taskQueue: string;
}

/** Settings given on the command line; each wins over the profile and the TEMPORAL_* variables. */
export interface ConnectionOverrides {
  address?: string;
  namespace?: string;
  /** The envconfig profile to read (`--profile`); `TEMPORAL_PROFILE`, then `default`, when absent. */
  profile?: string;
}

/**
 * Resolved connection settings: flags, then the TEMPORAL_* variables, then the envconfig profile, then tandem's
 * defaults; `TANDEM_TASK_QUEUE` for the queue.
 *
 * @throws ConnectionSettingsError when the profile named is missing or the config file cannot be read.
 */
export function temporalSettings(overrides: ConnectionOverrides = {}): TemporalSettings {
  const profile = overrides.profile ?? (process.env.TEMPORAL_PROFILE || undefined);
  let config: ReturnType<typeof loadClientConnectConfig>;
  try {
    config = loadClientConnectConfig({ profile });
  } catch (err) {
    throw new ConnectionSettingsError(profile, err);
  }
  const address = overrides.address ?? config.connectionOptions.address ?? DEFAULT_ADDRESS;
  const namespace = overrides.namespace ?? config.namespace ?? DEFAULT_NAMESPACE;
  // `--namespace "$NS"` with NS unset: falling back to "default" could steer a goal of another namespace, and the
  // server's own refusal of "" surfaces as a stack trace, so an empty value is a usage error.
  for (const [flag, value] of [
    ['--address (or TEMPORAL_ADDRESS)', address],
    ['--namespace (or TEMPORAL_NAMESPACE)', namespace],
  ]) {
    if (value.trim() === '') throw new UserError(`${flag} is empty: give a value, or leave it out to use the default`);
  }
  return {
    connectionOptions: { ...config.connectionOptions, address },
    namespace,
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
