/**
 * What the command modules share: argument parsers, JSON output, the global connection flags and `withClient`. Light
 * on purpose: command modules load the Temporal client only inside an action, so `--help` and `--version` never do.
 */
import type { Client } from '@temporalio/client';
import type { WorkflowReader } from '../workflow-reader';
import { InvalidArgumentError } from 'commander';
import type { TemporalSettings } from '../../node/connection';
import type { ConnectionOverrides, ConnectionTarget } from '../../node/connection-target';
import type { HttpApi } from '../../node/http-api';
import type { HostPort } from '../../node/server-address';
import { grpcStatusOf, NotFoundError, TemporalUnreachableError, UserError } from '../../node/errors';
import { parsePositiveInt } from '../../node/numbers';

/** Exit code of `start --wait`, `result` and `watch` when the goal ended without an ok result. */
export const EXIT_GOAL_NOT_OK = 2;

/** commander parser for `--max-steps N` and friends. */
export function positiveInt(value: string): number {
  const parsed = parsePositiveInt(value);
  if (parsed === undefined) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

/** commander parser for a dollar amount (`--max-cost 0.50`): a positive decimal number, no currency sign. */
export function positiveUsd(value: string): number {
  const parsed = /^\d+(\.\d+)?$|^\.\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!(parsed > 0)) throw new InvalidArgumentError('expected a positive amount of US dollars, e.g. 0.50');
  return parsed;
}

/**
 * commander parser for every id a verb takes (goal, executor, call, subtask, schedule, output ref). An empty one
 * (`tandem status "$ID"` with ID unset) would otherwise reach the SDK, whose "Missing workflowId" is a stack trace.
 */
export function nonEmptyId(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected an id, got an empty or blank string');
  return value;
}

