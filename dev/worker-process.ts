/**
 * A tandem worker in a separate OS process (`tandem worker`), so a test can SIGKILL it the way a crash or an OOM kill
 * would, and start another one to pick the work up; the bench's cluster section starts its workers the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { findProjectRoot } from '../node/project-root';

const BIN = path.join(findProjectRoot(__dirname), 'bin/tandem.cjs');

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything the worker printed, for a failing test's message. */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * How the worker's node process is started. `exec` is a program that ends by exec'ing its arguments in the same
 * process (`unshare --net`), so the worker keeps the child's pid (its identity `pid@host`) and a kill reaches it;
 * `nodeArgs` go before the script (`--require` a preload).
 */
export interface WorkerLaunch {
  exec?: string[];
  nodeArgs?: string[];
}

/** Starts `tandem worker` with the given env and resolves once it polls its task queue. */
export async function startWorkerProcess(
  env: Record<string, string>,
  launch: WorkerLaunch = {},
): Promise<WorkerProcess> {
  const command = [...(launch.exec ?? []), process.execPath, ...(launch.nodeArgs ?? []), BIN, 'worker'];
  const child = spawn(command[0], command.slice(1), {
    env: { ...process.env, TANDEM_LOG_LEVEL: 'WARN', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (output.includes('tandem worker: task queue')) {
        clearInterval(poll);
        resolve();
      } else if (child.exitCode !== null || Date.now() - started > 60_000) {
        clearInterval(poll);
        reject(new Error(`tandem worker did not start:\n${output}`));
      }
    }, 100);
  });
  return {
    child,
    output: () => output,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
