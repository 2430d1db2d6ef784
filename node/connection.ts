/**
 * How the worker and the CLI reach Temporal. Settings come from `@temporalio/envconfig` (a TOML profile and the
 * TEMPORAL_* env vars), so the same code runs against the local dev server, a self-hosted cluster or Temporal Cloud;
 * the CLI's global `--address`, `--namespace` and `--profile` flags override them.
 */
import type { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { loadConfig } from './config';
import { ConnectionSettingsError, TemporalUnreachableError, UserError } from './errors';
import { parseHostPort, probeTcp } from './server-address';

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
  if (!parseHostPort(address)) {
    const source = overrides.address !== undefined ? '--address' : 'TEMPORAL_ADDRESS (or the profile)';
    throw new UserError(
      `${source} "${address}" is not host:port: name the port too, e.g. ${address.replace(/:\d*$/, '')}:7233 ` +
        "(the dev server's default)",
    );
  }
  return {
    connectionOptions: { ...config.connectionOptions, address },
    namespace,
    taskQueue: loadConfig().taskQueue,
  };
}

/** How long the TCP probe before connecting may take: a refused port answers in microseconds, a remote host in ms. */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * A client connected with {@link temporalSettings}; fails fast with an actionable message when nothing answers.
 *
 * @throws TemporalUnreachableError within {@link PROBE_TIMEOUT_MS} when the port is closed or the host unknown, and
 *   at the 5 s connect deadline when something answers TCP but not gRPC.
 */
export async function connectClient(settings: TemporalSettings = temporalSettings()): Promise<Client> {
  const { address, proxy } = settings.connectionOptions;
  const target = parseHostPort(address);
  // Through a proxy the address is the proxy's to resolve: a local probe would test the wrong network.
  if (target && !proxy) {
    const probe = await probeTcp(target, PROBE_TIMEOUT_MS);
    if (probe.kind === 'closed') throw new TemporalUnreachableError(address, new Error(`TCP ${probe.code}`));
  }
  // Loaded after the probe: the SDK is most of a verb's start-up time, and an absent server needs none of it.
  const sdk = await import('@temporalio/client');
  let connection: Connection;
  try {
    connection = await sdk.Connection.connect({ ...settings.connectionOptions, connectTimeout: '5 seconds' });
  } catch (err) {
    throw new TemporalUnreachableError(settings.connectionOptions.address, err);
  }
  return new sdk.Client({ connection, namespace: settings.namespace });
}
