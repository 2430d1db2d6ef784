/**
 * Where tandem keeps what it stores by reference, from one setting: `TANDEM_STORE_URL` is a folder (a path or a
 * `file://` URL) or `s3://bucket/prefix` on any S3-compatible server. The S3 endpoint, region and credentials are the
 * AWS SDK's own variables (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`): tandem reads the endpoint only to name it in errors and leaves the rest to the SDK's
 * default provider chain, so profiles, web identity and instance roles work as they do for any AWS tool.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, UserError } from './errors';

/** A store location: a folder on this machine, or a bucket and key prefix on an S3-compatible server. */
export type StoreLocation =
  | { kind: 'folder'; dir: string }
  | {
      kind: 's3';
      bucket: string;
      /** Key prefix, empty or ending in `/`: every object tandem writes is under it. */
      prefix: string;
      /** `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`; undefined means AWS itself. */
      endpoint: string | undefined;
      /** `AWS_REGION` (or `AWS_DEFAULT_REGION`); S3-compatible servers ignore it, the SDK needs one. */
      region: string;
    };

type Env = Record<string, string | undefined>;

/** S3 bucket names: 3-63 characters of lower-case letters, digits, dots and hyphens (AWS's rules, abridged). */
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function set(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function s3Location(env: Env, url: string): StoreLocation {
  const match = /^s3:\/\/([^/]*)\/?(.*)$/.exec(url);
  const bucket = match?.[1] ?? '';
  if (!BUCKET_PATTERN.test(bucket)) {
    throw new ConfigError(
      'TANDEM_STORE_URL',
      url,
      's3://BUCKET/PREFIX with a bucket name of 3-63 a-z, 0-9, "." or "-"',
    );
  }
  const rawPrefix = (match?.[2] ?? '').replace(/\/+$/, '');
  if (rawPrefix.split('/').some((part) => part === '.' || part === '..') || rawPrefix.includes('//')) {
    throw new ConfigError('TANDEM_STORE_URL', url, 'an s3:// URL whose prefix has no empty, "." or ".." parts');
  }
  return {
    kind: 's3',
    bucket,
    prefix: rawPrefix === '' ? '' : `${rawPrefix}/`,
    endpoint: set(env, 'AWS_ENDPOINT_URL_S3') ?? set(env, 'AWS_ENDPOINT_URL'),
    region: set(env, 'AWS_REGION') ?? set(env, 'AWS_DEFAULT_REGION') ?? 'us-east-1',
  };
}

/**
 * The store location of `env`: `TANDEM_STORE_URL`, else the older `TANDEM_STORE_DIR` (a folder), else
 * `<stateDir>/store`. Both set is refused unless they name the same folder: one of them would be silently ignored.
 * Throws a {@link ConfigError} for a scheme other than a path, `file:` or `s3:`.
 */
export function storeLocation(env: Env, stateDir: string): StoreLocation {
  const url = set(env, 'TANDEM_STORE_URL');
  const dir = set(env, 'TANDEM_STORE_DIR');
  if (url === undefined) return { kind: 'folder', dir: path.resolve(dir ?? path.join(stateDir, 'store')) };
  let location: StoreLocation;
  if (url.startsWith('s3://')) location = s3Location(env, url);
  else if (url.startsWith('file://')) location = { kind: 'folder', dir: path.resolve(fileURLToPath(url)) };
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ConfigError('TANDEM_STORE_URL', url, 'a folder, a file:// URL or s3://BUCKET/PREFIX');
  } else location = { kind: 'folder', dir: path.resolve(url) };
  if (dir !== undefined && !(location.kind === 'folder' && location.dir === path.resolve(dir))) {
    throw new UserError(
      `TANDEM_STORE_URL=${JSON.stringify(url)} and TANDEM_STORE_DIR=${JSON.stringify(dir)} name different stores: ` +
        'unset TANDEM_STORE_DIR (TANDEM_STORE_URL replaces it)',
    );
  }
  return location;
}

/** The location as a person would name it in a message: the folder, or `s3://bucket/prefix at <endpoint>`. */
export function describeStore(location: StoreLocation): string {
  if (location.kind === 'folder') return location.dir;
  return `s3://${location.bucket}/${location.prefix} at ${location.endpoint ?? `AWS (${location.region})`}`;
}
