/**
 * The one manager of tandem's local Temporal dev server, used by the CLI and by the tests: it starts
 * `temporal server start-dev` on a file-backed database (so runs survive a restart), or reuses a server that already
 * listens on the port, and in both cases makes sure tandem's search attributes are registered.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { TANDEM_SEARCH_ATTRIBUTES } from '../common/contract';
import { resolveTemporalCli } from './temporal-cli';
import { loadConfig } from '../node/config';
import { HTTP_PORT_OFFSET } from '../node/http-api';

/** A cold start on a new SQLite file takes a few seconds; 30 s leaves room for a loaded CI machine. */
const READY_TIMEOUT_MS = 30_000;
/** The dev server flushes SQLite and stops its services on SIGTERM, which normally takes well under a second. */
const STOP_TIMEOUT_MS = 10_000;
/** How many stderr lines an error message quotes: enough for a Go error and its context. */
const STDERR_TAIL_LINES = 20;

/** The CLI spells search attribute types in PascalCase (`--search-attribute KEY=KeywordList`). */
const CLI_TYPE_NAMES: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

const execFileAsync = promisify(execFile);

/** Options of {@link startDevServer}; every field has a default. */
export interface DevServerOptions {
  /**
   * gRPC port; default `TANDEM_DEV_PORT` or 7233. `0` asks for a free port, picked here (the returned `address` has
   * it) and picked again when another process takes it before the server binds it; a port given is never moved.
   */
  port?: number;
  /** Web UI port; default `TANDEM_UI_PORT` or 8233; `0` as for `port`. */
  uiPort?: number;
  /**
   * Port of the server's HTTP API (`--http-port`), which the CLI's `status` and `list` read through (node/http-api.ts);
   * default `0`: the gRPC port plus 10 when free, where the CLI finds it unasked, else a free port as for `port`.
   */
  httpPort?: number;
  /** Address to bind and connect to; default 127.0.0.1. */
  ip?: string;
  /**
   * SQLite file; default `<TANDEM_STATE_DIR or <project root>/.tandem>/temporal.db`. Its folder is created.
   * Like `headless`, it only applies when this call starts the server, not when it reuses one.
   */
  dbFile?: string;
  /** Start without the Web UI. */
  headless?: boolean;
  /** Server dynamic config, e.g. `{'limit.historyCount.suggestContinueAsNew': 300}` to test continue-as-new quickly. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Namespace to create and register search attributes in; default `default`. */
  namespace?: string;
  /** Receives each line the server prints; nothing is printed by default. */
  log?: (line: string) => void;
  /**
   * Which server already listening on the port may be used: `any` (tests share one server between processes), or
   * `own`, one this project's tandem started (its owner file in the state folder names a live process); anything
   * else on the port is a {@link PortTakenError}. Default `any`.
   */
  reuse?: 'any' | 'own';
}

/** A running dev server, started by {@link startDevServer} or found already listening. */
export interface DevServer {
  /** `ip:port` for `Connection.connect({ address })`. */
  address: string;
  /** The Web UI, or `null` when it is off (or, for a reused server, not listening on the UI port). */
  uiUrl: string | null;
  /** `ip:port` of its HTTP API, for `TEMPORAL_HTTP_ADDRESS`; `null` for a reused server tandem did not start here. */
  httpAddress: string | null;
  /** True when another process owns the server; `stop()` then leaves it running. */
  reused: boolean;
  /** Stops a server this call started (SIGTERM, then SIGKILL after 10 s); resolves once it has exited. */
  stop(): Promise<void>;
}

/** The dev server did not start, did not become ready, or refused tandem's search attributes. */
export class DevServerError extends Error {
  constructor(
    message: string,
    /** The server's last stderr lines, when it was started by us. */
    readonly stderr: readonly string[] = [],
  ) {
    super(stderr.length > 0 ? `${message}\nLast stderr lines:\n${stderr.join('\n')}` : message);
    this.name = 'DevServerError';
  }
}

/**
 * The port of `startDevServer({reuse: 'own'})` answers, but not as a server tandem started here: another Temporal
 * server (whose task queue a worker must not join) or another program.
 */
