/**
 * Which Temporal server and namespace the CLI and the worker talk to. Settings come from `@temporalio/envconfig` (a
 * TOML profile and the TEMPORAL_* env vars), so the same code runs against the local dev server, a self-hosted
 * cluster or Temporal Cloud; the CLI's global `--address`, `--namespace` and `--profile` flags override them. Apart
 * from ./connection.ts so that the CLI's read verbs over the HTTP API (./http-api.ts) load neither the SDK nor the
 * worker's configuration.
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { ConnectionSettingsError, UserError } from './errors';
import { parseHostPort } from './server-address';

export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';

/** Where Temporal is and how to connect to it (TLS, API key, proxy): what every verb needs before it talks to it. */
export interface ConnectionTarget {
  connectionOptions: NativeConnectionOptions & { address: string };
  namespace: string;
}

/** Settings given on the command line; each wins over the profile and the TEMPORAL_* variables. */
export interface ConnectionOverrides {
  address?: string;
  namespace?: string;
  /** The envconfig profile to read (`--profile`); `TEMPORAL_PROFILE`, then `default`, when absent. */
  profile?: string;
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
  return { connectionOptions: { ...config.connectionOptions, address }, namespace };
}