/** C0 and C1 control characters and DEL (Unicode's Cc category). */
function isControlCharacter(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/**
 * commander parser for the `--id` of a goal or schedule being created: not empty, and nothing that every later verb
 * would trip on: a leading "-" (read as a flag: `tandem status -x`, unknown option), a control character (a newline
 * splits `list`'s one line per goal, and a terminal may act on escapes), or spaces at either end (`tandem status sp`
 * finds no goal " sp ").
 */
export function newId(value: string): string {
  if (nonEmptyId(value).startsWith('-')) {
    throw new InvalidArgumentError(
      'expected an id that does not start with "-", which other verbs would take for a flag',
    );
  }
  if ([...value].some(isControlCharacter)) {
    throw new InvalidArgumentError(
      `expected an id without control characters (newlines, tabs, escapes): ${JSON.stringify(value)} has one`,
    );
  }
  if (value.trim() !== value) {
    throw new InvalidArgumentError(
      `expected an id without spaces at its start or end: ${JSON.stringify(value.trim())}`,
    );
  }
  return value;
}

/** commander parser for `--port N`. */
export function tcpPort(value: string): number {
  const parsed = parsePositiveInt(value, 65_535);
  if (parsed === undefined) throw new InvalidArgumentError('expected a TCP port (1-65535)');
  return parsed;
}

/** `--json` output: pretty-printed, one object per command, so `jq` and `JSON.parse` read it whole. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

let overrides: ConnectionOverrides = {};

/** Records the global `--address`, `--namespace` and `--profile` before a verb runs (cli.ts's preAction hook). */
export function setConnectionOverrides(next: ConnectionOverrides): void {
  overrides = next;
}

/** The global connection flags given on the command line. */
export function connectionOverrides(): ConnectionOverrides {
  return overrides;
}

/** gRPC status codes that mean "the server is not reachable (any more)" or "it does not accept these credentials". */
const UNAVAILABLE = 14;
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;

/** Turns an SDK error that is about the connection into a user error that names the address. */
function connectionError(err: unknown, settings: ConnectionTarget): unknown {
  const { address } = settings.connectionOptions;
  const code = grpcStatusOf(err)?.code;
  if (code === UNAVAILABLE) return new TemporalUnreachableError(address, err);
  if (code === PERMISSION_DENIED || code === UNAUTHENTICATED) {
    return new UserError(
      `Temporal at ${address} refused the request (${grpcStatusOf(err)?.details}): check TEMPORAL_API_KEY, the TLS ` +
        'settings and the namespace (--profile, --namespace)',
    );
  }
  if (err instanceof NotFoundError) {
    err.message += ` [asked Temporal at ${address}, namespace "${settings.namespace}"]`;
    return err;
  }
  if ((err as Error).name === 'NamespaceNotFoundError') {
    return new UserError(
      `namespace "${settings.namespace}" does not exist on Temporal at ${address}: check --namespace or ` +
        'TEMPORAL_NAMESPACE (the dev server has "default")',
    );
  }
  return err;
}

/**
 * Runs `fn` with a client connected with the global flags, then closes the connection, so that a verb's process exits
 * as soon as its work is done instead of waiting for the gRPC channel to time out. Errors about the connection come
 * out naming the address.
 */
export async function withClient<T>(fn: (client: Client, settings: TemporalSettings) => Promise<T>): Promise<T> {
  const { connectClient, temporalSettings } = await import('../../node/connection');
  const settings = temporalSettings(overrides);
  const client = await connectClient(settings);
  try {
    return await fn(client, settings);
  } catch (err) {
    throw connectionError(err, settings);
  } finally {
    await client.connection.close();
  }
}

/**
 * Resolves after one turn of the event loop, by which the requests just made are on the wire: a module loaded after
 * it loads while the server answers them, not before they are sent (a CommonJS `import()` is a synchronous require).
 */
export function afterPendingIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** How long the check that both addresses are one server may take: loopback and LAN servers answer in milliseconds. */
const SAME_SERVER_TIMEOUT_MS = 1_000;
/**
 * The same for an HTTP API guessed next to the gRPC port (node/http-api.ts): shorter, since a program there that
 * accepts connections but is not Temporal would hold every read that long before it goes to gRPC.
 */
const GUESSED_TIMEOUT_MS = 300;

/**
 * Whether the HTTP API `api` is the gRPC address `grpc`'s own server: their cluster ids agree (node/server-identity.ts),
 * asked over gRPC or as found within the hour (node/same-server-cache.ts). `httpId` is the HTTP API's cluster id, asked
 * already; undefined when it did not answer as a Temporal server.
 */
async function sameServer(api: HttpApi, grpc: HostPort, httpId: Promise<string | undefined>): Promise<boolean> {
  const { rememberedClusterId, rememberSameServer } = await import('../../node/same-server-cache');
  const address = `${grpc.host}:${grpc.port}`;
  const remembered = rememberedClusterId(address, api.baseUrl);
  // A guessed address with nothing behind it is a refused connection in a millisecond, and a remembered pair needs only
  // the HTTP API's id: neither loads node:http2 for the gRPC call.
  if (api.guessed || remembered) {
    const id = await httpId;
    if (!id) return false;
    if (id === remembered) return true;
  }
  // node:http2 takes a few ms of CPU to load: once the reads are on the wire, the server's work covers them.
  await afterPendingIo();
  const { grpcClusterId } = await import('../../node/server-identity');
  const grpcId = await grpcClusterId(grpc, SAME_SERVER_TIMEOUT_MS);
  const same = grpcId !== undefined && grpcId === (await httpId);
  if (same) rememberSameServer(address, api.baseUrl, grpcId);
  return same;
}

/**
 * Runs a read-only `fn` over Temporal's HTTP API when `TEMPORAL_HTTP_ADDRESS` names it for a plain connection, or
 * when one answers next to the gRPC port (node/http-api.ts), without loading the SDK; undefined when the caller should read over gRPC instead: no HTTP API
 * known, a TLS or API-key connection, or any failure that is not the user's to fix (nothing answers there, a payload
 * only the SDK decodes, an error the server words differently over HTTP). `fn` only reads, so running it again over
 * gRPC repeats nothing, and the gRPC path's output and errors stay the reference.
 *
 * `fn` starts at once, while both addresses are asked whether they are one server, since that check is a round trip
 * `fn` need not wait for: what it read, or the error it met, is used only once they are; otherwise its calls are
 * abandoned and its outcome dropped.
 */
export async function overHttp<T>(fn: (reader: WorkflowReader) => Promise<T>): Promise<T | undefined> {
  const [{ envOnlyTarget }, { callHttpApi, httpApiFor }, { parseHostPort }] = await Promise.all([
    import('../../node/target-check'),
    import('../../node/http-api'),
    import('../../node/server-address'),
  ]);
  const target = envOnlyTarget(overrides) ?? (await import('../../node/connection-target')).connectionTarget(overrides);
  const api = httpApiFor(target, overrides);
  const grpc = parseHostPort(target.connectionOptions.address);
  if (!api || !grpc) return undefined;
  const { httpReader } = await import('../http-reader');
  const abandon = new AbortController();
  const read = fn(httpReader({ ...api, signal: abandon.signal })).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  // The HTTP API must be the gRPC address's own server; no gRPC server there, and the gRPC path says so in its words.
  const httpId = callHttpApi<{ clusterId?: string }>(api, '/cluster-info', {
    serverWide: true,
    timeoutMs: api.guessed ? GUESSED_TIMEOUT_MS : SAME_SERVER_TIMEOUT_MS,
  }).then(
    (info) => info.clusterId,
    () => undefined,
  );
  if (!(await sameServer(api, grpc, httpId))) {
    abandon.abort();
    return undefined;
  }
  const outcome = await read;
  if (outcome.ok) return outcome.value;
  const err = outcome.error;
  if (err instanceof UserError || (err as Error).name === 'NamespaceNotFoundError') {
    throw connectionError(err, target);
  }
  return undefined;
}
