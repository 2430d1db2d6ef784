/**
 * Temporal's HTTP API: the frontend's gRPC service as JSON over HTTP (grpc-gateway, `/api/v1/...`), which the server
 * serves on its `frontend.httpPort` (7243 by default) and the dev server on `--http-port`. The CLI's read verbs
 * (`status`, `list`) use it where `TEMPORAL_HTTP_ADDRESS` names it or it is found next to the gRPC port, because a plain `node:http` request answers in a
 * few milliseconds while loading the SDK's gRPC client and protobuf definitions takes most of half a second.
 *
 * Payloads are asked for as they are (`application/json+no-payload-shorthand`): the server's shorthand re-encodes a
 * JSON payload through Go, which reorders keys and turns `[]` into `null`, and the output must be what the SDK reads.
 */
import { request as httpRequest } from 'node:http';
import { ConfigError } from './errors';
import type { ConnectionOverrides, ConnectionTarget } from './connection-target';
import { parseHostPort } from './server-address';

/** The environment variable that names the HTTP API: `host:port` or `http://host:port`. */
export const HTTP_ADDRESS_VARIABLE = 'TEMPORAL_HTTP_ADDRESS';

/** Where the HTTP API of the server and namespace the CLI was pointed at is. */
export interface HttpApi {
  /** `http://host:port`, no trailing slash. */
  baseUrl: string;
  namespace: string;
  /** The gRPC address the user named, which error messages name as the server asked. */
  address: string;
  /** Abandons every call made with it (client/commands/shared.ts reads before it knows the server is the right one). */
  signal?: AbortSignal;
  /** True when no variable named it: the gRPC port plus {@link HTTP_PORT_OFFSET}, which may be no HTTP API at all. */
  guessed?: boolean;
}

/**
 * How far the HTTP API's port is from the gRPC port where nothing says where it is: a Temporal server's frontend
 * serves gRPC on 7233 and HTTP on 7243 by default (`frontend.httpPort`), and `tandem dev` keeps that distance.
 */
export const HTTP_PORT_OFFSET = 10;

/**
 * The HTTP API to use for `target`, or undefined when the CLI should use gRPC.
 *
 * With `TEMPORAL_HTTP_ADDRESS` set: that address. The variable describes the server of the environment, so it is not
 * used for another one: not when `--address` or `--profile` points the command elsewhere, nor when its host is not
 * the gRPC address's host. Set and empty: none (gRPC only). Unset: the gRPC address's host at its port plus
 * {@link HTTP_PORT_OFFSET} (`guessed`), where a server with default ports and `tandem dev` serve it; the caller checks
 * that it is the same server before it reads there, so a guess that is wrong costs one refused connection.
 *
 * Never for a connection with TLS, an API key or a proxy, which tandem's HTTP reads do not implement (the SDK does
 * them all, so those connections keep its path).
 *
 * @throws ConfigError when the variable is set to something that is not `host:port` or `http://host:port`.
 */
