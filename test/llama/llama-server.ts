/**
 * A real llama.cpp `llama-server` for the protocol suite: provisioned once per machine by scripts/provision-llama.sh
 * (a cache outside the clone, keyed by version), serving SmolLM2-135M with llama.cpp's Qwen2.5 chat template and
 * `--jinja`, on a free loopback port. SmolLM2's own template drops the tools from the prompt; Qwen2.5's renders them.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { freePort } from '../../dev/dev-server';

export interface LlamaServer {
  /** `http://127.0.0.1:PORT/v1`. */
  baseURL: string;
  /** Milliseconds from spawn to a healthy server (model loaded). */
  startupMs: number;
  /** The server's log so far (stderr and stdout), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '../..');

export async function startLlamaServer(): Promise<LlamaServer> {
  const lines = execFileSync('bash', [path.join(ROOT, 'scripts/provision-llama.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const cache = lines.split('\n').at(-1)!;
  const port = await freePort();
  const started = Date.now();
  const child: ChildProcess = spawn(
    path.join(cache, 'bin/llama-server'),
    [
      ...['-m', path.join(cache, 'models/SmolLM2-135M-Instruct.Q4_1.gguf')],
      ...['--jinja', '--chat-template-file', path.join(cache, 'templates/Qwen-Qwen2.5-7B-Instruct.jinja')],
      ...['--host', '127.0.0.1', '--port', String(port), '-c', '8192', '-np', '2', '-t', '2'],
    ],
    { env: { ...process.env, LD_LIBRARY_PATH: path.join(cache, 'bin') }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`llama-server exited (${child.exitCode}):\n${log}`);
    try {
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      if (health.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 120_000) throw new Error(`llama-server not healthy after 120 s:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    startupMs: Date.now() - started,
    log: () => log,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
