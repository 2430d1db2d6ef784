/**
 * The connection target when only environment variables can set it, worked out without `@temporalio/envconfig`, and
 * the checks every target passes. Loading envconfig (its TOML parser and a part of `@temporalio/common`) took 7-11 ms
 * of CPU, on the path of `status` and `list` before their first request; with no config file and no variable but the
 * address and namespace, what it would return is those two variables, so it is not loaded (./connection-target.ts
 * loads it in every other case).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { UserError } from './errors';
import type { ConnectionTarget } from './connection-target';
import { parseHostPort } from './server-address';

export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';

/** Settings given on the command line; each wins over the profile and the TEMPORAL_* variables. */
export interface ConnectionOverrides {
  address?: string;
  namespace?: string;
  /** The envconfig profile to read (`--profile`); `TEMPORAL_PROFILE`, then `default`, when absent. */
  profile?: string;
}

/**
 * The TEMPORAL_* variables envconfig reads as the address and namespace, and those it does not read at all (tandem's
 * own). Any other one (TLS, API key, codec, gRPC metadata, config file, profile) needs envconfig.
 */
const PLAIN_VARIABLES: ReadonlySet<string> = new Set([
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_HTTP_ADDRESS',
  'TEMPORAL_CLI_PATH',
]);

/** Every place envconfig looks for its default config file, on any platform: a superset, so none is missed. */
function defaultConfigFiles(env: NodeJS.ProcessEnv): string[] {
  const dirs = [
    env.XDG_CONFIG_HOME,
    env.HOME && path.join(env.HOME, '.config'),
    env.HOME && path.join(env.HOME, 'Library', 'Application Support'),
    env.APPDATA,
  ];
  return dirs.flatMap((dir) => (dir ? [path.join(dir, 'temporalio', 'temporal.toml')] : []));
}

/**
 * The address and namespace from the environment alone, or undefined when envconfig must be asked: a profile is
 * named, a variable other than the address and namespace is set, or a config file exists where it would read one.
 */
function envOnlySettings(
  overrides: ConnectionOverrides,
  env: NodeJS.ProcessEnv = process.env,
): { address?: string; namespace?: string } | undefined {
  if (overrides.profile !== undefined) return undefined;
  if (Object.keys(env).some((name) => name.startsWith('TEMPORAL_') && !PLAIN_VARIABLES.has(name))) return undefined;
  if (defaultConfigFiles(env).some((file) => existsSync(file))) return undefined;
  return { address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE };
}

/**
 * The address and namespace to use, flags first, then `fromSettings` (the profile or the variables), then tandem's
 * defaults, after checking them.
 *
 * @throws UserError when one is empty or the address does not name its port.
 */
export function checkedTarget(
  overrides: ConnectionOverrides,
  fromSettings: { address?: string; namespace?: string },
): { address: string; namespace: string } {
  const address = overrides.address ?? fromSettings.address ?? DEFAULT_ADDRESS;
  const namespace = overrides.namespace ?? fromSettings.namespace ?? DEFAULT_NAMESPACE;
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
  return { address, namespace };
}

/**
 * What ./connection-target.ts `connectionTarget` returns, when the environment alone sets it (see
 * {@link envOnlySettings}); undefined when only envconfig can say.
 *
 * @throws UserError as `checkedTarget` does.
 */
export function envOnlyTarget(
  overrides: ConnectionOverrides,
  env: NodeJS.ProcessEnv = process.env,
): ConnectionTarget | undefined {
  const settings = envOnlySettings(overrides, env);
  if (!settings) return undefined;
  const { address, namespace } = checkedTarget(overrides, settings);
  return { connectionOptions: { address }, namespace };
}
