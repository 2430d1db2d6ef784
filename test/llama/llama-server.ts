/**
 * A real llama.cpp `llama-server` for the protocol suite: provisioned once per machine by scripts/provision-llama.sh
 * (a cache outside the clone, keyed by version and build flavour), serving SmolLM2-135M with llama.cpp's Qwen2.5 chat
 * template and `--jinja`, on a free loopback port. SmolLM2's own template drops the tools from the prompt; Qwen2.5's
 * renders them.
 *
 * A server that dies (a signal such as SIGILL from kernels the CPU does not run, or an exit) is reported at once with
 * how it ended and its last log lines: while it starts, instead of waiting out the health deadline, and afterwards
 * through `crashed` and `assertRunning()`, so a suite says why its requests are refused.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../dev/dev-server';

export interface LlamaServer {
  /** `http://127.0.0.1:PORT/v1`. */
  baseURL: string;
  /** Milliseconds from spawn to a healthy server (model loaded). */
  startupMs: number;
  /** The server's process id. */
  pid: number;
  /** The path of the binary that runs, `<cache>/bin/llama-server`. */
  binary: string;
  /** The server's log so far (stderr and stdout), for failure messages. */
  log(): string;
  /** Rejects, with the error `assertRunning` throws, as soon as the server ends by itself; never resolves. */
  crashed: Promise<never>;
  /** Throws a {@link LlamaServerDied} when the server has ended by itself. */
  assertRunning(): void;
  stop(): Promise<void>;
}

/** Options of {@link launchLlamaServer}. */
export interface LaunchOptions {
  /** The folder scripts/provision-llama.sh printed: `bin/llama-server`, `models/`, `templates/`. */
  cache: string;
  /** How long the model may take to load before the start counts as failed, in ms (default 120 000). */
  healthTimeoutMs?: number;
}

const ROOT = path.resolve(__dirname, '../..');
const MODEL = 'SmolLM2-135M-Instruct.Q4_1.gguf';
const TEMPLATE = 'Qwen-Qwen2.5-7B-Instruct.jinja';
/** Log lines quoted when the server dies: enough for the backtrace or the last thing it loaded. */
const LOG_TAIL_LINES = 25;
/** What a signal usually means for llama-server, so the message says what to do. */
const SIGNAL_HINTS: Partial<Record<NodeJS.Signals, string>> = {
  SIGILL:
    'an instruction this CPU does not run: the binary was built for another CPU (a native build); delete the ' +
    "cache's bin/ and run scripts/provision-llama.sh, whose builds use a portable instruction set",
  SIGKILL: 'killed from outside, often by the kernel when memory ran out (see dmesg)',
  SIGSEGV: 'a crash inside llama.cpp',
  SIGBUS: 'a crash inside llama.cpp, or a model file truncated while mapped',
};

/** llama-server ended by itself: how (exit code or signal) and the last lines of its log. */
export class LlamaServerDied extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly logTail: string,
    readonly during: 'startup' | 'run',
  ) {
    const how = signal
      ? `was killed by ${signal}${SIGNAL_HINTS[signal] ? ` (${SIGNAL_HINTS[signal]})` : ''}`
      : `exited with code ${exitCode}`;
    super(
      `llama-server ${how} ${during === 'startup' ? 'while starting' : 'while serving'}; its last log lines:\n${logTail}`,
    );
    this.name = 'LlamaServerDied';
  }
}

/**
 * Runs scripts/provision-llama.sh (a no-op once cached; a first build takes ~17 minutes, its progress on stderr) and
 * returns the cache folder it printed last.
 */
export function provisionLlama(): string {
  const lines = execFileSync('bash', [path.join(ROOT, 'scripts/provision-llama.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return lines.split('\n').at(-1)!;
}

/** Provisions llama-server ({@link provisionLlama}) and starts it. */
export async function startLlamaServer(): Promise<LlamaServer> {
  return launchLlamaServer({ cache: provisionLlama() });
}

/**
 * How many threads llama-server computes with: `LLAMA_ARG_THREADS` (llama.cpp's own variable, which the server reads
 * when no `-t` is given) when set, else one core fewer than the machine has. llama.cpp's threads wait for each other
 * at every step, so one that shares its core with the worker, Temporal or the test runner stalls all of them
 * (llama.cpp#11247): on this 2-core machine beside the suite, `-t 2` generated 1-8 tokens/s and `-t 1` 19-27
 * (docs/llama.md, "Threads").
 */
export function threadArgs(env: NodeJS.ProcessEnv): string[] {
  if (env.LLAMA_ARG_THREADS) return [];
  return ['-t', String(Math.max(1, os.availableParallelism() - 1))];
}

/**
 * Starts `bin/llama-server` from a provisioned cache and waits until `/health` answers. Rejects with a
 * {@link LlamaServerDied} the moment the process ends, or after `healthTimeoutMs` with the log so far.
 */
export async function launchLlamaServer(opts: LaunchOptions): Promise<LlamaServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchOnPort(opts, await freePort());
    } catch (error) {
      // The port was free a moment ago and another process took it before llama-server bound it (freePort's race):
      // pick again rather than fail the suite.
      const portTaken = error instanceof LlamaServerDied && /couldn't bind HTTP server socket/.test(error.logTail);
      if (!portTaken || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

/** How often a start is tried on a fresh port when the picked one was taken before llama-server bound it. */
const PORT_ATTEMPTS = 3;

async function launchOnPort({ cache, healthTimeoutMs = 120_000 }: LaunchOptions, port: number): Promise<LlamaServer> {
  const started = Date.now();
  const binary = path.join(cache, 'bin/llama-server');
  const child = spawn(
    binary,
    [
      ...['-m', path.join(cache, 'models', MODEL)],
      ...['--jinja', '--chat-template-file', path.join(cache, 'templates', TEMPLATE)],
      ...['--host', '127.0.0.1', '--port', String(port), '-c', '8192', '-np', '2'],
      ...threadArgs(process.env),
    ],
    { env: { ...process.env, LD_LIBRARY_PATH: path.join(cache, 'bin') }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const append = (data: Buffer) => (log = (log + data.toString()).slice(-20_000));
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const tail = () => log.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');

  let healthy = false;
  let stopping = false;
  let died: LlamaServerDied | undefined;
  // 'close' (not 'exit') so that the output the process wrote before it died is in the log.
  const closed = new Promise<void>((resolve) =>
    child.once('close', (code, signal) => {
      if (!stopping) died = new LlamaServerDied(code, signal, tail(), healthy ? 'run' : 'startup');
      if (died && healthy) process.stderr.write(`${died.message}\n`);
      resolve();
    }),
  );
  const spawnFailed = new Promise<never>((_, reject) => child.once('error', reject));
  spawnFailed.catch(() => undefined);
  const crashed = closed.then(() => {
    throw died ?? new Error('llama-server was stopped');
  });
  // Nobody may be listening when it dies; the rejection is read through assertRunning() too.
  crashed.catch(() => undefined);

  const deadline = started + healthTimeoutMs;
  const becameHealthy = (async () => {
    while (!died && Date.now() < deadline) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return true;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return false;
  })();
  const ok = await Promise.race([becameHealthy, crashed, spawnFailed]).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  if (!ok) {
    stopping = true;
    child.kill('SIGKILL');
    await closed;
    throw new Error(`llama-server not healthy after ${healthTimeoutMs / 1000} s; its last log lines:\n${tail()}`);
  }
  healthy = true;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    startupMs: Date.now() - started,
    pid: child.pid!,
    binary,
    log: () => log,
    crashed,
    assertRunning() {
      if (died) throw died;
    },
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await closed;
    },
  };
}
