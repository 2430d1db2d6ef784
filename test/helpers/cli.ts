/** Runs the real `tandem` CLI as a separate process and captures what a user would see. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

const BIN = path.resolve(__dirname, '../../bin/tandem.cjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tandem args...` to its end; `bin` may point at another copy of bin/tandem.cjs. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, bin = BIN): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Runs `tandem args...` with its stdout a pipe whose reader has already gone, as in `tandem watch ID | head -1` once
 * `head` has its line: every write fails with EPIPE. Resolves with the exit code and stderr.
 */
export function runCliIntoClosedPipe(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.destroy();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr })));
}

/** A long-running `tandem` process (`dev`, `worker`, a waiting `result`) whose output lines a test can wait for. */
export interface CliProcess {
  child: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  /** Every stderr line so far. */
  errorLines: string[];
  /**
   * Resolves with the first line of `stream` (stdout by default) matching `pattern`; rejects if the process exits or
   * `timeoutMs` passes.
   */
  waitForLine(pattern: RegExp, timeoutMs?: number, stream?: 'stdout' | 'stderr'): Promise<string>;
  /** Resolves when the process has exited, with its code and everything it wrote. */
  done(): Promise<CliRun>;
  /** Sends SIGINT (Ctrl-C) and resolves with the exit code. */
  interrupt(): Promise<number | null>;
}

export function spawnCli(args: string[], env: Record<string, string | undefined> = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const errorLines: string[] = [];
  const waiters: Array<() => void> = [];
  const collect = (into: string[]) => (line: string) => {
    into.push(line);
    for (const wake of waiters.splice(0)) wake();
  };
  createInterface({ input: child.stdout! }).on('line', collect(lines));
  createInterface({ input: child.stderr! }).on('line', collect(errorLines));
  // 'close' comes after both pipes have ended, so every line is in by then.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    lines,
    errorLines,
    waitForLine(pattern, timeoutMs = 60_000, stream = 'stdout') {
      const source = stream === 'stdout' ? lines : errorLines;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${stream} line matched ${pattern} in ${timeoutMs} ms:\n${source.join('\n')}`)),
          timeoutMs,
        );
        const check = () => {
          const found = source.find((line) => pattern.test(line));
          if (found !== undefined) {
            clearTimeout(timer);
            resolve(found);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`tandem exited (${child.exitCode}) first; stderr:\n${errorLines.join('\n')}`));
          } else waiters.push(check);
        };
        void exited.then(() => waiters.splice(0).forEach((wake) => wake()));
        check();
      });
    },
    async done() {
      const code = await exited;
      return { code: code ?? 1, stdout: lines.map((line) => `${line}\n`).join(''), stderr: errorLines.join('\n') };
    },
    async interrupt() {
      if (child.exitCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}
