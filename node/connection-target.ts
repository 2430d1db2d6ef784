/**
 * Which Temporal server and namespace the CLI and the worker talk to. Settings come from `@temporalio/envconfig` (a
 * TOML profile and the TEMPORAL_* env vars), so the same code runs against the local dev server, a self-hosted
 * cluster or Temporal Cloud; the CLI's global `--address`, `--namespace` and `--profile` flags override them. Apart
 * from ./connection.ts so that the CLI's read verbs over the HTTP API (./http-api.ts) load neither the SDK nor the
 * worker's configuration.
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { ConnectionSettingsError } from './errors';
import { checkedTarget, type ConnectionOverrides } from './target-check';

export { DEFAULT_ADDRESS, DEFAULT_NAMESPACE, type ConnectionOverrides } from './target-check';

/** Where Temporal is and how to connect to it (TLS, API key, proxy): what every verb needs before it talks to it. */
export interface ConnectionTarget {
  connectionOptions: NativeConnectionOptions & { address: string };
  namespace: string;
}

/**
 * The server and namespace to use: flags, then the TEMPORAL_* variables, then the envconfig profile, then tandem's
 * defaults.
 *
 * @throws ConnectionSettingsError when the profile named is missing or the config file cannot be read.
 */
export function connectionTarget(overrides: ConnectionOverrides = {}): ConnectionTarget {
  const profile = overrides.profile ?? (process.env.TEMPORAL_PROFILE || undefined);
  let config: ReturnType<typeof loadClientConnectConfig>;
  try {
    config = loadClientConnectConfig({ profile });
  } catch (err) {
    throw new ConnectionSettingsError(profile, err);
  }
  const { address, namespace } = checkedTarget(overrides, {
    address: config.connectionOptions.address,
    namespace: config.namespace,
  });
  return { connectionOptions: { ...config.connectionOptions, address }, namespace };
}
