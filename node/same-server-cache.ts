/**
 * The pairs of addresses the CLI found to be one server (a gRPC address and an HTTP API with the same cluster id,
 * node/server-identity.ts), remembered for an hour in `$XDG_CACHE_HOME/tandem/same-server.json` (`~/.cache` when
 * unset), so that a later `status` or `list` needs only the HTTP API's cluster id, not the gRPC call that costs
 * `node:http2`'s loading and a connection (about 25 ms of a 250 ms verb on a loaded 2-core machine).
 *
 * Why an hour is safe: the pair can only stop being one server if the gRPC address changes hands while the HTTP API
 * keeps answering with the remembered id, and a server process (the dev server, a cluster's frontend) serves both, so
 * when its gRPC port changes hands its HTTP API is gone too; the hour bounds the setups where two processes serve the
 * two addresses. The file is a cache: unreadable, corrupt or unwritable, it is as if empty.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const TTL_MS = 60 * 60 * 1000;
/** Enough for every server a user points at in an hour; the oldest go first. */
const MAX_ENTRIES = 32;

interface Entry {
  grpc: string;
  http: string;
  clusterId: string;
  /** When the pair was checked, ms since the epoch. */
  checkedAt: number;
}

function cacheFile(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tandem', 'same-server.json');
}

function entries(env: NodeJS.ProcessEnv): Entry[] {
  try {
    const parsed: unknown = JSON.parse(readFileSync(cacheFile(env), 'utf8'));
    return Array.isArray(parsed) ? (parsed as Entry[]) : [];
  } catch {
    return [];
  }
}

/** The cluster id `grpc` and `http` were found to share within the last hour, if they were. */
export function rememberedClusterId(
  grpc: string,
  http: string,
  env: NodeJS.ProcessEnv = process.env,
  now = Date.now(),
): string | undefined {
  const entry = entries(env).find((candidate) => candidate.grpc === grpc && candidate.http === http);
  return entry && now - entry.checkedAt >= 0 && now - entry.checkedAt < TTL_MS ? entry.clusterId : undefined;
}

/** Remembers that `grpc` and `http` answered with `clusterId` (written whole, then renamed: readers see old or new). */
export function rememberSameServer(
  grpc: string,
  http: string,
  clusterId: string,
  env: NodeJS.ProcessEnv = process.env,
  now = Date.now(),
): void {
  const file = cacheFile(env);
  const kept = entries(env)
    .filter((entry) => !(entry.grpc === grpc && entry.http === http) && now - entry.checkedAt < TTL_MS)
    .slice(-(MAX_ENTRIES - 1));
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}`;
    writeFileSync(temporary, JSON.stringify([...kept, { grpc, http, clusterId, checkedAt: now }]));
    renameSync(temporary, file);
  } catch {
    // A cache that cannot be written costs the next verb one gRPC call, nothing else.
  }
}
