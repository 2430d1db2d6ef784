/**
 * How long the CLI takes from a cold process: `tandem --version`, `tandem status ID`, and the Temporal CLI's
 * `temporal workflow describe` on the same goal. Runs whatever `bin/tandem.cjs` is (from source through tsx today,
 * compiled ahead of time if the CLI is built), each command several times, and keeps the median.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { resolveTemporalCli } from '../dev/temporal-cli';
import { percentile } from './stats';

const TANDEM_BIN = path.join(__dirname, '..', 'bin', 'tandem.cjs');
const RUNS = 5;

/** Median wall time of one command, and whether it exited 0 every time. */
export interface CommandTiming {
  command: string;
  medianMs: number;
  ok: boolean;
}

function timeOnce(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; ok: boolean }> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 60_000 }, (error) => resolve({ ms: performance.now() - started, ok: !error }));
  });
}

async function timeCommand(label: string, file: string, args: string[], env: NodeJS.ProcessEnv) {
  const runs: Array<{ ms: number; ok: boolean }> = [];
  for (let i = 0; i < RUNS; i++) runs.push(await timeOnce(file, args, env));
  return {
    command: label,
    medianMs: percentile(
      runs.map((run) => run.ms),
      50,
    ),
    ok: runs.every((run) => run.ok),
  };
}

/** Times the three commands against the goal `goalId` on the server at `address`. */
export async function timeCli(address: string, goalId: string): Promise<Record<string, CommandTiming>> {
  const env = { ...process.env, TEMPORAL_ADDRESS: address };
  return {
    version: await timeCommand('tandem --version', process.execPath, [TANDEM_BIN, '--version'], env),
    status: await timeCommand(`tandem status ID`, process.execPath, [TANDEM_BIN, 'status', goalId], env),
    temporalDescribe: await timeCommand(
      'temporal workflow describe -w ID',
      resolveTemporalCli(),
      ['workflow', 'describe', '-w', goalId, '--address', address],
      env,
    ),
  };
}