export class PortTakenError extends DevServerError {
  constructor(readonly port: number) {
    super(`port ${port} is taken by a server tandem did not start (another Temporal server, or another program)`);
    this.name = 'PortTakenError';
  }
}

/** What the owner file of a dev server tandem started says: its process and where it listens. */
interface OwnerRecord {
  pid: number;
  port: number;
  /** Absent in the files of servers started before tandem asked for an HTTP API port. */
  httpPort?: number;
}

const OWNER_FILE = /^dev-server-(\d+)\.json$/;

/** `<state dir>/dev-server-<port>.json`: written once the server answers, removed when it stops. */
function ownerFile(stateDir: string, port: number): string {
  return path.join(stateDir, `dev-server-${port}.json`);
}

/** True while `pid` names a process (signal 0 only checks; EPERM means it exists under another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(stateDir: string, port: number): OwnerRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(ownerFile(stateDir, port), 'utf8')) as OwnerRecord;
    return record.port === port && Number.isInteger(record.pid) && record.pid > 0 && isAlive(record.pid)
      ? record
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The ports of the dev servers tandem started from `stateDir` that still run, so a second `tandem dev` or `demo`
 * finds the first one even where it had to move off a taken default port. A stale file (its process gone) is skipped.
 */
export function ownServerPorts(stateDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(stateDir);
  } catch {
    return [];
  }
  return names
    .map((name) => OWNER_FILE.exec(name)?.[1])
    .filter((port): port is string => port !== undefined)
    .map(Number)
    .filter((port) => readOwner(stateDir, port) !== undefined);
}

/**
 * Starts a dev server, or reuses the one already accepting connections on `ip:port`, and resolves once it answers
 * gRPC and tandem's search attributes are registered.
 *
 * @throws PortTakenError with `reuse: 'own'`, when what listens on the port is not a server tandem started here.
 * @throws DevServerError when the server exits early, is not ready within 30 s, or rejects a search attribute.
 * @throws Error when no `temporal` CLI is found or a port variable is not a port number.
 */
export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const config = loadConfig();
  const cli = resolveTemporalCli();
  const ip = opts.ip ?? '127.0.0.1';
  const wanted: ServerPorts = {
    port: opts.port ?? config.devPort,
    uiPort: opts.uiPort ?? config.uiPort,
    httpPort: opts.httpPort ?? 0,
  };
  const namespace = opts.namespace ?? 'default';

  if (wanted.port !== 0 && (await isListening(ip, wanted.port))) {
    const port = wanted.port;
    const owner = readOwner(config.stateDir, port);
    if (opts.reuse === 'own' && !owner) throw new PortTakenError(port);
    // Another worker, CLI or test process started it: share it instead of failing on a taken port.
    await waitUntilReady(`${ip}:${port}`, () => undefined, []);
    await ensureSearchAttributes(cli, `${ip}:${port}`, namespace);
    const uiUrl = (await isListening(ip, wanted.uiPort)) ? `http://${ip}:${wanted.uiPort}` : null;
    const httpAddress = owner?.httpPort ? `${ip}:${owner.httpPort}` : null;
    return { address: `${ip}:${port}`, uiUrl, httpAddress, reused: true, stop: async () => {} };
  }

  const dbFile = path.resolve(opts.dbFile ?? path.join(config.stateDir, 'temporal.db'));
  mkdirSync(path.dirname(dbFile), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const ports = await pickPorts(wanted, ip, attempt);
    const started = await startOnPorts(cli, ip, ports, dbFile, namespace, opts);
    if (started.ok) {
      const { port, httpPort } = ports;
      const owner = ownerFile(config.stateDir, port);
      mkdirSync(config.stateDir, { recursive: true });
      writeFileSync(owner, JSON.stringify({ pid: started.server.pid, port, httpPort } satisfies OwnerRecord));
      const stop = async () => {
        await started.server.stop();
        rmSync(owner, { force: true });
      };
      const uiUrl = opts.headless ? null : `http://${ip}:${ports.uiPort}`;
      return { address: `${ip}:${port}`, uiUrl, httpAddress: `${ip}:${httpPort}`, reused: false, stop };
    }
    const taken = takenPort(started.error);
    // A port picked here (or one the CLI picks for its own services) was free a moment ago and another process took
    // it before the server bound it: that is freePort's race, not the user's mistake, so pick again. A port the
    // caller named stays theirs to change.
    const namedTaken = taken !== undefined && Object.values(wanted).includes(taken);
    if (taken === undefined || namedTaken || attempt >= PORT_ATTEMPTS) throw started.error;
  }
}