export function httpApiFor(
  target: ConnectionTarget,
  flags: ConnectionOverrides,
  env: NodeJS.ProcessEnv = process.env,
): HttpApi | undefined {
  const { address, tls, apiKey, proxy } = target.connectionOptions;
  const grpc = parseHostPort(address);
  if (tls || apiKey || proxy || !grpc) return undefined;
  const value = env[HTTP_ADDRESS_VARIABLE]?.trim();
  if (value === undefined) {
    const port = grpc.port + HTTP_PORT_OFFSET;
    if (port > 65_535) return undefined;
    const host = grpc.host.includes(':') ? `[${grpc.host}]` : grpc.host;
    return { baseUrl: `http://${host}:${port}`, namespace: target.namespace, address, guessed: true };
  }
  if (!value) return undefined;
  const hostPort = value.replace(/^http:\/\//, '').replace(/\/$/, '');
  const http = parseHostPort(hostPort);
  if (!http) throw new ConfigError(HTTP_ADDRESS_VARIABLE, value, "the HTTP API's host:port (e.g. 127.0.0.1:7243)");
  if (flags.address !== undefined || flags.profile !== undefined) return undefined;
  if (grpc.host !== http.host) return undefined;
  return { baseUrl: `http://${hostPort}`, namespace: target.namespace, address };
}

/** The HTTP API did not answer as one (nothing listens, a timeout at connect, not Temporal): use gRPC instead. */
export class HttpApiUnavailable extends Error {
  override name = 'HttpApiUnavailable';
}

/**
 * An error the server returned, with its gRPC status code and words, as the SDK's errors carry them (`code`,
 * `details`), so that code that reads a gRPC status reads this one the same way (node/errors.ts `grpcStatusOf`).
 */
export class HttpApiError extends Error {
  override name = 'HttpApiError';
  constructor(
    readonly code: number,
    readonly details: string,
    /** The `@type` of each error detail, e.g. `type.googleapis.com/temporal.api.errordetails.v1.NotFoundFailure`. */
    readonly detailTypes: string[],
  ) {
    super(`${code} ${details}`);
  }
}

/** The call ran past its deadline (a query that no worker answered in time). */
export class HttpApiDeadlineExceeded extends Error {
  override name = 'HttpApiDeadlineExceeded';
}

/** The gRPC status the gateway returns as JSON: `{code, message, details: [{"@type": ...}]}`. */
interface StatusBody {
  code?: number;
  message?: string;
  details?: Array<{ '@type'?: string }>;
}

/** How long one call may take when the caller gives no deadline: reads of a few events answer in milliseconds. */
const CALL_TIMEOUT_MS = 10_000;

/** The status and body of one HTTP exchange. */
interface HttpAnswer {
  status: number;
  text: string;
}

/**
 * One request on `node:http`. Not `fetch`: Node's `fetch` loads undici and compiles its HTTP parser to WebAssembly on
 * its first call, which took 200-370 ms of a CLI process on the loaded 2-core machine, against 30-60 ms here.
 */
function exchange(
  url: URL,
  method: 'GET' | 'POST',
  body: string | undefined,
  signal: AbortSignal,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { accept: 'application/json+no-payload-shorthand' };
    if (body !== undefined)
      Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const request = httpRequest(url, { method, headers, signal }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * One call of the HTTP API: `GET` with `params` as the query string, or `POST` with `body` as JSON. Resolves with the
 * response's JSON.
 *
 * @throws HttpApiUnavailable when nothing answers as Temporal's HTTP API does; HttpApiError with the server's status
 *   when it refuses the call; HttpApiDeadlineExceeded past `timeoutMs`.
 */
export async function callHttpApi<T>(
  api: HttpApi,
  path: string,
  opts: {
    params?: Record<string, string | number | undefined>;
    body?: unknown;
    timeoutMs?: number;
    /** A path of the whole server (`/cluster-info`), not under the namespace. */
    serverWide?: boolean;
    /** Abandons this call (with the api's own signal, which abandons every call). */
    signal?: AbortSignal;
  } = {},
): Promise<T> {
  const scope = opts.serverWide ? '' : `/namespaces/${encodeURIComponent(api.namespace)}`;
  const url = new URL(`${api.baseUrl}/api/v1${scope}${path}`);
  for (const [name, value] of Object.entries(opts.params ?? {})) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  const deadline = AbortSignal.timeout(opts.timeoutMs ?? CALL_TIMEOUT_MS);
  const signals = [deadline, ...(api.signal ? [api.signal] : []), ...(opts.signal ? [opts.signal] : [])];
  const signal = signals.length > 1 ? AbortSignal.any(signals) : deadline;
  let answer: HttpAnswer;
  try {
    answer =
      opts.body === undefined
        ? await exchange(url, 'GET', undefined, signal)
        : await exchange(url, 'POST', JSON.stringify(opts.body), signal);
  } catch (err) {
    if (deadline.aborted) throw new HttpApiDeadlineExceeded(`${url.pathname}: no answer in time`);
    throw new HttpApiUnavailable(`${api.baseUrl}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    // A plain-text answer ("404 page not found"): an HTTP server, but not Temporal's HTTP API, or an old server.
    throw new HttpApiUnavailable(`${api.baseUrl} answered ${answer.status} ${answer.text.slice(0, 80)}`);
  }
  if (answer.status >= 200 && answer.status < 300) return parsed as T;
  const status = parsed as StatusBody;
  if (typeof status.code !== 'number') throw new HttpApiUnavailable(`${api.baseUrl} answered ${answer.status}`);
  const detailTypes = (status.details ?? []).map((detail) => detail['@type'] ?? '');
  throw new HttpApiError(status.code, status.message ?? '', detailTypes);
}

/** A payload as the HTTP API sends it without shorthand: metadata values and data in base64. */
export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

function fromBase64(text: string | undefined): string {
  return Buffer.from(text ?? '', 'base64').toString('utf8');
}

/**
 * The value of a payload as the SDK's default converter decodes it: `json/plain` parsed, `binary/null` undefined.
 *
 * @throws HttpApiUnavailable for any other encoding (a codec's, protobuf): the SDK path knows what to do with it.
 */
export function payloadValue(payload: JsonPayload | undefined): unknown {
  if (!payload) return undefined;
  const encoding = fromBase64(payload.metadata?.encoding);
  if (encoding === 'binary/null') return undefined;
  if (encoding === 'json/plain') return JSON.parse(fromBase64(payload.data)) as unknown;
  throw new HttpApiUnavailable(`a payload encoded as "${encoding}", which only the SDK's data converter reads`);
}

/** The `type` metadata of a search attribute's payload (`Text`, `Keyword`, `Int`, ...). */
export function payloadType(payload: JsonPayload | undefined): string | undefined {
  return payload?.metadata?.type === undefined ? undefined : fromBase64(payload.metadata.type);
}

/**
 * An RFC 3339 time (`2026-12-02T10:14:52.116520764Z`) as an ISO string with milliseconds, the nanoseconds rounded
 * (`round`) or cut (`floor`) to the millisecond as the SDK does for the same field, so both paths print one time.
 */
export function isoOfTimestamp(text: string, rounding: 'round' | 'floor'): string {
  const found = /^(.*?:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!found) return new Date(text).toISOString();
  const nanos = Number((found[2] ?? '').padEnd(9, '0').slice(0, 9));
  const millis = rounding === 'round' ? Math.round(nanos / 1e6) : Math.floor(nanos / 1e6);
  return new Date(Date.parse(`${found[1]}${found[3]}`) + millis).toISOString();
}
