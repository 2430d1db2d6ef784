/**
 * How the worker and the CLI connect to Temporal over gRPC, with the settings of ./connection-target.ts (which server,
 * which namespace) and the task queue of tandem's configuration.
 */
import type { Client, Connection } from '@temporalio/client';
import { loadConfig } from './config';
import { type ConnectionOverrides, connectionTarget, type ConnectionTarget } from './connection-target';
import { TemporalUnreachableError } from './errors';
import { parseHostPort, probeTcp } from './server-address';

/** Where and how to reach Temporal, and the task queue tandem's workers poll. */
export interface TemporalSettings extends ConnectionTarget {
  taskQueue: string;
}

/**
 * Resolved connection settings: flags, then the TEMPORAL_* variables, then the envconfig profile, then tandem's
 * defaults; `TANDEM_TASK_QUEUE` for the queue.
 *
 * @throws ConnectionSettingsError when the profile named is missing or the config file cannot be read.
 */
export function temporalSettings(overrides: ConnectionOverrides = {}): TemporalSettings {
  return { ...connectionTarget(overrides), taskQueue: loadConfig().taskQueue };
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