/** The ports a dev server listens on; `0` in {@link DevServerOptions} means "pick a free one". */
interface ServerPorts {
  port: number;
  uiPort: number;
  httpPort: number;
}

/** How often a start is tried on fresh ports when a port picked here was taken before the server bound it. */
const PORT_ATTEMPTS = 4;

/**
 * The ports to start on: those named, and free ones for the `0`s. The HTTP API goes next to the gRPC port
 * (`HTTP_PORT_OFFSET` above it, as a Temporal server's defaults have it) where that is free on the first attempt,
 * since that is where the CLI looks for it when `TEMPORAL_HTTP_ADDRESS` is unset (node/http-api.ts).
 */
async function pickPorts(wanted: ServerPorts, ip: string, attempt: number): Promise<ServerPorts> {
  const port = wanted.port || (await freePort());
  const uiPort = wanted.uiPort || (await freePort());
  const beside = port + HTTP_PORT_OFFSET;
  const besideFree = attempt === 1 && beside <= 65_535 && beside !== uiPort && !(await isListening(ip, beside));
  return { port, uiPort, httpPort: wanted.httpPort || (besideFree ? beside : await freePort()) };
}

type StartOutcome = { ok: true; server: ServerProcess } | { ok: false; error: DevServerError };

async function startOnPorts(
  cli: string,
  ip: string,
  ports: ServerPorts,
  dbFile: string,
  namespace: string,
  opts: DevServerOptions,
): Promise<StartOutcome> {
  const address = `${ip}:${ports.port}`;
  // No --dynamic-config-value for updates: CLI 1.9 (server 1.32) enables UpdateWorkflowExecution by default.
  const args = [
    'server',
    'start-dev',
    ...['--db-filename', dbFile, '--port', String(ports.port), '--ui-port', String(ports.uiPort), '--ip', ip],
    ...['--http-port', String(ports.httpPort)],
    ...['--namespace', namespace, '--log-level', 'warn'],
    ...TANDEM_SEARCH_ATTRIBUTES.flatMap(({ name, type }) => ['--search-attribute', `${name}=${CLI_TYPE_NAMES[type]}`]),
    ...(opts.headless ? ['--headless'] : []),
    ...Object.entries(opts.dynamicConfig ?? {}).flatMap(([key, value]) => [
      '--dynamic-config-value',
      `${key}=${JSON.stringify(value)}`,
    ]),
  ];
  const server = spawnServer(cli, args, opts.log ?? (() => {}));
  try {
    await waitUntilReady(address, server.exitReason, server.stderrTail);
    // --search-attribute only applies when the database file is new, so an existing file needs this too.
    await ensureSearchAttributes(cli, address, namespace);
    return { ok: true, server };
  } catch (error) {
    await server.stop();
    if (error instanceof DevServerError) return { ok: false, error };
    throw error;
  }
}

/** The port of a Go `listen tcp 127.0.0.1:PORT: bind: address already in use` in the error's stderr lines. */
function takenPort(error: DevServerError): number | undefined {
  for (const line of error.stderr) {
    const match = /listen tcp [^\s]*:(\d+): bind: address already in use/.exec(line);
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** Resolves true when something accepts TCP connections on `ip:port` (within 1 s). */
export function isListening(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: ip, port });
    const settle = (listening: boolean) => {
      socket.destroy();
      resolve(listening);
    };
    socket.setTimeout(1_000, () => settle(false));
    socket.once('connect', () => settle(true));
    socket.once('error', () => settle(false));
  });
}

/**
 * Returns a TCP port on 127.0.0.1 that was free a moment ago (the OS picks it), so that parallel tests can run
 * isolated servers. Another process may still take it before it is used.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

interface ServerProcess {
  /** Why the process is gone (e.g. "exited with code 1"), or undefined while it runs. */
  exitReason: () => string | undefined;
  stderrTail: string[];
  /** The server's process id, for its owner file. */
  pid: number;
  stop: () => Promise<void>;
}

function spawnServer(cli: string, args: string[], log: (line: string) => void): ServerProcess {
  // Not detached: the server stays in our process group, so a Ctrl-C in the terminal reaches it too. It is a single
  // process (the UI is built in), so signalling its pid is enough; signalling the group would also hit us.
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderrTail: string[] = [];
  let exitReason: string | undefined;

  // Both pipes must be drained for as long as the server runs, or it blocks once a pipe buffer fills.
  createInterface({ input: child.stdout }).on('line', log);
  createInterface({ input: child.stderr }).on('line', (line) => {
    log(line);
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
  });

  // If this Node process exits without calling stop() (an uncaught error, process.exit), take the server along.
  // A SIGKILL of Node cannot be caught; the server then keeps running until it is stopped by hand.
  const stopOnParentExit = () => child.kill('SIGTERM');
  process.on('exit', stopOnParentExit);

  const exited = new Promise<void>((resolve) => {
    const onGone = (reason: string) => {
      exitReason ??= reason;
      process.off('exit', stopOnParentExit);
      resolve();
    };
    child.once('error', (error) => onGone(`could not be run (${error.message})`));
    child.once('exit', (code, signal) => onGone(signal ? `was killed by ${signal}` : `exited with code ${code}`));
  });

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= terminate(child, exited));
  return { exitReason: () => exitReason, stderrTail, pid: child.pid ?? -1, stop };
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Polls GetSystemInfo until the frontend answers; fails fast if the process dies, and after 30 s. */
async function waitUntilReady(
  address: string,
  exitReason: () => string | undefined,
  stderrTail: readonly string[],
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const gone = exitReason();
    if (gone) {
      throw new DevServerError(
        `temporal server start-dev ${gone} before it answered on ${address}. ` +
          'If a port is taken, choose others with TANDEM_DEV_PORT and TANDEM_UI_PORT.',
        stderrTail,
      );
    }
    let lastError: string;
    try {
      await answersSystemInfo(address);
      return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      throw new DevServerError(
        `The Temporal server on ${address} did not answer within ${READY_TIMEOUT_MS / 1000} s ` +
          `(last error: ${lastError}). Check that it is a Temporal server, or stop it and try again.`,
        stderrTail,
      );
    }
    await sleep(200);
  }
}

async function answersSystemInfo(address: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    // A deadline, because the client's retry interceptor would otherwise keep retrying UNAVAILABLE for seconds.
    await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
  } finally {
    await connection.close();
  }
}

/**
 * Registers tandem's search attributes in `namespace` with the CLI (the dev server here, the cluster of
 * scripts/cluster.sh in dev/cluster-setup.ts); one call each, since older CLIs take a single `--type`.
 */
export async function ensureSearchAttributes(cli: string, address: string, namespace: string): Promise<void> {
  for (const { name, type } of TANDEM_SEARCH_ATTRIBUTES) {
    const cliType = CLI_TYPE_NAMES[type];
    const args = ['operator', 'search-attribute', 'create', '--name', name, '--type', cliType];
    // Explicit address and no config file or TEMPORAL_* variables: a user's Temporal Cloud profile (API key, TLS)
    // must not be applied to the local dev server.
    args.push('--address', address, '--namespace', namespace, '--disable-config-file', '--disable-config-env');
    try {
      await execFileAsync(cli, args);
    } catch (error) {
      const { stdout, stderr, message } = error as { stdout?: string; stderr?: string; message: string };
      const output = `${stderr ?? ''}${stdout ?? ''}`.trim() || message;
      // CLI 1.9 accepts an attribute that exists with the same type; older ones report "already exists".
      if (/already exists/i.test(output) && !/different type/i.test(output)) continue;
      throw new DevServerError(
        `Could not register search attribute ${name} (${cliType}) in namespace ${namespace} on ${address}: ${output}\n` +
          'If the attribute exists with another type, use a fresh database (TANDEM_STATE_DIR or dbFile) ' +
          `or remove it: temporal operator search-attribute remove --address ${address} --name ${name}`,
      );
    }
  }
}
